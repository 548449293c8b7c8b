/**
 * The OpenAPI document against the server it describes. A real server (`start`, on the real
 * Postgres and Redis) serves the document; then:
 *
 * 1. every route its Express app serves (read off the router stacks) and the decision lane's
 *    route are in the document, and every documented operation is served: a route added
 *    without an entry in api/openapi/routes/ fails here, by name;
 * 2. every documented operation is driven over HTTP, its successes and its usual errors, and
 *    each response is checked against the document: the status must be documented for the
 *    operation, the content type one it lists, the body valid against its schema (ajv), the
 *    required headers present.
 */
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { buildBundle } from '../../policies/bundle/build';
import { fromJS, type ObjectValue } from '../../policies/ir/value';
import { expressAppOf, type VerdictApp } from '../../api/app';
import { takesRequest } from '../../api/routes/data-lane';
import { start, type RunningServer } from '../../api/server';
import { base32Decode, totp } from '../../api/services/identity/totp';
import { servedRoutes } from '../helpers/express-routes';
import { OpenApiChecker } from '../helpers/openapi-check';
import { caslBundle, corruptHeaderTarGz, rbacBundle } from './bundles/fixtures';
import {
  createTestDatabase,
  redisUrl,
  silentLogger,
  testConfig,
  uniqueName,
  type TestDatabase,
} from './helpers/services';

jest.setTimeout(240_000);

const admin = 'openapi-admin-token-0123456789abcdef';
const metricsToken = 'openapi-metrics-token-0123456789abcdef';
const password = 'correct horse battery staple 42';
const newPassword = 'another horse battery staple 43';

let database: TestDatabase;
let server: RunningServer;
let checker: OpenApiChecker;
/** Responses that do not match the document, with what was asked. */
const mismatches: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase('openapi');
  server = await start({
    config: testConfig({
      DATABASE_URL: database.url,
      REDIS_URL: redisUrl,
      VERDICT_REDIS_PREFIX: `${uniqueName('openapi')}:`,
      VERDICT_ADMIN_TOKEN: admin,
      VERDICT_METRICS_TOKEN: metricsToken,
      // A scenario of this many requests would reach the limits; they have tests of their own.
      VERDICT_RATE_LIMIT_IP: 'off',
      VERDICT_RATE_LIMIT_DECISIONS: 'off',
      VERDICT_RATE_LIMIT_ADMIN: 'off',
      VERDICT_RATE_LIMIT_AUTH_IP: 'off',
      VERDICT_RATE_LIMIT_AUTH_ACCOUNT: 'off',
    }),
    logger: silentLogger,
  });
  const res = await fetch(`${server.url}/openapi.json`);
  checker = new OpenApiChecker(
    (await res.json()) as ConstructorParameters<typeof OpenApiChecker>[0],
  );
});

afterAll(async () => {
  await server.stop();
  await database.drop();
});

interface CallOptions {
  readonly token?: string;
  readonly json?: unknown;
  readonly body?: Uint8Array | string;
  readonly type?: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly headers?: Readonly<Record<string, string>>;
}

interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The body parsed as JSON, when it is JSON. */
  readonly json: Record<string, unknown>;
}

function urlOf(template: string, params: Readonly<Record<string, string>>): string {
  return template.replace(/\{([^}]+)\}/gu, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`no value for {${name}} of ${template}`);
    // The data path keeps its slashes.
    return name === 'path' ? value : encodeURIComponent(value);
  });
}

/**
 * Calls the operation `method template` with `params` in its path, expects `status`, and
 * checks the response against the document.
 */
