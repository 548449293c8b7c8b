/**
 * The decision API end to end on the real Postgres and Redis: bundles stored as a tenant's
 * active versions, decisions over HTTP in OPA's shapes (single, GET, batch), the two-level
 * cache, a swap to a new revision under a stream of decisions, the audit rows with their
 * chain, strict audit, policies that fail or run away, and every kind of bad request.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import request from 'supertest';
import { createApp, type VerdictApp } from '../../api/app';
import { openDatabase, type Database } from '../../api/db/database';
import { migrateUp } from '../../api/db/migrator';
import { ApiKeyService } from '../../api/services/api-keys';
import { createAuditWriter, verifyChain, type AuditWriter } from '../../api/services/audit';
import { loadActiveBundles } from '../../api/services/bundles';
import type { CacheStore } from '../../api/services/cache';
import { RedisCache } from '../../api/services/cache/redis';
import { activationChannel, openDecisions, type DecisionStack } from '../../api/services/decisions';
import { buildExample, buildRego, storeActiveVersion, type StoredVersion } from './helpers/bundles';
import {
  createTestDatabase,
  redisUrl,
  silentLogger,
  tempDir,
  testConfig,
  uniqueName,
  type TestDatabase,
} from './helpers/services';

interface Problem {
  code: string;
  status: number;
  detail: string;
  type: string;
  policyError?: string;
  maxInputDepth?: number;
}

interface Answer {
  result?: unknown;
  decision_id: string;
  metrics?: Record<string, number>;
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const carolUpdates = {
  subject: { id: 'carol', tenant: 'acme' },
  action: 'update',
  resource: { type: 'document', id: 'd1', tenant: 'acme', owner: 'bob' },
};
const aliceReads = {
  subject: { id: 'alice', tenant: 'acme' },
  action: 'read',
  resource: { type: 'document', id: 'd1', tenant: 'acme', owner: 'bob' },
  password: 'never-logged',
};

let database: TestDatabase;
let db: Database;
let cache: CacheStore;
let audit: AuditWriter;
let stack: DecisionStack;
let apiKeys: ApiKeyService;
let app: VerdictApp;
let spool: { path: string; remove: () => void };
let tenantId: string;
let strictTenantId: string;
let key: string;
let strictKey: string;
let noScopeKey: string;
let rbacV1: StoredVersion;

const limitsPolicy = `package limits

import rego.v1

spin if {
	some i in numbers.range(1, 2000)
	some j in numbers.range(1, 2000)
	i * j < 0
}

conflict := 1 if input.a
conflict := 2 if input.b

ok := true
`;

async function createTenant(slug: string, auditStrict = false): Promise<string> {
  const [row] = await db
    .knex('tenants')
    .insert({ slug, name: slug, audit_strict: auditStrict })
    .returning<{ id: string }[]>('id');
  return (row as { id: string }).id;
}

beforeAll(async () => {
  database = await createTestDatabase('decisions');
  db = await openDatabase(testConfig({ DATABASE_URL: database.url }), silentLogger);
  await migrateUp(db);
  cache = await RedisCache.connect({
    url: redisUrl,
    keyPrefix: `${uniqueName('decisions')}:`,
    logger: silentLogger,
  });
  spool = tempDir('decisions');
  audit = await createAuditWriter({
    knex: db.knex,
    dataDir: spool.path,
    logger: silentLogger,
    flushIntervalMs: 20,
  });
  const config = testConfig({
    VERDICT_ENGINE_STEP_BUDGET: '200000',
    VERDICT_MAX_INPUT_DEPTH: '64',
  });
  stack = await openDecisions({
    knex: db.knex,
    cache,
    audit,
    logger: silentLogger,
    loadActiveBundles,
    config,
  });
  apiKeys = new ApiKeyService({ knex: db.knex, logger: silentLogger });
  app = createApp({
    logger: silentLogger,
    db,
    cache,
    isShuttingDown: () => false,
    apiKeys,
    decisions: { service: stack.service, maxInputDepth: config.maxInputDepth },
  });

  tenantId = await createTenant('acme');
  strictTenantId = await createTenant('strict', true);
  key = (await apiKeys.create(tenantId, { name: 'app', scopes: ['decide'] })).plainKey;
  strictKey = (await apiKeys.create(strictTenantId, { name: 'app', scopes: ['decide'] })).plainKey;
  noScopeKey = (await apiKeys.create(tenantId, { name: 'ci', scopes: ['bundles:write'] })).plainKey;

  const rbac = await buildExample('rbac', { cache: 'on', mask: ['/input/password'] });
  rbacV1 = await storeActiveVersion(db.knex, tenantId, 'rbac', '1.0.0', rbac);
  await storeActiveVersion(db.knex, strictTenantId, 'rbac', '1.0.0', rbac);
  const limits = await buildRego(limitsPolicy, {
    roots: ['limits'],
    entrypoints: ['limits/spin', 'limits/conflict', 'limits/ok'],
    cache: 'off',
  });
  await storeActiveVersion(db.knex, tenantId, 'limits', '1.0.0', limits);
});

afterAll(async () => {
  await stack.stop();
  await audit.close();
  await apiKeys.flush();
  await cache.close();
  await db.close();
  await database.drop();
  spool.remove();
});

function decide(path: string, body: unknown, bearer = key): request.Test {
  return request(app)
    .post(`/v1/data/${path}`)
    .set('Authorization', `Bearer ${bearer}`)
    .send(body as object);
}

function expectProblem(res: request.Response, status: number, code: string): Problem {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.body as Problem;
  expect(body.code).toBe(code);
  expect(body.type).toBe(`urn:verdict:problem:${code}`);
  return body;
}

async function auditRow(decisionId: string): Promise<Record<string, unknown>> {
  await audit.flush();
  const row = (await db.knex('decisions').where({ decision_id: decisionId }).first()) as
    Record<string, unknown> | undefined;
  if (row === undefined) throw new Error(`no audit row for ${decisionId}`);
  return row;
}

describe('decisions in OPA shapes', () => {
  it('allows and denies, with a decision id, and records both', async () => {
    const allowed = await decide('rbac/allow', { input: aliceReads });
    expect(allowed.status).toBe(200);
    expect(allowed.headers['content-type']).toMatch(/^application\/json/);
    const allowBody = allowed.body as Answer;
    expect(Object.keys(allowBody).sort()).toEqual(['decision_id', 'result']);
    expect(allowBody.result).toBe(true);
    expect(allowBody.decision_id).toMatch(uuid);

    const denied = await decide('rbac/allow', { input: carolUpdates });
    expect(denied.status).toBe(200);
    expect((denied.body as Answer).result).toBe(false);

    const row = await auditRow(allowBody.decision_id);
    expect(row).toMatchObject({
      tenant_id: tenantId,
      path: 'rbac/allow',
      bundle_name: 'rbac',
      bundle_version: '1.0.0',
      bundle_revision: rbacV1.revision,
      result: true,
      allowed: true,
      cache: 'miss',
    });
    // Masked by the bundle's manifest: the password never reaches the log.
    expect(row.input).toEqual({ ...aliceReads, password: undefined });
    expect(row.input).not.toHaveProperty('password');
    const deniedRow = await auditRow((denied.body as Answer).decision_id);
    expect(deniedRow).toMatchObject({ allowed: false, result: false });
    expect(typeof deniedRow.caller).toBe('string');
  });

  it('answers a set-valued rule and a value below an entrypoint', async () => {
    const reasons = await decide('rbac/reasons', { input: carolUpdates });
    expect((reasons.body as Answer).result).toEqual(['carol may not update document d1']);
  });

  it('answers an unknown path, a package and a path below a scalar with no result, like OPA', async () => {
    for (const path of ['nothing/here', 'rbac/unknown', 'rbac', 'rbac/allow/deeper']) {
      const res = await decide(path, { input: aliceReads });
      expect(res.status).toBe(200);
      expect(Object.keys(res.body as object)).toEqual(['decision_id']);
    }
    const bare = await request(app).post('/v1/data').set('Authorization', `Bearer ${key}`).send({});
    expect(bare.status).toBe(200);
    expect(Object.keys(bare.body as object)).toEqual(['decision_id']);
    const row = await auditRow((bare.body as Answer).decision_id);
    expect(row).toMatchObject({ path: '', bundle_name: null, result: null, cache: 'bypass' });
  });

  it('takes no input from GET, an empty body or a body without input', async () => {
    const got = await request(app).get('/v1/data/rbac/allow').set('Authorization', `Bearer ${key}`);
    expect(got.status).toBe(200);
    expect((got.body as Answer).result).toBe(false);
    const row = await auditRow((got.body as Answer).decision_id);
    expect(row.input).toBeNull();

    const empty = await request(app)
      .post('/v1/data/rbac/allow')
      .set('Authorization', `Bearer ${key}`);
    expect((empty.body as Answer).result).toBe(false);
    const noInput = await decide('rbac/allow', { other: 1 });
    expect((noInput.body as Answer).result).toBe(false);
    const nullInput = await decide('rbac/reasons', { input: null });
    expect(nullInput.status).toBe(200);
  });

  it('adds metrics on request, indents with pretty, and refuses explain', async () => {
    const res = await request(app)
      .post('/v1/data/rbac/allow?metrics=true&pretty=true')
      .set('Authorization', `Bearer ${key}`)
      .send({ input: { ...carolUpdates, action: 'read' } });
    expect(res.status).toBe(200);
    expect(res.text).toContain('\n  "result": true');
    const metrics = (res.body as Answer).metrics as Record<string, number>;
    expect(Object.keys(metrics).sort()).toEqual([
      'counter_server_query_cache_hit',
      'timer_rego_query_eval_ns',
      'timer_server_handler_ns',
      'timer_verdict_decision_ns',
    ]);
    expect(metrics.timer_server_handler_ns).toBeGreaterThan(0);

    const explained = await request(app)
      .post('/v1/data/rbac/allow?explain=notes')
      .set('Authorization', `Bearer ${key}`)
      .send({ input: aliceReads });
    expect(expectProblem(explained, 400, 'bad_request').detail).toMatch(
      /explain="notes" is not supported/,
    );
    const off = await request(app)
      .post('/v1/data/rbac/allow?explain=off')
      .set('Authorization', `Bearer ${key}`)
      .send({ input: aliceReads });
    expect(off.status).toBe(200);
  });

  it('decides a batch, one response per id, each with its own decision id', async () => {
    const res = await request(app)
      .post('/v1/batch/data/rbac/allow?metrics=true')
      .set('Authorization', `Bearer ${key}`)
      .send({ inputs: { a: aliceReads, c: carolUpdates } });
    expect(res.status).toBe(200);
    const body = res.body as { responses: Record<string, Answer>; metrics: Record<string, number> };
    expect(Object.keys(body.responses).sort()).toEqual(['a', 'c']);
    expect(body.responses.a?.result).toBe(true);
    expect(body.responses.c?.result).toBe(false);
    expect(body.responses.a?.decision_id).not.toBe(body.responses.c?.decision_id);
    expect(body.metrics.timer_server_handler_ns).toBeGreaterThan(0);
    await auditRow(body.responses.a?.decision_id as string);
    await auditRow(body.responses.c?.decision_id as string);
  });

  it('answers 207 when some inputs of a batch fail, each with its own status', async () => {
    const res = await request(app)
      .post('/v1/batch/data/limits/conflict')
      .set('Authorization', `Bearer ${key}`)
      .send({ inputs: { fine: { a: true }, bad: { a: true, b: true } } });
    expect(res.status).toBe(207);
    const body = res.body as { responses: Record<string, Record<string, unknown>> };
    expect(body.responses.fine).toMatchObject({ result: 1 });
    expect(body.responses.bad).toMatchObject({ code: 'policy_error', http_status_code: '500' });
  });
});

describe('the decision cache', () => {
  it('serves the same input (keys in any order) from the cache the second time', async () => {
    const input = {
      action: 'read',
      subject: { tenant: 'acme', id: 'bob' },
      resource: { type: 'folder', tenant: 'acme', id: 'f9', owner: 'x' },
    };
    const reordered = {
      resource: input.resource,
      subject: { id: 'bob', tenant: 'acme' },
      action: 'read',
    };
    const first = await decide('rbac/allow?metrics=true', { input });
    const second = await decide('rbac/allow?metrics=true', { input: reordered });
    expect((first.body as Answer).metrics?.counter_server_query_cache_hit).toBe(0);
    expect((second.body as Answer).metrics?.counter_server_query_cache_hit).toBe(1);
    expect((second.body as Answer).result).toBe(true);
    expect((second.body as Answer).metrics?.timer_rego_query_eval_ns).toBe(0);
    expect((await auditRow((first.body as Answer).decision_id)).cache).toBe('miss');
    expect((await auditRow((second.body as Answer).decision_id)).cache).toBe('hit');
  });

  it('shares answers through Redis (L2) with another instance', async () => {
    const input = {
      action: 'read',
      subject: { tenant: 'acme', id: 'alice' },
      resource: { type: 'x', tenant: 'acme', id: 'l2' },
    };
    await decide('rbac/allow', { input });
    // A second stack over the same Redis: an empty L1, the same L2.
    const other = await openDecisions({
      knex: db.knex,
      cache,
      audit,
      logger: silentLogger,
      loadActiveBundles,
      config: testConfig({}),
    });
    try {
      const decision = await other.service.decide({
        tenantId,
        caller: 'k',
        path: ['rbac', 'allow'],
        hasInput: true,
        input,
      });
      expect(decision).toMatchObject({ cache: 'hit', defined: true, result: true });
      expect(other.cache.counters.l2Hits).toBe(1);
    } finally {
      await other.stop();
    }
  });

  it('skips the cache for a bundle that switches it off', async () => {
    const first = await decide('limits/ok', {});
    const second = await decide('limits/ok', {});
    expect((second.body as Answer).result).toBe(true);
    expect((await auditRow((first.body as Answer).decision_id)).cache).toBe('bypass');
    expect((await auditRow((second.body as Answer).decision_id)).cache).toBe('bypass');
  });
});

describe('activation', () => {
  it('swaps to a new revision under a stream of decisions with no failed request', async () => {
    const url = await listen();
    const before = await post(url, 'rbac/allow', carolUpdates);
    expect(before.result).toBe(false);

    // v2 makes carol an editor: the same input is allowed.
    const v2 = await buildExample(
      'rbac',
      { version: '2.0.0', cache: 'on', mask: ['/input/password'] },
      (data) => {
        const tenants = data.tenants as { acme: { members: Record<string, string[]> } };
        tenants.acme.members.carol = ['editor'];
        return data;
      },
    );
    expect(v2.bundle.manifest.revision).not.toBe(rbacV1.revision);

    // Eight clients ask in a loop; each keeps the answers it got, in order.
    const answers: boolean[][] = Array.from({ length: 8 }, () => []);
    let streaming = true;
    const stream = async (seen: boolean[]): Promise<void> => {
      while (streaming) {
        const answer = await post(url, 'rbac/allow', carolUpdates);
        seen.push(answer.result as boolean);
      }
    };
    const streams = answers.map((seen) => stream(seen));
    const stored = await storeActiveVersion(db.knex, tenantId, 'rbac', '2.0.0', v2);
    const { heard } = await nextMessage(activationChannel);
    await cache.publish(
      activationChannel,
      JSON.stringify({ tenantId, bundleId: stored.bundleId, versionId: stored.versionId }),
    );
    await heard;
    await stack.pool.settled(tenantId);
    // Every decision asked after the swap follows v2.
    const after = await post(url, 'rbac/allow', carolUpdates);
    streaming = false;
    await Promise.all(streams);
    expect(after.result).toBe(true);
    // No request failed (post throws otherwise), and once a client saw v2 it never saw v1
    // again: the swap is one step, not a mix of old and new engines.
    for (const seen of answers) {
      expect(seen.length).toBeGreaterThan(0);
      const firstV2 = seen.indexOf(true);
      if (firstV2 >= 0) expect(seen.slice(firstV2).every((answer) => answer)).toBe(true);
    }

    // The new revision is never answered from the old one's cache.
    const row = await auditRow(after.decision_id);
    expect(row).toMatchObject({
      bundle_version: '2.0.0',
      bundle_revision: stored.revision,
      cache: 'miss',
    });
    expect(stack.pool.counters.swaps).toBeGreaterThanOrEqual(1);

    await audit.flush();
    const chain = await verifyChain(db.knex, tenantId);
    expect(chain.ok).toBe(true);
    expect(chain.rows).toBe(
      Number(
        (
          await db
            .knex('decisions')
            .where({ tenant_id: tenantId })
            .count<{ count: string }[]>('* as count')
        )[0]?.count,
      ),
    );
  });
});

describe('strict audit', () => {
  it('answers only once the row is in the table', async () => {
    const res = await decide('rbac/allow', { input: aliceReads }, strictKey);
    expect(res.status).toBe(200);
    const id = (res.body as Answer).decision_id;
    // No flush: the row is already there.
    const row = (await db.knex('decisions').where({ decision_id: id }).first()) as
      Record<string, unknown> | undefined;
    expect(row?.tenant_id).toBe(strictTenantId);
    expect((await verifyChain(db.knex, strictTenantId)).ok).toBe(true);
  });
});

describe('policies that fail', () => {
  it('stops a runaway policy at its step budget: 503 for that request only', async () => {
    const res = await decide('limits/spin', {});
    const problem = expectProblem(res, 503, 'policy_limit_exceeded');
    expect(problem.policyError).toBe('eval_budget_error');
    expect(problem.detail).toMatch(/step budget/);
    const next = await decide('limits/ok', {});
    expect(next.status).toBe(200);
    expect((next.body as Answer).result).toBe(true);
    const rbac = await decide('rbac/allow', { input: aliceReads });
    expect((rbac.body as Answer).result).toBe(true);
  });

  it('answers 500 with the reason for a policy error', async () => {
    const res = await decide('limits/conflict', { input: { a: true, b: true } });
    const problem = expectProblem(res, 500, 'policy_error');
    expect(problem.policyError).toBe('eval_conflict_error');
    expect(problem.detail).toMatch(/limits\/conflict/);
  });
});

describe('bad requests', () => {
  it('needs a key with the decide scope', async () => {
    expectProblem(await request(app).post('/v1/data/rbac/allow').send({}), 401, 'unauthorized');
    expectProblem(await decide('rbac/allow', {}, noScopeKey), 403, 'forbidden');
    expectProblem(await decide('rbac/allow', {}, 'vdk_nope'), 401, 'unauthorized');
  });

  it('refuses malformed JSON, other content types and bodies that are not objects', async () => {
    const malformed = await request(app)
      .post('/v1/data/rbac/allow')
      .set('Authorization', `Bearer ${key}`)
      .set('Content-Type', 'application/json')
      .send('{"input": {');
    expectProblem(malformed, 400, 'invalid_json');
    const text = await request(app)
      .post('/v1/data/rbac/allow')
      .set('Authorization', `Bearer ${key}`)
      .set('Content-Type', 'text/plain')
      .send('input=1');
    expect(expectProblem(text, 415, 'unsupported_media_type').detail).toMatch(/text\/plain/);
    const array = await request(app)
      .post('/v1/data/rbac/allow')
      .set('Authorization', `Bearer ${key}`)
      .set('Content-Type', 'application/json')
      .send('[1]');
    expectProblem(array, 400, 'bad_request');
  });

  it('refuses a body over the limit with 413', async () => {
    const res = await decide('rbac/allow', { input: { blob: 'x'.repeat(1_100_000) } });
    expectProblem(res, 413, 'payload_too_large');
  });

  it('refuses input nested deeper than the limit, and takes it at the limit', async () => {
    const nest = (depth: number): unknown => {
      let value: unknown = 1;
      for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value };
      return value;
    };
    const deep = await decide('rbac/allow', { input: nest(65) });
    expect(expectProblem(deep, 400, 'bad_request').maxInputDepth).toBe(64);
    const atLimit = await decide('rbac/allow', { input: nest(64) });
    expect(atLimit.status).toBe(200);
    const batch = await request(app)
      .post('/v1/batch/data/rbac/allow')
      .set('Authorization', `Bearer ${key}`)
      .send({ inputs: { ok: {}, deep: nest(65) } });
    expect(expectProblem(batch, 400, 'bad_request').detail).toMatch(/"deep"/);
  });

  it('refuses a batch without an inputs object, or with too many inputs', async () => {
    for (const body of [{}, { inputs: [1] }, { inputs: 'x' }]) {
      const res = await request(app)
        .post('/v1/batch/data/rbac/allow')
        .set('Authorization', `Bearer ${key}`)
        .send(body);
      expectProblem(res, 400, 'bad_request');
    }
    const inputs = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`i${i}`, {}]));
    const many = await request(app)
      .post('/v1/batch/data/rbac/allow')
      .set('Authorization', `Bearer ${key}`)
      .send({ inputs });
    expectProblem(many, 400, 'bad_request');
    const empty = await request(app)
      .post('/v1/batch/data/rbac/allow')
      .set('Authorization', `Bearer ${key}`)
      .send({ inputs: {} });
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ responses: {} });
  });
});

// --- helpers over a real listening server -------------------------------------------------

let server: http.Server | undefined;
afterAll(async () => {
  if (server !== undefined) {
    server.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  }
});

async function listen(): Promise<string> {
  server ??= http.createServer(app);
  if (!server.listening) {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  }
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** One decision over a real connection; throws unless the answer is 200. */
async function post(url: string, path: string, input: unknown): Promise<Answer> {
  const res = await fetch(`${url}/v1/data/${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ input }),
  });
  const body = (await res.json()) as Answer;
  if (res.status !== 200)
    throw new Error(`decision failed with ${res.status}: ${JSON.stringify(body)}`);
  return body;
}

/** Subscribes to `channel`; the promise it gives resolves with the next message there. */
async function nextMessage(channel: string): Promise<{ heard: Promise<string> }> {
  let received: (text: string) => void = () => undefined;
  const message = new Promise<string>((resolve) => {
    received = resolve;
  });
  const unsubscribe = await cache.subscribe(channel, (text) => {
    received(text);
  });
  // Wrapped: an async function returning the promise itself would wait for the message.
  return { heard: message.finally(() => unsubscribe()) };
}
