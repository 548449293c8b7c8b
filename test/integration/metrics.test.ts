/**
 * `GET /metrics` of a real server on the real Postgres and Redis, over real HTTP: a tenant,
 * key and bundles set up through the admin API, decisions that allow, deny, come out defined,
 * undefined and in error, a cache hit, then the exposition text read back and every metric
 * that should have moved checked. A second server requires VERDICT_METRICS_TOKEN; a third,
 * with VERDICT_METRICS=off, has no /metrics at all.
 */
import { start, type RunningServer } from '../../api/server';
import { rbacBundle } from './bundles/fixtures';
import { buildRego } from './helpers/bundles';
import {
  createTestDatabase,
  redisUrl,
  testConfig,
  uniqueName,
  type TestDatabase,
} from './helpers/services';
import { call, setUpAcmeWithRbac } from '../e2e/http';
import { carolDeletes, until } from '../e2e/load';
import { parseExposition, sampleSum, type Exposition } from '../helpers/prometheus-text';

jest.setTimeout(120_000);

const ADMIN = 'metrics-admin-token-0123456789abcdef';
const SCRAPE_TOKEN = 'metrics-scrape-token-0123456789abcdef';
const bobDeletes = { ...carolDeletes, subject: { id: 'bob', tenant: 'acme' } };
const conflictPolicy = 'package limits\n\nconflict := 1 if input.a\n\nconflict := 2 if input.b\n';

let db: TestDatabase;
let server: RunningServer;
let tenantId = '';
let key = '';

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: db.url,
    REDIS_URL: redisUrl,
    VERDICT_REDIS_PREFIX: `${uniqueName('metrics')}:`,
    VERDICT_ADMIN_TOKEN: ADMIN,
    ...extra,
  };
}