async function call(
  method: string,
  template: string,
  params: Readonly<Record<string, string>>,
  status: number,
  options: CallOptions = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: Uint8Array | string | undefined = options.body;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (body !== undefined) {
    headers['content-type'] = options.type ?? 'application/gzip';
  }
  const query =
    options.query === undefined ? '' : `?${new URLSearchParams(options.query).toString()}`;
  const path = urlOf(template, params) + query;
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers,
    redirect: 'manual',
    ...(body === undefined ? {} : { body }),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Not JSON: the checker reads it as text.
  }
  const reply = { status: res.status, headers: res.headers, text, json };
  for (const problem of checker.check(method, template, reply)) {
    mismatches.push(`${method} ${path}: ${problem}`);
  }
  if (res.status !== status) {
    throw new Error(
      `${method} ${path}: expected ${status}, got ${res.status} ${text.slice(0, 500)}`,
    );
  }
  return reply;
}

beforeEach(() => {
  mismatches.length = 0;
});

function expectAllMatched(): void {
  expect(mismatches).toEqual([]);
}

const acme = { tenant: 'acme' };
const aliceReads = {
  subject: { id: 'alice', tenant: 'acme' },
  action: 'read',
  resource: { type: 'document', id: 'd1', tenant: 'acme' },
};

/** Keys of tenant acme by scope, and ids the later steps need. */
const keys: Record<string, string> = {};
let decisionId = '';

describe('the document and the routes served', () => {
  it('documents every route the server serves, and only those', () => {
    const listener = server.httpServer.listeners('request')[0] as VerdictApp;
    const app = expressAppOf(listener);
    if (app === undefined) throw new Error('the server does not run an app createApp made');
    const served = servedRoutes(app);
    const documented = new Set(
      Object.entries(checker.document.paths).flatMap(([template, methods]) =>
        Object.keys(methods).map((method) => `${method.toUpperCase()} ${template}`),
      ),
    );
    const servedKeys = new Set(served.routes.map((route) => `${route.method} ${route.template}`));
    // The decision lane answers plain decision requests before Express does.
    const probe = new IncomingMessage(new Socket());
    probe.method = 'POST';
    probe.url = '/v1/data/rbac/allow';
    probe.headers = { 'content-type': 'application/json' };
    expect(takesRequest(probe)).toBe(true);
    servedKeys.add('POST /v1/data/{path}');

    const undocumented = served.routes
      .filter((route) => !documented.has(`${route.method} ${route.template}`))
      .map(
        (route) =>
          `${route.method} ${route.template} (Express path ${route.expressPath}) is served but not in the OpenAPI document: add it to api/openapi/routes/`,
      );
    const unmounted = served.mounts
      .filter((mount) => ![...documented].some((key) => key.split(' ')[1]?.startsWith(mount)))
      .map((mount) => `files are served under ${mount} but the document has no operation there`);
    const stale = [...documented]
      .filter((key) => !servedKeys.has(key))
      .filter((key) => !served.mounts.some((mount) => key.startsWith(`GET ${mount}`)))
      .map((key) => `${key} is in the OpenAPI document but no route serves it`);
    expect([...undocumented, ...unmounted, ...stale]).toEqual([]);
    expect(served.mounts).toEqual(['/console']);
  });
});

