/**
 * Circuit breakers seen from the decision API, with the machine's Redis and Postgres reached
 * through loopback proxies the test cuts, stalls and restores (the servers themselves keep
 * running for every other test). (1) Redis cut, then stalled, under load: every decision
 * still answers, correctly; the Redis breaker opens and shows in /metrics and /health/ready
 * (200, degraded); once restored, the breaker closes and the decision cache reads Redis (L2)
 * again. (2) Postgres
 * cut under load, tenants loaded: every decision still answers, its audit row is spooled, a
 * tenant not loaded gets a clear 503 and opens the database breaker; once restored, every
 * answered decision is in the table in answer order and both hash chains verify.
 */
import { start, type RunningServer } from '../../api/server';
import { verifyChain } from '../../api/services/audit';
import { rbacBundle } from '../integration/bundles/fixtures';
import {
  createTestDatabase,
  postgresUrl,
  redisUrl,
  testConfig,
  uniqueName,
  type TestDatabase,
} from '../integration/helpers/services';
import { parseExposition, sampleSum } from '../helpers/prometheus-text';
import { call, setUpAcmeWithRbac, type Answer } from './http';
import { streamDecisions, until, type DecisionStream } from './load';
import { TcpProxy } from '../helpers/tcp-proxy';

const ADMIN = 'outages-admin-token-0123456789';

/** A stream of decisions that also keeps every answer that was not the expected 200. */
interface CheckedStream extends DecisionStream {
  readonly failures: string[];
}

/**
 * Decides examples/rbac inputs in a loop, over `variety` distinct inputs: carol deleting a
 * document she owns (allowed) or bob's (denied), so each answer has a known right result.
 */
function checkedStream(baseUrl: string, key: string, variety: number): CheckedStream {
  const failures: string[] = [];
  let n = 0;
  const stream = streamDecisions(async () => {
    const i = n++ % variety;
    const mine = i % 2 === 1;
    const input = {
      subject: { id: 'carol', tenant: 'acme' },
      action: 'delete',
      resource: { type: 'document', id: `d${i}`, tenant: 'acme', owner: mine ? 'carol' : 'bob' },
    };
    const res = await call(baseUrl, 'POST', '/v1/data/rbac/allow', { token: key, json: { input } });
    if (res.status !== 200 || res.body.result !== mine) {
      failures.push(`${res.status} ${JSON.stringify(res.body)} for ${JSON.stringify(input)}`);
      return undefined;
    }
    return res.body.decision_id as string;
  });
  return { ...stream, failures };
}

async function breakerGauge(baseUrl: string, dependency: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  return sampleSum(parseExposition(text), 'verdict_breaker_state', { dependency });
}

async function readiness(baseUrl: string): Promise<Answer> {
  return call(baseUrl, 'GET', '/health/ready');
}

function target(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port) };
}

/** Every answered id is in the table once, in answer order, and the tenant's chain verifies. */
async function expectAllRecorded(
  knex: RunningServer['db']['knex'],
  tenantId: string,
  ids: string[],
): Promise<void> {
  const rows = await knex('decisions')
    .where('tenant_id', tenantId)
    .orderBy('seq')
    .select<{ decision_id: string }[]>('decision_id');
  const inTable = rows.map((r) => r.decision_id);
  expect(new Set(inTable).size).toBe(inTable.length);
  const answered = new Set(ids);
  expect(inTable.filter((id) => answered.has(id))).toEqual(ids);
  expect(await verifyChain(knex, tenantId)).toMatchObject({ ok: true, rows: inTable.length });
}