async function scrape(base: string, token?: string): Promise<Response> {
  return fetch(`${base}/metrics`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
}

async function metrics(): Promise<Exposition> {
  const res = await scrape(server.url);
  expect(res.status).toBe(200);
  return parseExposition(await res.text());
}

async function decide(path: string, input: unknown, token = key): Promise<number> {
  const res = await fetch(`${server.url}/v1/data/${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ input }),
  });
  await res.arrayBuffer();
  return res.status;
}

beforeAll(async () => {
  db = await createTestDatabase('metrics');
  server = await start({ config: testConfig(env()) });
  ({ tenantId, key } = await setUpAcmeWithRbac(server.url, ADMIN, (await rbacBundle()).tarGz));
  const limits = await buildRego(conflictPolicy, {
    name: 'limits',
    version: '1.0.0',
    roots: ['limits'],
    entrypoints: ['limits/conflict'],
    cache: 'off',
  });
  const pushed = await call(server.url, 'POST', '/v1/tenants/acme/bundles', {
    token: ADMIN,
    body: limits.bundle.tarGz,
  });
  expect(pushed.status).toBe(201);
  const activated = await call(server.url, 'POST', '/v1/tenants/acme/bundles/limits/activate', {
    token: ADMIN,
    json: { version: '1.0.0' },
  });
  expect(activated.status).toBe(200);
});

afterAll(async () => {
  await server.stop();
  await db.drop();
});

describe('GET /metrics', () => {
  it('shows decisions, latency, the cache, the audit log, the pool and HTTP as they move', async () => {
    // Both activations reach the pool (through Redis) before any decision loads the tenant.
    await until(async () => {
      const text = await metrics();
      return sampleSum(text, 'verdict_bundle_activations_total', { tenant: tenantId }) === 2;
    }, 'both activations');
    // Rows of the set-up's admin requests are written, so the deltas below are the decisions'.
    await server.audit.flush();
    const before = await metrics();
    expect(
      sampleSum(before, 'verdict_bundle_activations_total', {
        tenant: tenantId,
        outcome: 'deferred',
      }),
    ).toBe(2);
    expect(sampleSum(before, 'verdict_decisions_total')).toBe(0);

    expect(await decide('rbac/allow', bobDeletes)).toBe(200);
    expect(await decide('rbac/allow', carolDeletes)).toBe(200);
    expect(await decide('rbac/allow', carolDeletes)).toBe(200); // an L1 hit
    expect(await decide('rbac/reasons', carolDeletes)).toBe(200); // a set: defined
    expect(await decide('rbac/nothing_here', carolDeletes)).toBe(200); // undefined
    expect(await decide('limits/conflict', { a: true, b: true })).toBe(500); // policy error
    expect(await decide('rbac/allow', bobDeletes, 'vdk_not_a_key')).toBe(401);
    // A query string takes the Express route rather than the lane; it counts the same.
    const viaExpress = await call(server.url, 'POST', '/v1/data/rbac/allow?metrics=true', {
      token: key,
      json: { input: bobDeletes },
    });
    expect(viaExpress.body.result).toBe(true);
    await server.audit.flush();

    const after = await metrics();
    const decisions = (path: string, outcome: string): number =>
      sampleSum(after, 'verdict_decisions_total', { tenant: tenantId, path, outcome });
    expect(decisions('rbac/allow', 'allow')).toBe(2);
    expect(decisions('rbac/allow', 'deny')).toBe(2);
    expect(decisions('rbac/reasons', 'defined')).toBe(1);
    expect(decisions('(none)', 'undefined')).toBe(1);
    expect(decisions('limits/conflict', 'error')).toBe(1);
    expect(sampleSum(after, 'verdict_decisions_total')).toBe(7);
    expect(sampleSum(after, 'verdict_decision_duration_seconds_count')).toBe(7);
    expect(sampleSum(after, 'verdict_decision_duration_seconds_sum')).toBeGreaterThan(0);
    // Evaluated: bob's and carol's first decisions and the reasons; the rest were hits,
    // unrouted, or failed.
    expect(sampleSum(after, 'verdict_decision_evaluation_duration_seconds_count')).toBe(3);

    const lookups = (layer: string, result: string): number =>
      sampleSum(after, 'verdict_decision_cache_lookups_total', { layer, result });
    expect(lookups('l1', 'hit')).toBe(2);
    expect(lookups('l1', 'miss')).toBe(3);
    expect(lookups('l2', 'miss')).toBe(3);
    expect(sampleSum(after, 'verdict_decision_cache_misses_total')).toBe(3);
    expect(sampleSum(after, 'verdict_decision_cache_bypasses_total')).toBe(1);
    expect(sampleSum(after, 'verdict_decision_cache_entries')).toBe(3);

    const http = (text: Exposition, status: string): number =>
      sampleSum(text, 'verdict_http_requests_total', {
        method: 'POST',
        route: '/v1/data{/*path}',
        status_class: status,
      });
    expect(http(after, '2xx') - http(before, '2xx')).toBe(6);
    expect(http(after, '4xx') - http(before, '4xx')).toBe(1);
    expect(http(after, '5xx') - http(before, '5xx')).toBe(1);
    expect(
      sampleSum(after, 'verdict_http_requests_total', { route: '/v1/tenants/:tenant/keys' }),
    ).toBe(1);

    const delta = (name: string, labels: Record<string, string> = {}): number =>
      sampleSum(after, name, labels) - sampleSum(before, name, labels);
    // Six answered decisions were logged (the failed one has no row), all written by now.
    expect(delta('verdict_audit_rows_recorded_total')).toBeGreaterThanOrEqual(6);
    expect(delta('verdict_audit_rows_written_total', { source: 'queue' })).toBe(
      delta('verdict_audit_rows_recorded_total'),
    );
    expect(sampleSum(after, 'verdict_audit_queue_rows')).toBe(0);
    expect(sampleSum(after, 'verdict_audit_spool_rows')).toBe(0);
    expect(sampleSum(after, 'verdict_audit_spool_bytes')).toBe(0);
    expect(
      delta('verdict_audit_flush_duration_seconds_count', { source: 'queue', outcome: 'written' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sampleSum(after, 'verdict_audit_rows_failed_total')).toBe(0);

    expect(sampleSum(after, 'verdict_engine_pool_engines')).toBe(2);
    expect(sampleSum(after, 'verdict_engine_pool_tenants')).toBe(1);
    expect(sampleSum(after, 'verdict_engine_pool_loads_total')).toBe(1);
    expect(sampleSum(after, 'verdict_engine_pool_max_engines')).toBe(server.config.enginePoolMax);

    expect(sampleSum(after, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(after.types.get('nodejs_eventloop_lag_p99_seconds')).toBe('gauge');
  });

  it('counts an activation that reloads a tenant whose engines are in memory', async () => {
    const activated = await call(server.url, 'POST', '/v1/tenants/acme/bundles/rbac/activate', {
      token: ADMIN,
      json: { version: '1.0.0' },
    });
    expect(activated.status).toBe(200);
    await until(async () => {
      const text = await metrics();
      return (
        sampleSum(text, 'verdict_bundle_activations_total', {
          tenant: tenantId,
          outcome: 'reloaded',
        }) === 1
      );
    }, 'the reload after an activation');
    expect(sampleSum(await metrics(), 'verdict_engine_pool_swaps_total')).toBe(1);
  });
});

describe('VERDICT_METRICS_TOKEN and VERDICT_METRICS=off', () => {
  it('answers only scrapers that send the token', async () => {
    const guarded = await start({
      config: testConfig(env({ VERDICT_METRICS_TOKEN: SCRAPE_TOKEN })),
    });
    try {
      const refused = await scrape(guarded.url);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="verdict"');
      expect((await scrape(guarded.url, 'wrong-token-0123456789abcdef')).status).toBe(401);
      const allowed = await scrape(guarded.url, SCRAPE_TOKEN);
      expect(allowed.status).toBe(200);
      expect(allowed.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(parseExposition(await allowed.text()).types.get('verdict_decisions_total')).toBe(
        'counter',
      );
    } finally {
      await guarded.stop();
    }
  });

  it('has no /metrics when turned off, and still decides', async () => {
    const off = await start({ config: testConfig(env({ VERDICT_METRICS: 'off' })) });
    try {
      expect(off.metrics).toBeUndefined();
      const res = await scrape(off.url);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const answer = await call(off.url, 'POST', '/v1/data/rbac/allow', {
        token: key,
        json: { input: bobDeletes },
      });
      expect(answer.body.result).toBe(true);
    } finally {
      await off.stop();
    }
  });
});
