/**
 * The decision lane (api/routes/data-lane.ts) answers plain `POST /v1/data/...` requests past
 * Express. Here every kind of such request, good and bad, goes to two servers over the same
 * database, decision service and keys: one with the lane, one without it (the Express data
 * router). Both must answer alike: status, problem code and detail, result, and the headers a
 * client or browser reads. Requests the lane must leave to Express are checked to reach it.
 */
import http from 'node:http';
import { Socket, type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { createApp, jsonBodyLimit, type AppDependencies } from '../../api/app';
import { openDatabase, type Database } from '../../api/db/database';
import { migrateUp } from '../../api/db/migrator';
import { RateLimits } from '../../api/middleware/rate-limit';
import { takesRequest } from '../../api/routes/data-lane';
import { ApiKeyService } from '../../api/services/api-keys';
import { createAuditWriter, type AuditWriter } from '../../api/services/audit';
import { loadActiveBundles } from '../../api/services/bundles';
import { MemoryCache } from '../../api/services/cache/memory';
import { openDecisions, type DecisionStack } from '../../api/services/decisions';
import { buildExample, storeActiveVersion } from './helpers/bundles';
import {
  createTestDatabase,
  silentLogger,
  tempDir,
  testConfig,
  type TestDatabase,
} from './helpers/services';

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let database: TestDatabase;
let db: Database;
let audit: AuditWriter;
let stack: DecisionStack;
let spool: { path: string; remove: () => void };
let cache: MemoryCache;
let apiKeys: ApiKeyService;
let key = '';
let noScopeKey = '';
const servers: http.Server[] = [];
let withLane = '';
let withoutLane = '';

async function listen(deps: AppDependencies): Promise<string> {
  const server = http.createServer(createApp(deps));
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A request with exactly these headers and body bytes (no client adds or changes any). */
function raw(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, {
      method: options.method ?? 'POST',
      headers: options.headers ?? {},
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
      });
    });
    req.end(options.body);
  });
}

/** What both servers must agree on: ids and dates vary, and only Express sends an ETag. */
function comparable(answer: Raw): Record<string, unknown> {
  const parsed = answer.body === '' ? undefined : (JSON.parse(answer.body) as unknown);
  const body =
    typeof parsed === 'object' && parsed !== null
      ? Object.fromEntries(
          Object.entries(parsed).filter(([name]) => name !== 'decision_id' && name !== 'requestId'),
        )
      : parsed;
  const headers = Object.fromEntries(
    Object.entries(answer.headers).filter(
      ([name]) =>
        ![
          'date',
          'etag',
          'x-request-id',
          'content-length',
          'keep-alive',
          'connection',
          // Each server's window starts at its own first request.
          'ratelimit-reset',
        ].includes(name),
    ),
  );
  return { status: answer.status, headers, body };
}

const json = (body: unknown): string => JSON.stringify(body);
const bearer = (token: string): Record<string, string> => ({
  authorization: `Bearer ${token}`,
  'content-type': 'application/json',
});
const nested = (depth: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
};
const aliceReads = {
  subject: { id: 'alice', tenant: 'acme' },
  action: 'read',
  resource: { type: 'document', id: 'd1', tenant: 'acme', owner: 'bob' },
};

beforeAll(async () => {
  database = await createTestDatabase('data_lane');
  db = await openDatabase(testConfig({ DATABASE_URL: database.url }), silentLogger);
  await migrateUp(db);
  spool = tempDir('data-lane');
  audit = await createAuditWriter({
    knex: db.knex,
    dataDir: spool.path,
    logger: silentLogger,
    flushIntervalMs: 20,
  });
  cache = new MemoryCache({ logger: silentLogger });
  const config = testConfig({});
  stack = await openDecisions({
    knex: db.knex,
    cache,
    audit,
    logger: silentLogger,
    loadActiveBundles,
    config,
  });
  apiKeys = new ApiKeyService({ knex: db.knex, logger: silentLogger });
  const [tenant] = await db
    .knex('tenants')
    .insert({ slug: 'acme', name: 'acme' })
    .returning<{ id: string }[]>('id');
  const tenantId = (tenant as { id: string }).id;
  key = (await apiKeys.create(tenantId, { name: 'app', scopes: ['decide'] })).plainKey;
  noScopeKey = (await apiKeys.create(tenantId, { name: 'ci', scopes: ['bundles:write'] })).plainKey;
  await storeActiveVersion(db.knex, tenantId, 'rbac', '1.0.0', await buildExample('rbac'));

  withLane = await listen(appDeps(true, 1000));
  withoutLane = await listen(appDeps(false, 1000));
});

/**
 * Each server counts its own rate limits (`points` decisions per minute per key), so the two
 * see the same sequence of allowances.
 */
