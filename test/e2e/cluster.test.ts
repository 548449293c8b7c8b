/**
 * Cluster mode end to end, as an operator starts it: `verdict serve --workers 2` on the real
 * Postgres and Redis, driven over real HTTP. Both workers answer (their request log lines name
 * them); SIGTERM under load drains every worker, loses no decision, and leaves one verified
 * hash chain per tenant, written by the primary. Strict tenants and the replacement of a dead
 * worker are tested on the primary in process (test/integration/cluster-primary.test.ts).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { verifyChain } from '../../api/services/audit';
import { rbacBundle } from '../integration/bundles/fixtures';
import {
  createTestDatabase,
  redisUrl,
  tempDir,
  uniqueName,
  type TestDatabase,
} from '../integration/helpers/services';
import { parseExposition, sampleSum, type Exposition } from '../helpers/prometheus-text';
import { setUpAcmeWithRbac } from './http';
import {
  carolDeletes,
  freePort,
  streamDecisions,
  until as waitUntil,
  type DecisionStream,
} from './load';

jest.setTimeout(120_000);

const ADMIN = 'cluster-admin-token-0123456789abcdef';
const root = path.resolve(__dirname, '..', '..');

let db: TestDatabase;
let knex: Knex;
let dataDir: { path: string; remove: () => void };
let child: ChildProcess;
let base = '';
let output = '';
let key = '';
let tenantId = '';
/** Decisions the tests answered so far (each a deny: carol may not delete). */
let denied = 0;

/** Waits for `condition`; on timeout the error carries the server's last output. */
function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  return waitUntil(condition, what, () => `; server said:\n${output.slice(-3000)}`);
}

async function ready(): Promise<boolean> {
  try {
    return (await fetch(`${base}/health/ready`)).status === 200;
  } catch {
    return false;
  }
}

/** The worker processes of the cluster, by pid (children of the primary). */
function workerPids(): number[] {
  const text = execFileSync('ps', ['-o', 'pid=', '--ppid', String(child.pid)], {
    encoding: 'utf8',
  });
  return text
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((pid) => pid > 0);
}

/** Decides until `stop()`, each request on a new connection so every worker gets some. */
function decisionsBy(token: string): DecisionStream {
  return streamDecisions(async () => {
    const res = await fetch(`${base}/v1/data/rbac/allow`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        connection: 'close',
      },
      body: JSON.stringify({ input: carolDeletes }),
    });
    const body = (await res.json()) as { decision_id?: string };
    return res.status === 200 ? body.decision_id : undefined;
  });
}

beforeAll(async () => {
  db = await createTestDatabase('cluster');
  knex = knexFactory({ client: 'pg', connection: db.url, pool: { min: 0, max: 2 } });
  dataDir = tempDir('cluster');
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  child = spawn(process.execPath, [path.join(root, 'bin/verdict.js'), 'serve', '--workers', '2'], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: db.url,
      REDIS_URL: redisUrl,
      VERDICT_REDIS_PREFIX: `${uniqueName('cluster')}:`,
      PORT: String(port),
      VERDICT_HOST: '127.0.0.1',
      VERDICT_DATA_DIR: dataDir.path,
      VERDICT_ADMIN_TOKEN: ADMIN,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  await until(ready, 'verdict serve --workers 2 to be ready');

  ({ tenantId, key } = await setUpAcmeWithRbac(base, ADMIN, (await rbacBundle()).tarGz));
}, 120_000);

afterAll(async () => {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
  await knex.destroy();
  await db.drop();
  dataDir.remove();
});

describe('verdict serve --workers 2', () => {
  it('answers from both workers', async () => {
    expect(workerPids()).toHaveLength(2);
    const stream = decisionsBy(key);
    await until(() => Promise.resolve(stream.answered.length >= 40), '40 decisions');
    denied += (await stream.stop()).length;
    const workers = new Set(
      output
        .split('\n')
        .filter(
          (line) => line.includes('"request completed"') && line.includes('/v1/data/rbac/allow'),
        )
        .map((line) => (JSON.parse(line) as { worker?: number }).worker),
    );
    expect([...workers].sort()).toEqual([1, 2]);
  });

  it("answers /metrics with both workers' decisions and the primary's audit log", async () => {
    const scrape = async (): Promise<Exposition> => {
      const res = await fetch(`${base}/metrics`, { headers: { connection: 'close' } });
      expect(res.status).toBe(200);
      return parseExposition(await res.text());
    };
    // Each scrape reaches one worker, in turn; each counts the decisions of both.
    for (const text of [await scrape(), await scrape()]) {
      expect(
        sampleSum(text, 'verdict_decisions_total', { tenant: tenantId, outcome: 'deny' }),
      ).toBe(denied);
      expect(sampleSum(text, 'verdict_engine_pool_tenants')).toBe(2);
    }
    // The primary's audit writer has every decision's row once its batches are in.
    await until(
      async () => sampleSum(await scrape(), 'verdict_audit_rows_written_total') >= denied,
      "the primary's audit rows in the metrics",
    );
  });

  it('drains every worker on SIGTERM under load and loses no decision', async () => {
    const streams = [decisionsBy(key), decisionsBy(key), decisionsBy(key)];
    await until(() => Promise.resolve(streams.every((s) => s.answered.length >= 30)), 'load');
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    const answered = (await Promise.all(streams.map((s) => s.stop()))).flat();
    const rows = await knex('decisions')
      .whereIn('decision_id', answered)
      .select<{ decision_id: string }[]>('decision_id');
    expect(rows.map((r) => r.decision_id).sort()).toEqual([...answered].sort());
    // One chain per tenant, written by the primary alone: every link holds.
    expect(await verifyChain(knex, tenantId)).toMatchObject({ ok: true });
  });
});