describe('Redis cut or stalled under load', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let server: RunningServer | undefined;
  let key = '';
  let tenantId = '';

  beforeAll(async () => {
    db = await createTestDatabase('redis_outage');
    proxy = await TcpProxy.start(target(redisUrl));
    server = await start({
      config: testConfig({
        DATABASE_URL: db.url,
        REDIS_URL: `redis://127.0.0.1:${String(proxy.port)}`,
        VERDICT_REDIS_PREFIX: `${uniqueName('outage')}:`,
        VERDICT_ADMIN_TOKEN: ADMIN,
        VERDICT_BREAKER_OPEN_MS: '300',
        VERDICT_REDIS_TIMEOUT_MS: '100',
        // A tiny L1 over more distinct inputs: most lookups reach L2.
        VERDICT_DECISION_CACHE_MAX: '4',
        VERDICT_RATE_LIMIT_DECISIONS: '1000000/1s',
      }),
    });
    ({ key, tenantId } = await setUpAcmeWithRbac(
      server.url,
      ADMIN,
      (await rbacBundle({ cache: 'on' })).tarGz,
    ));
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    await proxy.close();
    await db.drop();
  });

  /**
   * Runs a stream of decisions through `outage` of Redis and its end: every decision answers,
   * correctly; the breaker opens and shows in /metrics and /health/ready (200, degraded); once
   * Redis is back, the breaker closes and the decision cache reads L2 again.
   */
  async function decideThrough(
    outage: () => void,
    hooks: { whileDown?: () => Promise<void>; onceBack?: () => Promise<void> } = {},
  ): Promise<void> {
    const running = server as RunningServer;
    const redisBreaker = running.breakers.redis;
    const counters = () => running.decisions.cache.counters;
    const atStart = counters();
    const stream = checkedStream(running.url, key, 40);
    try {
      await until(
        () =>
          Promise.resolve(
            stream.answered.length >= 200 &&
              redisBreaker?.state === 'closed' &&
              counters().l2Hits > atStart.l2Hits,
          ),
        'decisions answered from L2',
      );

      outage();
      const atOutage = stream.answered.length;
      await until(
        async () => (await breakerGauge(running.url, 'redis')) === 2,
        'the Redis breaker to show open in /metrics',
      );
      await until(
        () => Promise.resolve(stream.answered.length >= atOutage + 200),
        '200 decisions during the Redis outage',
        () => ` (failures: ${stream.failures.slice(0, 3).join('; ')})`,
      );
      const ready = await readiness(running.url);
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({
        status: 'degraded',
        checks: { database: { status: 'ok' }, redis: { status: 'failed' } },
      });
      expect(['open', 'half-open']).toContain(
        (ready.body.checks as Record<string, { breaker: string }>).redis?.breaker,
      );

      await hooks.whileDown?.();
      const beforeRestore = counters();
      proxy.restore();
      await until(
        () =>
          Promise.resolve(
            redisBreaker?.state === 'closed' &&
              counters().l2Lookups > beforeRestore.l2Lookups &&
              counters().l2Hits > beforeRestore.l2Hits,
          ),
        'L2 hits after Redis is back',
      );
      await until(
        async () => (await breakerGauge(running.url, 'redis')) === 0,
        'the Redis breaker to show closed in /metrics',
      );
      await until(
        async () => (await readiness(running.url)).body.status === 'ready',
        'readiness to report Redis ok again',
      );
      await hooks.onceBack?.();
    } finally {
      await stream.stop();
    }
    expect(stream.failures).toEqual([]);
  }

  it('keeps deciding without the cache while Redis refuses connections, then uses L2 again', async () => {
    const running = server as RunningServer;
    const residentVersion = async (): Promise<string | undefined> =>
      (await running.decisions.pool.get(tenantId)).bundles[0]?.version;
    await decideThrough(
      () => {
        proxy.cut();
      },
      {
        // An activation while Redis is down is stored, but no instance can be told...
        whileDown: async () => {
          const admin = { token: ADMIN };
          const next = (await rbacBundle({ cache: 'on', version: '1.0.1' })).tarGz;
          const pushed = await call(running.url, 'POST', '/v1/tenants/acme/bundles', {
            ...admin,
            body: next,
          });
          expect(pushed.status).toBe(201);
          const activated = await call(
            running.url,
            'POST',
            '/v1/tenants/acme/bundles/rbac/activate',
            { ...admin, json: { version: '1.0.1' } },
          );
          expect(activated).toMatchObject({ status: 503, body: { code: 'cache_unavailable' } });
          expect(await residentVersion()).toBe('1.0.0');
        },
        // ...so once the subscription is back, resident tenants are reloaded.
        onceBack: () => until(async () => (await residentVersion()) === '1.0.1', 'v1.0.1 loaded'),
      },
    );
    const metrics = parseExposition(await (await fetch(`${running.url}/metrics`)).text());
    const moves = (to: string) =>
      sampleSum(metrics, 'verdict_breaker_transitions_total', { dependency: 'redis', to });
    expect(moves('open')).toBeGreaterThanOrEqual(1);
    expect(moves('closed')).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('keeps deciding without the cache while Redis answers nothing (command timeouts)', async () => {
    const running = server as RunningServer;
    const errorsBefore = running.decisions.cache.counters.l2Errors;
    await decideThrough(() => {
      proxy.stall();
    });
    // The stalled reads failed by timeout, and were counted as L2 errors, not as answers.
    expect(running.decisions.cache.counters.l2Errors).toBeGreaterThan(errorsBefore);
  }, 120_000);
});

describe('Postgres cut under load', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let server: RunningServer | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('pg_outage');
    proxy = await TcpProxy.start(target(postgresUrl));
  });

  afterAll(async () => {
    await server?.stop();
    await proxy.close();
    await db.drop();
  });

  /** Tenant `beta` with a key and examples/rbac active, like acme. */
  async function setUpBeta(baseUrl: string, bundle: Uint8Array): Promise<string> {
    const admin = { token: ADMIN };
    expect(
      (await call(baseUrl, 'POST', '/v1/tenants', { ...admin, json: { slug: 'beta', name: 'B' } }))
        .status,
    ).toBe(201);
    const keyAnswer = await call(baseUrl, 'POST', '/v1/tenants/beta/keys', {
      ...admin,
      json: { name: 'backend', scopes: ['decide'] },
    });
    expect(keyAnswer.status).toBe(201);
    expect(
      (await call(baseUrl, 'POST', '/v1/tenants/beta/bundles', { ...admin, body: bundle })).status,
    ).toBe(201);
    const activated = await call(baseUrl, 'POST', '/v1/tenants/beta/bundles/rbac/activate', {
      ...admin,
      json: { version: '1.0.0' },
    });
    expect(activated.status).toBe(200);
    return keyAnswer.body.key as string;
  }

  const betaInput = {
    subject: { id: 'carol', tenant: 'beta' },
    action: 'delete',
    resource: { type: 'document', id: 'd1', tenant: 'beta', owner: 'carol' },
  };

  it('keeps deciding for loaded tenants, spools the audit, and records every decision once back', async () => {
    const url = new URL(db.url);
    url.port = String(proxy.port);
    const running = await start({
      config: testConfig({
        DATABASE_URL: url.toString(),
        VERDICT_ADMIN_TOKEN: ADMIN,
        VERDICT_BREAKER_OPEN_MS: '300',
        // One engine: deciding for acme evicts beta, so beta needs the database to load again.
        VERDICT_ENGINE_POOL_MAX: '1',
        VERDICT_RATE_LIMIT_DECISIONS: '1000000/1s',
      }),
    });
    server = running;
    const bundle = (await rbacBundle()).tarGz;
    const { tenantId, key } = await setUpAcmeWithRbac(running.url, ADMIN, bundle);
    const betaKey = await setUpBeta(running.url, bundle);
    const decideBeta = () =>
      call(running.url, 'POST', '/v1/data/rbac/allow', {
        token: betaKey,
        json: { input: betaInput },
      });
    // Beta's key is verified and its bundle loaded once, before the outage.
    expect(await decideBeta()).toMatchObject({ status: 200, body: { result: true } });
    const beta = await running.db
      .knex('tenants')
      .where({ slug: 'beta' })
      .first<{ id: string } | undefined>('id');
    const betaId = beta?.id ?? '';
    expect(betaId).not.toBe('');

    const stream = checkedStream(running.url, key, 2);
    let ids: string[] = [];
    try {
      await until(
        () => Promise.resolve(stream.answered.length >= 50 && !running.decisions.pool.has(betaId)),
        '50 decisions, and beta evicted',
      );

      proxy.cut();
      const atCut = stream.answered.length;
      await until(() => Promise.resolve(running.audit.isSpooling), 'the audit writer to spool');

      // Beta is not loaded: each decision is refused with a clear 503 until the breaker opens.
      const betaAnswers: Answer[] = [];
      await until(async () => {
        betaAnswers.push(await decideBeta());
        return running.breakers.database.state === 'open';
      }, 'the database breaker to open');
      for (const answer of betaAnswers) {
        expect(answer).toMatchObject({ status: 503, body: { code: 'bundle_unavailable' } });
        expect(answer.body.detail).toMatch(/database is unavailable/);
      }
      expect(await breakerGauge(running.url, 'database')).toBe(2);
      const ready = await readiness(running.url);
      expect(ready).toMatchObject({
        status: 200,
        body: { status: 'degraded', checks: { database: { status: 'failed', breaker: 'open' } } },
      });

      await until(
        () => Promise.resolve(stream.answered.length >= atCut + 100),
        '100 decisions while Postgres is cut',
        () => ` (failures: ${stream.failures.slice(0, 3).join('; ')})`,
      );
      expect(running.audit.counters.spooled).toBeGreaterThan(0);

      proxy.restore();
      const atRestore = stream.answered.length;
      // The next beta decision after the open period is the probe; it loads beta again.
      await until(async () => (await decideBeta()).status === 200, 'beta to be served again');
      expect(running.breakers.database.state).toBe('closed');
      await until(
        () => Promise.resolve(stream.answered.length >= atRestore + 100),
        'decisions after Postgres is back',
      );
    } finally {
      ids = await stream.stop();
    }
    expect(stream.failures).toEqual([]);
    await until(async () => {
      await running.audit.flush();
      return !running.audit.isSpooling && running.audit.queueLength === 0;
    }, 'the spool replay');
    expect(running.audit.counters.replayed).toBeGreaterThan(0);
    expect(running.audit.counters.dropped).toBe(0);
    await expectAllRecorded(running.db.knex, tenantId, ids);
    expect(await verifyChain(running.db.knex, betaId)).toMatchObject({ ok: true });
    expect((await readiness(running.url)).body).toMatchObject({
      status: 'ready',
      checks: { database: { status: 'ok', breaker: 'closed' } },
    });
  }, 120_000);
});