function appDeps(lane: boolean, points: number): AppDependencies {
  return {
    logger: silentLogger,
    db,
    cache,
    isShuttingDown: () => false,
    apiKeys,
    decisions: { service: stack.service, maxInputDepth: 8 },
    edges: {
      corsOrigins: ['https://console.example'],
      bodyLimits: { maxDepth: 12, maxMembers: 50 },
      rateLimits: {
        limits: new RateLimits({ store: { kind: 'memory' }, logger: silentLogger }),
        rules: {
          ip: undefined,
          decisions: { points, durationSeconds: 60 },
          admin: undefined,
          authIp: undefined,
          authAccount: undefined,
        },
      },
    },
    decisionLane: lane,
  };
}

afterAll(async () => {
  for (const server of servers) server.close();
  await stack.stop();
  await audit.close();
  await db.close();
  await database.drop();
  spool.remove();
});

const cases: {
  name: string;
  path?: string;
  headers: () => Record<string, string>;
  body?: Buffer | string;
}[] = [
  { name: 'an allowed decision', headers: () => bearer(key), body: json({ input: aliceReads }) },
  {
    name: 'a denied decision',
    headers: () => bearer(key),
    body: json({ input: { ...aliceReads, action: 'delete' } }),
  },
  {
    name: 'an undefined path',
    path: '/v1/data/rbac/nothing_here',
    headers: () => bearer(key),
    body: json({ input: aliceReads }),
  },
  { name: 'a whole package', path: '/v1/data/rbac', headers: () => bearer(key), body: '{}' },
  {
    name: 'empty segments',
    path: '/v1/data//rbac//allow/',
    headers: () => bearer(key),
    body: json({ input: aliceReads }),
  },
  { name: 'no input', headers: () => bearer(key), body: '{}' },
  { name: 'a null input', headers: () => bearer(key), body: '{"input": null}' },
  { name: 'an empty body', headers: () => bearer(key), body: '' },
  {
    name: 'a body declared empty',
    headers: () => ({ ...bearer(key), 'content-length': '0' }),
    body: '',
  },
  {
    name: 'UTF-8 charset',
    headers: () => ({ ...bearer(key), 'content-type': 'Application/JSON; charset=UTF-8' }),
    body: json({ input: aliceReads }),
  },
  {
    name: 'a byte-order mark',
    headers: () => bearer(key),
    body: `\uFEFF${json({ input: aliceReads })}`,
  },
  { name: 'no key', headers: () => ({ 'content-type': 'application/json' }), body: '{}' },
  {
    name: 'a malformed key',
    headers: () => ({ authorization: 'Bearer nope', 'content-type': 'application/json' }),
    body: '{}',
  },
  {
    name: 'an unknown key',
    headers: () => bearer(`${key.slice(0, -4)}AAAA`),
    body: '{}',
  },
  { name: 'a key without the decide scope', headers: () => bearer(noScopeKey), body: '{}' },
  { name: 'broken JSON', headers: () => bearer(key), body: '{"input": ' },
  { name: 'a JSON string', headers: () => bearer(key), body: '"input"' },
  { name: 'a JSON number', headers: () => bearer(key), body: ' 42' },
  { name: 'a JSON array', headers: () => bearer(key), body: '[1, 2]' },
  {
    name: 'an array without a key',
    headers: () => ({ 'content-type': 'application/json' }),
    body: '[]',
  },
  { name: 'a body nested too deep', headers: () => bearer(key), body: json(nested(13)) },
  {
    name: 'an input nested too deep',
    headers: () => bearer(key),
    body: json({ input: nested(9) }),
  },
  {
    name: 'too many members',
    headers: () => bearer(key),
    body: json({ input: Array.from({ length: 60 }, (_, i) => i) }),
  },
  {
    name: 'a body over the byte limit',
    headers: () => bearer(key),
    body: json({ input: 'x'.repeat(jsonBodyLimit) }),
  },
  // OPA's SDKs ask with `Accept: application/json`, and read problems only under that type.
  {
    name: 'no key, asked as OPA SDKs ask',
    headers: () => ({ 'content-type': 'application/json', accept: 'application/json' }),
    body: '{}',
  },
  {
    name: 'broken JSON, asked as OPA SDKs ask',
    headers: () => ({ ...bearer(key), accept: 'application/json' }),
    body: '{"input": ',
  },
  {
    name: 'an allowed decision, asked as OPA SDKs ask',
    headers: () => ({ ...bearer(key), accept: 'application/json' }),
    body: json({ input: aliceReads }),
  },
  {
    name: 'broken JSON, asked for as either JSON type',
    headers: () => ({ ...bearer(key), accept: 'application/json, application/problem+json' }),
    body: '{"input": ',
  },
  {
    name: 'invalid UTF-8',
    headers: () => bearer(key),
    body: Buffer.concat([
      Buffer.from('{"input": {"name": "'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}}'),
    ]),
  },
];

