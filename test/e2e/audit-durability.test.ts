/**
 * The audit log loses nothing, seen from the decision API: (1) Postgres refuses connections in
 * the middle of a stream of decisions and comes back; (2) `verdict serve` gets SIGTERM under
 * load. In both, every decision_id the API answered is in the decisions table exactly once,
 * in the order it was answered, and the tenant's hash chain verifies.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { start, type RunningServer } from '../../api/server';
import { verifyChain } from '../../api/services/audit';
import { rbacBundle } from '../integration/bundles/fixtures';
import {
  createTestDatabase,
  setDatabaseReachable,
  tempDir,
  testConfig,
  type TestDatabase,
} from '../integration/helpers/services';
import { call, setUpAcmeWithRbac } from './http';
import { carolDeletes, freePort, streamDecisions, until, type DecisionStream } from './load';

const ADMIN = 'durability-admin-token-0123456789';
const root = path.resolve(__dirname, '..', '..');

let db: TestDatabase;
let server: RunningServer | undefined;
let key = '';
let tenantId = '';

/** Decides until `stop()` says so; the ids of the decisions answered, in answer order. */
function decisionsAt(baseUrl: string): DecisionStream {
  return streamDecisions(async () => {
    const res = await call(baseUrl, 'POST', '/v1/data/rbac/allow', {
      token: key,
      json: { input: carolDeletes },
    });
    return res.status === 200 ? (res.body.decision_id as string) : undefined;
  });
}

/** Every answered id is in the table once, in the order answered, and the chain verifies. */
async function expectAllRecorded(knex: RunningServer['db']['knex'], ids: string[]): Promise<void> {
  const rows = await knex('decisions')
    .where('tenant_id', tenantId)
    .orderBy('seq')
    .select<{ decision_id: string }[]>('decision_id');
  const inTable = rows.map((r) => r.decision_id);
  expect(new Set(inTable).size).toBe(inTable.length);
  const answered = new Set(ids);
  expect(inTable.filter((id) => answered.has(id))).toEqual(ids);
  const chain = await verifyChain(knex, tenantId);
  expect(chain).toMatchObject({ ok: true, rows: inTable.length });
}

beforeAll(async () => {
  db = await createTestDatabase('durability');
  server = await start({
    config: testConfig({ DATABASE_URL: db.url, VERDICT_ADMIN_TOKEN: ADMIN }),
  });
  ({ tenantId, key } = await setUpAcmeWithRbac(server.url, ADMIN, (await rbacBundle()).tarGz));
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await setDatabaseReachable(db.name, true);
  await db.drop();
});

describe('audit durability', () => {
  it('loses no decision while Postgres is away during a stream of decisions', async () => {
    const running = server as RunningServer;
    const stream = decisionsAt(running.url);
    await until(() => Promise.resolve(stream.answered.length >= 50), '50 decisions');
    await setDatabaseReachable(db.name, false);
    const duringOutage = stream.answered.length;
    await until(() => Promise.resolve(running.audit.isSpooling), 'the writer to spool');
    await until(
      () => Promise.resolve(stream.answered.length >= duringOutage + 100),
      '100 decisions during the outage',
    );
    await setDatabaseReachable(db.name, true);
    await until(
      () => Promise.resolve(stream.answered.length >= duringOutage + 200),
      'decisions after the outage',
    );
    const ids = await stream.stop();
    await until(async () => {
      await running.audit.flush();
      return !running.audit.isSpooling && running.audit.queueLength === 0;
    }, 'the spool replay');
    expect(running.audit.counters.replayed).toBeGreaterThan(0);
    expect(running.audit.counters.dropped).toBe(0);
    await expectAllRecorded(running.db.knex, ids);
  }, 120_000);

  it('loses no decision when verdict serve gets SIGTERM under load', async () => {
    await (server as RunningServer).stop();
    server = undefined;
    const port = await freePort();
    const dataDir = tempDir('durability-serve');
    const child = spawn(process.execPath, [path.join(root, 'bin/verdict.js'), 'serve'], {
      env: {
        ...process.env,
        DATABASE_URL: db.url,
        PORT: String(port),
        VERDICT_HOST: '127.0.0.1',
        VERDICT_DATA_DIR: dataDir.path,
        VERDICT_ADMIN_TOKEN: ADMIN,
        LOG_LEVEL: 'silent',
        REDIS_URL: '',
      },
      stdio: 'ignore',
    });
    try {
      const base = `http://127.0.0.1:${String(port)}`;
      await until(async () => {
        try {
          return (await fetch(`${base}/health/ready`)).status === 200;
        } catch {
          return false;
        }
      }, 'verdict serve to be ready');
      const streams = [decisionsAt(base), decisionsAt(base), decisionsAt(base)];
      await until(() => Promise.resolve(streams.every((s) => s.answered.length >= 30)), 'load');
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(0);
      const answered = (await Promise.all(streams.map((s) => s.stop()))).flat();
      expect(answered.length).toBeGreaterThanOrEqual(90);
      // Three clients interleave, so only the set is checked here, then the chain.
      const audit = await start({
        config: testConfig({ DATABASE_URL: db.url, VERDICT_ADMIN_TOKEN: ADMIN }),
      });
      server = audit;
      const rows = await audit.db
        .knex('decisions')
        .whereIn('decision_id', answered)
        .select<{ decision_id: string }[]>('decision_id');
      expect(rows.map((r) => r.decision_id).sort()).toEqual([...answered].sort());
      expect(await verifyChain(audit.db.knex, tenantId)).toMatchObject({ ok: true });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      dataDir.remove();
    }
  }, 120_000);
});
