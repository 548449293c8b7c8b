/**
 * Cluster mode end to end: `verdict serve --workers 2` on the real Postgres and Redis, driven
 * over real HTTP. Both workers answer (their request log lines name them); every decision is
 * logged by the primary in one hash chain per tenant; a strict tenant's answer comes only
 * after its row is in the table; a worker killed outright is replaced while the service keeps
 * answering; SIGTERM under load drains every worker and loses no decision.
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
import { call } from './http';
import { freePort, streamDecisions, until as waitUntil, type DecisionStream } from './load';

jest.setTimeout(120_000);

const ADMIN = 'cluster-admin-token-0123456789abcdef';
const root = path.resolve(__dirname, '..', '..');
const carolDeletes = {
  subject: { id: 'carol', tenant: 'acme' },
  action: 'delete',
  resource: { type: 'document', id: 'd1', tenant: 'acme', owner: 'bob' },
};

let db: TestDatabase;
let knex: Knex;
let dataDir: { path: string; remove: () => void };
let child: ChildProcess;
let base = '';
let output = '';
let key = '';
let strictKey = '';
let tenantId = '';

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

  const tenant = await call(base, 'POST', '/v1/tenants', {
    token: ADMIN,
    json: { slug: 'acme', name: 'Acme' },
  });
  tenantId = tenant.body.id as string;
  await call(base, 'POST', '/v1/tenants', {
    token: ADMIN,
    json: { slug: 'strict', name: 'Strict' },
  });
  await knex('tenants').where({ slug: 'strict' }).update({ audit_strict: true });
  const keyOf = async (slug: string): Promise<string> =>
    (
      await call(base, 'POST', `/v1/tenants/${slug}/keys`, {
        token: ADMIN,
        json: { name: 'app', scopes: ['decide'] },
      })
    ).body.key as string;
  key = await keyOf('acme');
  strictKey = await keyOf('strict');
  const bundle = await rbacBundle();
  for (const slug of ['acme', 'strict']) {
    expect(
      (
        await call(base, 'POST', `/v1/tenants/${slug}/bundles`, {
          token: ADMIN,
          body: bundle.tarGz,
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await call(base, 'POST', `/v1/tenants/${slug}/bundles/rbac/activate`, {
          token: ADMIN,
          json: { version: '1.0.0' },
        })
      ).status,
    ).toBe(200);
  }
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
    await stream.stop();
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

  it('answers a strict tenant only once its row is in the table', async () => {
    for (let i = 0; i < 10; i++) {
      const res = await call(base, 'POST', '/v1/data/rbac/allow', {
        token: strictKey,
        json: { input: carolDeletes },
      });
      expect(res.status).toBe(200);
      const row: unknown = await knex('decisions')
        .where({ decision_id: res.body.decision_id as string })
        .first('seq');
      expect(row).toBeDefined();
    }
  });

  it('replaces a worker killed outright and keeps answering', async () => {
    const [victim] = workerPids();
    process.kill(victim as number, 'SIGKILL');
    await until(
      () => Promise.resolve(workerPids().length === 2 && !workerPids().includes(victim as number)),
      'a replacement worker',
    );
    await until(ready, 'readiness after the replacement');
    const stream = decisionsBy(key);
    await until(
      () => Promise.resolve(stream.answered.length >= 20),
      '20 decisions after the replacement',
    );
    await stream.stop();
    expect(output).toContain('worker exited; replacing it');
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
    const strictTenant = await knex<{ id: string; slug: string }>('tenants')
      .where({ slug: 'strict' })
      .first('id');
    if (strictTenant === undefined) throw new Error('tenant strict is gone');
    expect(await verifyChain(knex, strictTenant.id)).toMatchObject({ ok: true });
  });
});
