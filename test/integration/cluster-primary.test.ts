/**
 * The cluster primary (api/cluster/primary.ts) run in this process, as `verdict serve` runs it:
 * two workers forked from the built worker entry, on the real Postgres and Redis. The primary's
 * audit writer logs every decision the workers answer; a strict tenant's answer waits for its
 * row; a worker that dies is replaced; stop drains the workers and writes every row.
 */
import cluster from 'node:cluster';
import knexFactory, { type Knex } from 'knex';
import { startPrimary, type RunningCluster } from '../../api/cluster/primary';
import { createLogger } from '../../api/logger';
import { verifyChain } from '../../api/services/audit';
import { rbacBundle } from './bundles/fixtures';
import { call } from '../e2e/http';
import { carolDeletes, until } from '../e2e/load';
import { parseExposition, sampleSum } from '../helpers/prometheus-text';
import {
  createTestDatabase,
  redisUrl,
  tempDir,
  testConfig,
  uniqueName,
  type TestDatabase,
} from './helpers/services';

jest.setTimeout(120_000);

const ADMIN = 'cluster-primary-admin-token-0123456789';

let db: TestDatabase;
let knex: Knex;
let dataDir: { path: string; remove: () => void };
let primary: RunningCluster;

const workerIds = (): number[] => Object.keys(cluster.workers ?? {}).map(Number);

beforeAll(async () => {
  db = await createTestDatabase('cluster_primary');
  knex = knexFactory({ client: 'pg', connection: db.url, pool: { min: 0, max: 2 } });
  dataDir = tempDir('cluster-primary');
  const config = testConfig({
    DATABASE_URL: db.url,
    REDIS_URL: redisUrl,
    VERDICT_REDIS_PREFIX: `${uniqueName('cluster')}:`,
    VERDICT_DATA_DIR: dataDir.path,
    VERDICT_ADMIN_TOKEN: ADMIN,
    VERDICT_WORKERS: '2',
  });
  primary = await startPrimary({ config, workers: 2, logger: createLogger({ level: 'silent' }) });
});

afterAll(async () => {
  await primary.stop();
  await knex.destroy();
  await db.drop();
  dataDir.remove();
});

describe('the cluster primary', () => {
  let key = '';
  let strictKey = '';

  it('listens once both workers do, and serves the admin and decision APIs through them', async () => {
    expect(primary.workers).toBe(2);
    expect(workerIds()).toHaveLength(2);
    for (const slug of ['acme', 'strict']) {
      await call(primary.url, 'POST', '/v1/tenants', { token: ADMIN, json: { slug, name: slug } });
    }
    await knex('tenants').where({ slug: 'strict' }).update({ audit_strict: true });
    const keyOf = async (slug: string): Promise<string> =>
      (
        await call(primary.url, 'POST', `/v1/tenants/${slug}/keys`, {
          token: ADMIN,
          json: { name: 'app', scopes: ['decide'] },
        })
      ).body.key as string;
    key = await keyOf('acme');
    strictKey = await keyOf('strict');
    const bundle = await rbacBundle();
    for (const slug of ['acme', 'strict']) {
      const pushed = await call(primary.url, 'POST', `/v1/tenants/${slug}/bundles`, {
        token: ADMIN,
        body: bundle.tarGz,
      });
      expect(pushed.status).toBe(201);
      const activated = await call(
        primary.url,
        'POST',
        `/v1/tenants/${slug}/bundles/rbac/activate`,
        {
          token: ADMIN,
          json: { version: '1.0.0' },
        },
      );
      expect(activated.status).toBe(200);
    }
    const res = await call(primary.url, 'POST', '/v1/data/rbac/allow', {
      token: key,
      json: { input: carolDeletes },
    });
    expect(res.status).toBe(200);
  });

  it("answers /metrics from any worker with every worker's metrics and the primary's", async () => {
    const decideOnNewConnection = async (): Promise<number> => {
      const res = await fetch(`${primary.url}/v1/data/rbac/allow`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          connection: 'close',
        },
        body: JSON.stringify({ input: carolDeletes }),
      });
      await res.arrayBuffer();
      return res.status;
    };
    // New connections are handed to the workers in turn: both answer some of these.
    for (let i = 0; i < 20; i++) expect(await decideOnNewConnection()).toBe(200);
    const scrapes = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${primary.url}/metrics`, { headers: { connection: 'close' } });
      expect(res.status).toBe(200);
      scrapes.push(parseExposition(await res.text()));
    }
    for (const text of scrapes) {
      // 21 decisions so far (one in the first test), whichever worker answered each.
      expect(sampleSum(text, 'verdict_decisions_total', { outcome: 'deny' })).toBe(21);
      expect(sampleSum(text, 'verdict_decision_duration_seconds_count')).toBe(21);
      // Each worker loaded the tenant's engines: summed over both.
      expect(sampleSum(text, 'verdict_engine_pool_tenants')).toBe(2);
      // The audit writer is the primary's; its rows are in the same text.
      expect(sampleSum(text, 'verdict_audit_rows_recorded_total')).toBeGreaterThanOrEqual(21);
      expect(sampleSum(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    }
  });

  it('answers a strict tenant once the primary has its row in the table', async () => {
    // The caller's trace id travels with the entry from the worker to the primary's writer.
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const res = await fetch(`${primary.url}/v1/data/rbac/allow`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${strictKey}`,
        'content-type': 'application/json',
        traceparent: `00-${traceId}-b7ad6b7169203331-01`,
      },
      body: JSON.stringify({ input: carolDeletes }),
    });
    expect(res.status).toBe(200);
    const { decision_id: decisionId } = (await res.json()) as { decision_id: string };
    const row = await knex<{ decision_id: string; seq: string; trace_id: string | null }>(
      'decisions',
    )
      .where({ decision_id: decisionId })
      .first('seq', 'trace_id');
    expect(row?.trace_id).toBe(traceId);
  });

  it('replaces a worker that dies', async () => {
    const before = workerIds();
    const victim = cluster.workers?.[String(before[0])];
    victim?.process.kill('SIGKILL');
    await until(
      () => Promise.resolve(workerIds().length === 2 && !workerIds().includes(before[0] as number)),
      'a replacement worker',
    );
    await until(async () => {
      const res = await call(primary.url, 'GET', '/health/ready').catch(() => undefined);
      return res?.status === 200;
    }, 'readiness');
  });

  it('on stop, drains the workers and writes every decision they answered', async () => {
    const answered: string[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await call(primary.url, 'POST', '/v1/data/rbac/allow', {
        token: key,
        json: { input: carolDeletes },
      });
      if (res.status === 200) answered.push(res.body.decision_id as string);
    }
    expect(answered).toHaveLength(30);
    await primary.stop();
    expect(workerIds()).toHaveLength(0);
    const rows = await knex('decisions')
      .whereIn('decision_id', answered)
      .select<{ decision_id: string }[]>('decision_id');
    expect(rows).toHaveLength(30);
    const tenant = await knex<{ id: string; slug: string }>('tenants')
      .where({ slug: 'acme' })
      .first('id');
    expect(await verifyChain(knex, tenant?.id ?? '')).toMatchObject({ ok: true });
  });
});