describe('the decision lane answers as the Express route does', () => {
  it.each(cases)('$name', async (testCase) => {
    const path = testCase.path ?? '/v1/data/rbac/allow';
    const options = {
      headers: testCase.headers(),
      ...(testCase.body === undefined ? {} : { body: testCase.body }),
    };
    const [fromLane, fromExpress] = await Promise.all([
      raw(withLane, path, options),
      raw(withoutLane, path, options),
    ]);
    expect(comparable(fromLane)).toEqual(comparable(fromExpress));
    expect(fromLane.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    // The request the lane saw was one it takes: the comparison is lane against Express.
    expect(fromLane.headers.etag).toBeUndefined();
    expect(fromExpress.headers.etag ?? fromExpress.status).toBeDefined();
  });

  it('refuses past the decision rate limit alike', async () => {
    const [lane, express] = await Promise.all([
      listen(appDeps(true, 2)),
      listen(appDeps(false, 2)),
    ]);
    const options = { headers: bearer(key), body: json({ input: aliceReads }) };
    for (let i = 0; i < 2; i++) {
      expect((await raw(lane, '/v1/data/rbac/allow', options)).status).toBe(200);
      expect((await raw(express, '/v1/data/rbac/allow', options)).status).toBe(200);
    }
    const [fromLane, fromExpress] = [
      await raw(lane, '/v1/data/rbac/allow', options),
      await raw(express, '/v1/data/rbac/allow', options),
    ];
    expect(fromLane.status).toBe(429);
    // The seconds to wait are counted on each server's own clock; the rest must be equal.
    const seconds = (answer: Raw): Raw => ({
      ...answer,
      headers: { ...answer.headers, 'retry-after': 'n' },
      body: answer.body
        .replace(/after \d+ s\./, 'after n s.')
        .replace(/"retryAfterSeconds":\d+/, '"retryAfterSeconds":0'),
    });
    expect(fromLane.headers['retry-after']).toMatch(/^\d+$/);
    expect(comparable(seconds(fromLane))).toEqual(comparable(seconds(fromExpress)));
  });

  it('answers a client that accepts only application/json with the problem as that type', async () => {
    for (const base of [withLane, withoutLane]) {
      const answer = await raw(base, '/v1/data/rbac/allow', {
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: '{}',
      });
      expect(answer.status).toBe(401);
      expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
      const body = JSON.parse(answer.body) as Record<string, unknown>;
      expect(body).toMatchObject({ code: 'unauthorized', status: 401 });
      expect(body.message).toBe(body.detail);
    }
  });

  it('keeps a sane caller request id and echoes it', async () => {
    const answer = await raw(withLane, '/v1/data/rbac/allow', {
      headers: { ...bearer(key), 'x-request-id': 'trace-42' },
      body: '{}',
    });
    expect(answer.headers['x-request-id']).toBe('trace-42');
  });

  it('closes the connection after refusing a body it did not read', async () => {
    const answer = await raw(withLane, '/v1/data/rbac/allow', {
      headers: { ...bearer(key), 'content-length': String(jsonBodyLimit + 1) },
      body: 'x'.repeat(jsonBodyLimit + 1),
    });
    expect(answer.status).toBe(413);
    expect(answer.headers.connection).toBe('close');
  });
});

describe('requests the lane leaves to Express', () => {
  const message = (
    method: string,
    url: string,
    headers: Record<string, string>,
  ): http.IncomingMessage => {
    const req = new http.IncomingMessage(new Socket());
    req.method = method;
    req.url = url;
    req.headers = headers;
    return req;
  };
  const plain = { 'content-type': 'application/json' };

  it.each([
    ['GET', '/v1/data/rbac/allow', plain],
    ['POST', '/v1/batch/data/rbac/allow', plain],
    ['POST', '/v1/data', plain],
    ['POST', '/V1/DATA/rbac/allow', plain],
    ['POST', '/v1/data/rbac/allow?metrics=true', plain],
    ['POST', '/v1/data/rb%61c/allow', plain],
    ['POST', '/v1/data/rbac/allow', { ...plain, origin: 'https://console.example' }],
    ['POST', '/v1/data/rbac/allow', { ...plain, 'content-encoding': 'gzip' }],
    ['POST', '/v1/data/rbac/allow', { 'content-type': 'text/plain' }],
    ['POST', '/v1/data/rbac/allow', { 'content-type': 'application/json; charset=latin1' }],
    ['POST', '/v1/data/rbac/allow', {}],
  ])('%s %s %j', (method, url, headers) => {
    expect(takesRequest(message(method, url, headers))).toBe(false);
  });

  it('takes the plain form', () => {
    expect(takesRequest(message('POST', '/v1/data/rbac/allow', plain))).toBe(true);
    expect(
      takesRequest(
        message('POST', '/v1/data/rbac/allow', {
          'content-type': 'application/json;charset=utf-8',
        }),
      ),
    ).toBe(true);
  });

  it('answers a CORS request and a query string through Express, as before', async () => {
    const fromBrowser = await raw(withLane, '/v1/data/rbac/allow?metrics=true', {
      headers: { ...bearer(key), origin: 'https://console.example' },
      body: json({ input: aliceReads }),
    });
    expect(fromBrowser.status).toBe(200);
    expect(fromBrowser.headers['access-control-allow-origin']).toBe('https://console.example');
    const body = JSON.parse(fromBrowser.body) as { result: boolean; metrics: object };
    expect(body.result).toBe(true);
    expect(body.metrics).toHaveProperty('timer_rego_query_eval_ns');
  });
});