describe('every operation answers as the document says', () => {
  it('serves probes, metrics, the document, its page, the console and the JWKS', async () => {
    await call('GET', '/health/live', {}, 200);
    await call('GET', '/health/ready', {}, 200);
    const doc = await call('GET', '/openapi.json', {}, 200);
    expect(doc.headers.get('cache-control')).toBe('public, max-age=300');
    await call('GET', '/openapi.json', {}, 304, {
      // fetch marks a conditional request no-cache unless told otherwise, and Express never
      // answers 304 to no-cache.
      headers: { 'if-none-match': doc.headers.get('etag') as string, 'cache-control': 'max-age=0' },
    });
    const page = await call('GET', '/docs', {}, 200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'none'/u);
    expect(csp).toMatch(/style-src 'sha256-[A-Za-z0-9+/=]+'/u);
    expect(csp).not.toMatch(/unsafe/u);
    expect(page.text).not.toMatch(/<script/iu);
    // Other responses keep the service's policy, which allows no style at all.
    expect(doc.headers.get('content-security-policy')).not.toMatch(/style-src/u);
    await call('GET', '/docs', {}, 304, {
      headers: {
        'if-none-match': page.headers.get('etag') as string,
        'cache-control': 'max-age=0',
      },
    });
    await call('GET', '/metrics', {}, 401);
    const metrics = await call('GET', '/metrics', {}, 200, { token: metricsToken });
    expect(metrics.text).toMatch(/^# HELP /mu);
    await call('GET', '/console', {}, 301);
    await call('GET', '/console/', {}, 200);
    await call('GET', '/console/{file}', { file: 'console.js' }, 200);
    await call('GET', '/console/{file}', { file: 'console.css' }, 200);
    await call('GET', '/console/{file}', { file: 'nothing.js' }, 404);
    await call('GET', '/.well-known/jwks.json', {}, 200);
    expectAllMatched();
  });

  it('manages tenants and keys', async () => {
    await call('POST', '/v1/tenants', {}, 201, {
      token: admin,
      json: { slug: 'acme', name: 'Acme Corp', default_decision: 'rbac/allow' },
    });
    await call('POST', '/v1/tenants', {}, 201, {
      token: admin,
      json: { slug: 'globex', name: 'G' },
    });
    await call('POST', '/v1/tenants', {}, 409, { token: admin, json: { slug: 'acme', name: 'A' } });
    await call('POST', '/v1/tenants', {}, 400, { token: admin, json: { slug: 'Not A Slug' } });
    await call('POST', '/v1/tenants', {}, 400, {
      token: admin,
      body: '{"slug":',
      type: 'application/json',
    });
    await call('POST', '/v1/tenants', {}, 415, {
      token: admin,
      body: 'slug=acme',
      type: 'text/plain',
    });
    await call('POST', '/v1/tenants', {}, 401, { json: { slug: 'x', name: 'x' } });
    await call('GET', '/v1/tenants', {}, 200, { token: admin });
    await call('GET', '/v1/tenants/{tenant}', acme, 200, { token: admin });
    await call('GET', '/v1/tenants/{tenant}', { tenant: 'nobody' }, 404, { token: admin });
    await call('PATCH', '/v1/tenants/{tenant}', acme, 200, {
      token: admin,
      json: { audit_retention_days: 400 },
    });
    await call('PATCH', '/v1/tenants/{tenant}', acme, 400, { token: admin, json: {} });
    const globex = await call('POST', '/v1/tenants/{tenant}/keys', { tenant: 'globex' }, 201, {
      token: admin,
      json: { name: 'globex', scopes: ['decide'] },
    });
    keys.globex = globex.json.key as string;
    for (const scope of ['decide', 'bundles:write', 'audit:read']) {
      const created = await call('POST', '/v1/tenants/{tenant}/keys', acme, 201, {
        token: admin,
        json: { name: scope, scopes: [scope], expires_in: '30d' },
      });
      keys[scope] = created.json.key as string;
    }
    await call('GET', '/v1/tenants/{tenant}/keys', acme, 200, { token: admin });
    await call('GET', '/v1/tenants/{tenant}/keys', acme, 403, { token: keys.decide });
    const doomed = await call('POST', '/v1/tenants/{tenant}/keys', acme, 201, {
      token: admin,
      json: { name: 'doomed', scopes: ['decide'] },
    });
    await call(
      'DELETE',
      '/v1/tenants/{tenant}/keys/{keyId}',
      { ...acme, keyId: doomed.json.id as string },
      200,
      { token: admin },
    );
    await call(
      'DELETE',
      '/v1/tenants/{tenant}/keys/{keyId}',
      { ...acme, keyId: '00000000-0000-4000-8000-000000000000' },
      404,
      { token: admin },
    );
    // A problem goes out as application/json to a client that takes only that.
    const negotiated = await call('GET', '/v1/tenants/{tenant}', { tenant: 'nobody' }, 404, {
      token: admin,
      headers: { accept: 'application/json' },
    });
    expect(negotiated.headers.get('content-type')).toMatch(/^application\/json/u);
    expectAllMatched();
  });

  it('pushes, lists, downloads and activates bundles', async () => {
    const rbac = await rbacBundle();
    const push = '/v1/tenants/{tenant}/bundles';
    await call('POST', push, acme, 201, { token: keys['bundles:write'], body: rbac.tarGz });
    await call('POST', push, acme, 200, { token: admin, body: rbac.tarGz });
    await call('POST', push, acme, 403, { token: keys.decide, body: rbac.tarGz });
    await call('POST', push, acme, 400, { token: admin, body: new Uint8Array(0) });
    await call('POST', push, acme, 415, { token: admin, body: rbac.tarGz, type: 'text/plain' });
    await call('POST', push, acme, 422, { token: admin, body: corruptHeaderTarGz() });
    await call('POST', push, acme, 201, {
      token: admin,
      body: (await rbacBundle({ version: '1.1.0' })).tarGz,
    });
    await call('POST', push, acme, 201, { token: admin, body: (await caslBundle()).tarGz });
    await call('POST', push, acme, 201, { token: admin, body: await failingBundle() });
    await call('GET', push, acme, 200, { token: admin });
    const rbacVersion = { ...acme, name: 'rbac', version: '1.0.0' };
    await call('GET', '/v1/tenants/{tenant}/bundles/{name}/versions', rbacVersion, 200, {
      token: admin,
    });
    await call('GET', '/v1/tenants/{tenant}/bundles/{name}/versions/{version}', rbacVersion, 200, {
      token: admin,
    });
    await call(
      'GET',
      '/v1/tenants/{tenant}/bundles/{name}/versions/{version}',
      { ...rbacVersion, version: '9.9.9' },
      404,
      { token: admin },
    );
    const download = await call(
      'GET',
      '/v1/tenants/{tenant}/bundles/{name}/versions/{version}/download',
      rbacVersion,
      200,
      { token: admin },
    );
    expect(download.text.length).toBeGreaterThan(0);
    const activate = '/v1/tenants/{tenant}/bundles/{name}/activate';
    for (const [name, version] of [
      ['rbac', '1.0.0'],
      ['documents', '1.0.0'],
      ['fail', '1.0.0'],
    ] as const) {
      await call('POST', activate, { ...acme, name }, 200, { token: admin, json: { version } });
    }
    await call('POST', activate, { ...acme, name: 'rbac' }, 404, {
      token: admin,
      json: { version: '7.0.0' },
    });
    await call('PUT', '/v1/tenants/{tenant}/signing-key', acme, 200, {
      token: admin,
      json: { public_key: null, require_signed: false },
    });
    await call('PUT', '/v1/tenants/{tenant}/signing-key', acme, 400, {
      token: admin,
      json: { public_key: 'not a key', require_signed: false },
    });
    expectAllMatched();
  });

  it('decides, singly, in batches and by default, with OPA answers', async () => {
    const decide = keys.decide as string;
    // The plain form takes the decision lane; a query string takes Express.
    const laned = await call('POST', '/v1/data/{path}', { path: 'rbac/allow' }, 200, {
      token: decide,
      json: { input: aliceReads },
    });
    expect(laned.json.result).toBe(true);
    decisionId = laned.json.decision_id as string;
    await call('POST', '/v1/data/{path}', { path: 'rbac/allow' }, 200, {
      token: decide,
      json: { input: aliceReads },
      query: { metrics: 'true', provenance: 'true' },
    });
    await call('POST', '/v1/data/{path}', { path: 'rbac/allow' }, 401, { json: { input: {} } });
    await call('POST', '/v1/data/{path}', { path: 'rbac/allow' }, 403, {
      token: keys['audit:read'],
      json: { input: {} },
    });
    await call('POST', '/v1/data/{path}', { path: 'rbac/allow' }, 400, {
      token: decide,
      json: [1, 2],
    });
    await call('POST', '/v1/data/{path}', { path: 'rbac/allow' }, 415, {
      token: decide,
      body: 'input',
      type: 'text/plain',
    });
    await call('POST', '/v1/data/{path}', { path: 'fail/conflict' }, 500, {
      token: decide,
      json: { input: { a: true, b: true } },
    });
    await call('GET', '/v1/data/{path}', { path: 'rbac/allow' }, 200, { token: decide });
    await call('GET', '/v1/data/{path}', { path: 'rbac/allow' }, 400, {
      token: decide,
      query: { explain: 'full' },
    });
    await call('POST', '/v1/data', {}, 200, { token: decide, json: { input: aliceReads } });
    await call('GET', '/v1/data', {}, 200, { token: decide, query: { pretty: 'true' } });

    const inputs = { a: aliceReads, b: { ...aliceReads, action: 'delete' } };
    await call('POST', '/v1/batch/data/{path}', { path: 'rbac/allow' }, 200, {
      token: decide,
      json: { inputs },
      query: { metrics: 'true' },
    });
    await call('POST', '/v1/batch/data', {}, 200, { token: decide, json: { inputs } });
    await call('POST', '/v1/batch/data/{path}', { path: 'fail/conflict' }, 207, {
      token: decide,
      json: { inputs: { ok: { a: true }, broken: { a: true, b: true } } },
    });
    await call('POST', '/v1/batch/data/{path}', { path: 'fail/conflict' }, 500, {
      token: decide,
      json: { inputs: { broken: { a: true, b: true } } },
    });
    await call('POST', '/v1/batch/data/{path}', { path: 'rbac/allow' }, 400, {
      token: decide,
      json: { input: aliceReads },
    });

    // acme's default decision is rbac/allow; globex's is system/main, which it has no bundle for.
    const byDefault = await call('POST', '/', {}, 200, { token: decide, json: aliceReads });
    expect(byDefault.text).toBe('true');
    await call('POST', '/', {}, 404, { token: keys.globex, json: aliceReads });

    const rules = '/v1/casl/{bundle}/rules';
    const documents = { bundle: 'documents' };
    const user = { id: 'u1', roles: ['auditor'] };
    await call('GET', rules, documents, 200, {
      token: decide,
      query: { user: JSON.stringify(user) },
    });
    await call('POST', rules, documents, 200, {
      token: decide,
      json: { user },
      query: { packed: 'false' },
    });
    await call('GET', rules, documents, 400, { token: decide });
    await call('POST', rules, { bundle: 'rbac' }, 400, { token: decide, json: { user } });
    await call('POST', rules, { bundle: 'nothing' }, 404, { token: decide, json: { user } });
    expectAllMatched();
  });

  it('rolls a version out, promotes, rolls back and aborts', async () => {
    const rbac = { ...acme, name: 'rbac' };
    const rollouts = '/v1/tenants/{tenant}/bundles/{name}/rollouts';
    await call('POST', rollouts, rbac, 201, {
      token: admin,
      json: { version: '1.1.0', mode: 'canary', percent: 50 },
    });
    await call('POST', rollouts, rbac, 409, {
      token: admin,
      json: { version: '1.1.0', mode: 'shadow' },
    });
    await call('POST', rollouts, rbac, 400, {
      token: admin,
      json: { version: '1.1.0', mode: 'canary' },
    });
    await call('POST', '/v1/tenants/{tenant}/bundles/{name}/activate', rbac, 409, {
      token: admin,
      json: { version: '1.1.0' },
    });
    for (let i = 0; i < 4; i++) {
      await call('POST', '/v1/data/{path}', { path: 'rbac/allow' }, 200, {
        token: keys.decide,
        json: { input: { ...aliceReads, subject: { id: `user-${i}`, tenant: 'acme' } } },
      });
    }
    await server.audit.flush();
    await call('GET', '/v1/tenants/{tenant}/rollouts', acme, 200, { token: keys['bundles:write'] });
    await call('GET', rollouts, rbac, 200, { token: admin });
    await call('POST', `${rollouts}/promote`, rbac, 200, { token: admin });
    await call('POST', `${rollouts}/promote`, rbac, 404, { token: admin });
    await call('POST', `${rollouts}/rollback`, rbac, 200, { token: admin });
    await call('POST', rollouts, rbac, 201, {
      token: admin,
      json: { version: '1.1.0', mode: 'shadow' },
    });
    await call('POST', '/v1/data/{path}', { path: 'rbac/allow' }, 200, {
      token: keys.decide,
      json: { input: aliceReads },
    });
    await server.audit.flush();
    await call('GET', rollouts, rbac, 200, { token: admin });
    await call('POST', `${rollouts}/abort`, rbac, 200, { token: admin });
    await call('POST', `${rollouts}/abort`, rbac, 404, { token: admin });
    expectAllMatched();
  });

  it('replays recorded decisions against a candidate', async () => {
    const candidate = (await rbacBundle({ version: '1.1.0' })).tarGz;
    const replay = '/v1/tenants/{tenant}/replay';
    await call('POST', replay, acme, 200, {
      token: keys['bundles:write'],
      body: candidate,
      query: { since: '1h', samples: '5' },
    });
    await call('POST', replay, acme, 400, {
      token: admin,
      body: candidate,
      query: { since: 'soon' },
    });
    await call('POST', replay, acme, 422, { token: admin, body: corruptHeaderTarGz() });
    expectAllMatched();
  });

  it('searches, exports, verifies and counts the decision log', async () => {
    await server.audit.flush();
    const log = '/v1/tenants/{tenant}/decisions';
    const audit = keys['audit:read'] as string;
    const page = await call('GET', log, acme, 200, { token: audit, query: { limit: '5' } });
    expect((page.json.decisions as unknown[]).length).toBe(5);
    await call('GET', log, acme, 200, {
      token: audit,
      query: { cursor: page.json.next as string, allowed: 'true', input: 'input.action=read' },
    });
    await call('GET', log, { tenant: 'platform' }, 200, { token: admin });
    await call('GET', log, acme, 400, { token: audit, query: { limit: '0' } });
    await call('GET', log, acme, 400, { token: audit, query: { colour: 'red' } });
    await call('GET', log, acme, 403, { token: keys.decide });
    await call('GET', `${log}/{id}`, { ...acme, id: decisionId }, 200, { token: audit });
    await call('GET', `${log}/{id}`, { ...acme, id: '00000000-0000-4000-8000-000000000000' }, 404, {
      token: audit,
    });
    const ndjson = await call('GET', `${log}/export`, acme, 200, { token: audit });
    expect(ndjson.text.split('\n').length).toBeGreaterThan(5);
    await call('GET', `${log}/export`, acme, 200, { token: admin, query: { format: 'csv' } });
    await call('GET', `${log}/export`, acme, 400, { token: admin, query: { format: 'xml' } });
    const verified = await call('GET', `${log}/verify`, acme, 200, { token: audit });
    expect(verified.json.ok).toBe(true);
    await call('GET', `${log}/stats`, acme, 200, { token: audit, query: { bucket: 'minute' } });
    await call('GET', `${log}/stats`, acme, 400, { token: audit, query: { bucket: 'year' } });
    expectAllMatched();
  });

  it("signs the console in and out, and reads the log with the console's cookie", async () => {
    const signIn = { tenant: 'acme', token: keys['audit:read'] as string };
    const session = '/console/session';
    const started = await call('POST', session, {}, 201, { json: signIn });
    const id = /^__Host-verdict-console=([^;]+)/u.exec(started.headers.get('set-cookie') ?? '');
    const cookie = { cookie: `__Host-verdict-console=${id?.[1] ?? ''}` };
    const csrf = started.json.csrf_token as string;
    await call('POST', session, {}, 400, { json: { tenant: 'acme' } });
    await call('POST', session, {}, 401, { json: { ...signIn, token: 'vdk_no_no' } });
    await call('POST', session, {}, 403, { json: { ...signIn, token: keys.decide as string } });
    await call('GET', session, {}, 200, { headers: cookie });
    await call('GET', session, {}, 401);
    await call('GET', session, {}, 403, { headers: { ...cookie, 'sec-fetch-site': 'cross-site' } });
    const log = '/v1/tenants/{tenant}/decisions';
    await call('GET', log, acme, 200, { headers: cookie, query: { limit: '1' } });
    await call('GET', `${log}/{id}`, { ...acme, id: decisionId }, 200, { headers: cookie });
    await call('GET', `${log}/stats`, acme, 200, { headers: cookie });
    await call('GET', `${log}/export`, acme, 401, { headers: cookie });
    await call('DELETE', session, {}, 403, { headers: cookie });
    await call('DELETE', session, {}, 204, { headers: { ...cookie, 'x-csrf-token': csrf } });
    await call('DELETE', session, {}, 401, { headers: { ...cookie, 'x-csrf-token': csrf } });
    expectAllMatched();
  });

  it('logs users in, with and without MFA, and manages their sessions', async () => {
    const users = '/v1/tenants/{tenant}/users';
    const ann = await call('POST', users, acme, 201, {
      token: admin,
      json: { email: 'ann@acme.example', role: 'tenant-admin', display_name: 'Ann', password },
    });
    await call('POST', users, acme, 409, {
      token: admin,
      json: { email: 'ANN@acme.example', role: 'auditor', password },
    });
    await call('POST', users, acme, 400, {
      token: admin,
      json: { email: 'weak@acme.example', role: 'auditor', password: 'short' },
    });
    const invited = await call('POST', users, acme, 201, {
      token: admin,
      json: { email: 'bo@acme.example', role: 'auditor' },
    });
    const setupToken = invited.json.setup_token as string;
    await call('POST', '/v1/auth/password-setup', {}, 200, {
      json: { token: setupToken, password },
    });
    await call('POST', '/v1/auth/password-setup', {}, 401, {
      json: { token: setupToken, password },
    });
    await call('GET', users, acme, 200, { token: admin });

    const login = { tenant: 'acme', email: 'ann@acme.example', password };
    await call('POST', '/v1/auth/login', {}, 401, { json: { ...login, password: 'wrong' } });
    await call('POST', '/v1/auth/login', {}, 400, { json: { tenant: 'acme' } });
    const first = await call('POST', '/v1/auth/login', {}, 200, { json: login });
    const second = await call('POST', '/v1/auth/login', {}, 200, { json: login });
    const token = second.json.access_token as string;
    await call('GET', '/v1/users/me', {}, 200, { token });
    await call('GET', '/v1/users/me', {}, 401);
    await call('GET', '/v1/auth/sessions', {}, 200, { token });
    await call(
      'DELETE',
      '/v1/auth/sessions/{sessionId}',
      { sessionId: first.json.session_id as string },
      204,
      {
        token,
      },
    );
    await call(
      'DELETE',
      '/v1/auth/sessions/{sessionId}',
      { sessionId: first.json.session_id as string },
      404,
      {
        token,
      },
    );
    await call('POST', '/v1/auth/refresh', {}, 200, {
      json: { refresh_token: second.json.refresh_token },
    });
    // Presented again, the used refresh token revokes its session.
    await call('POST', '/v1/auth/refresh', {}, 401, {
      json: { refresh_token: second.json.refresh_token },
    });

    const fresh = await call('POST', '/v1/auth/login', {}, 200, { json: login });
    const access = fresh.json.access_token as string;
    const enrolment = await call('POST', '/v1/users/me/mfa', {}, 201, { token: access });
    await call('POST', '/v1/users/me/mfa/confirm', {}, 400, {
      token: access,
      json: { code: '12' },
    });
    const secret = base32Decode(enrolment.json.secret as string) as Buffer;
    const confirmed = await call('POST', '/v1/users/me/mfa/confirm', {}, 200, {
      token: access,
      json: { code: totp(secret, Date.now()) },
    });
    await call('POST', '/v1/users/me/mfa', {}, 409, { token: access });
    const codes = await call('POST', '/v1/users/me/mfa/recovery-codes', {}, 200, { token: access });
    expect(codes.json.recovery_codes).not.toEqual(confirmed.json.recovery_codes);
    const step = await call('POST', '/v1/auth/login', {}, 200, { json: login });
    expect(step.json.mfa_required).toBe(true);
    await call('POST', '/v1/auth/mfa', {}, 400, { json: { mfa_token: step.json.mfa_token } });
    await call('POST', '/v1/auth/mfa', {}, 401, {
      json: { mfa_token: step.json.mfa_token, recovery_code: 'wxyz-wxyz-wxyz-wxyz' },
    });
    const withMfa = await call('POST', '/v1/auth/mfa', {}, 200, {
      json: {
        mfa_token: step.json.mfa_token,
        recovery_code: (codes.json.recovery_codes as string[])[0],
      },
    });
    const strong = withMfa.json.access_token as string;
    await call('POST', '/v1/users/me/mfa/disable', {}, 403, {
      token: strong,
      json: { password: 'not it at all' },
    });
    await call('POST', '/v1/users/me/mfa/disable', {}, 200, { token: strong, json: { password } });
    await call('POST', '/v1/users/me/password', {}, 403, {
      token: strong,
      json: { current_password: 'not it at all', new_password: newPassword },
    });
    await call('POST', '/v1/users/me/password', {}, 204, {
      token: strong,
      json: { current_password: password, new_password: newPassword },
    });
    await call('POST', '/v1/auth/logout', {}, 204, { token: strong });
    await call('POST', '/v1/auth/logout', {}, 401, { token: strong });

    const annId = (ann.json.user as { id: string }).id;
    await call('DELETE', `${users}/{userId}`, { ...acme, userId: annId }, 200, { token: admin });
    await call(
      'DELETE',
      `${users}/{userId}`,
      { ...acme, userId: '00000000-0000-4000-8000-000000000000' },
      404,
      {
        token: admin,
      },
    );

    const platform = '/v1/platform/users';
    const created = await call('POST', platform, {}, 201, {
      token: admin,
      json: { email: 'root@verdict.example', role: 'platform-admin', password },
    });
    await call('POST', platform, {}, 400, {
      token: admin,
      json: { email: 'x@verdict.example', role: 'auditor', password },
    });
    await call('GET', platform, {}, 200, { token: admin });
    await call('GET', platform, {}, 403, { token: keys['audit:read'] });
    await call(
      'DELETE',
      `${platform}/{userId}`,
      { userId: (created.json.user as { id: string }).id },
      200,
      {
        token: admin,
      },
    );
    expectAllMatched();
  });

  it('has driven every documented operation to a success', () => {
    const operations = Object.entries(checker.document.paths).flatMap(([template, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${template}`),
    );
    const neverSucceeded = operations.filter((key) => !checker.succeeded.has(key));
    console.log(`openapi: ${operations.length} operations, ${checker.responses} responses checked`);
    expect(neverSucceeded).toEqual([]);
    expectAllMatched();
  });
});

/** A bundle whose `fail/conflict` fails for inputs with both `a` and `b` true. */
async function failingBundle(): Promise<Uint8Array> {
  const result = await buildBundle({
    modules: [
      {
        file: 'fail/policy.rego',
        text: 'package fail\n\nconflict := 1 if input.a\n\nconflict := 2 if input.b\n',
      },
    ],
    data: fromJS({}) as ObjectValue,
    entrypoints: ['fail/conflict'],
    manifest: { name: 'fail', version: '1.0.0', roots: ['fail'] },
  });
  if (result.bundle === undefined) throw new Error(JSON.stringify(result.diagnostics));
  return result.bundle.tarGz;
}
