/**
 * Two `verdict serve` instances on one Postgres and one Redis, as two pods of a deployment
 * run (and old and new pods during a rolling update): both answer decisions of the same
 * tenant under load, one is stopped (SIGTERM) while the other keeps answering, and then the
 * tenant's one hash chain holds every answered decision exactly once, in the order each
 * client was answered, and `verdict decisions verify` finds it intact.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
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
import { runVerdict, verdictBin } from '../integration/helpers/verdict-bin';
import { call, setUpAcmeWithRbac } from './http';
import { carolDeletes, freePort, streamDecisions, until, type DecisionStream } from './load';

jest.setTimeout(180_000);

const ADMIN = 'instances-admin-token-0123456789abcdef';

interface Instance {
  readonly base: string;
  readonly child: ChildProcess;
  readonly output: () => string;
}

let db: TestDatabase;
let knex: Knex;
const dirs: { remove: () => void }[] = [];
const instances: Instance[] = [];
const redisPrefix = `${uniqueName('instances')}:`;
let key = '';
let tenantId = '';
/** Decisions answered before the load: the second instance's first answers. */
const earlier: string[] = [];

async function ready(base: string): Promise<boolean> {
  try {
    return (await fetch(`${base}/health/ready`)).status === 200;
  } catch {
    return false;
  }
}

/** One instance: its own port and data folder (spool), the shared database and Redis. */
async function startInstance(): Promise<Instance> {
  const port = await freePort();
  const dataDir = tempDir('instances');
  dirs.push(dataDir);
  let output = '';
  const child = spawn(process.execPath, [verdictBin, 'serve'], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: db.url,
      REDIS_URL: redisUrl,
      VERDICT_REDIS_PREFIX: redisPrefix,
      // One process each: a client's decisions are then logged in the order it was answered.
      VERDICT_WORKERS: '1',
      PORT: String(port),
      VERDICT_HOST: '127.0.0.1',
      VERDICT_DATA_DIR: dataDir.path,
      VERDICT_ADMIN_TOKEN: ADMIN,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const instance = { base: `http://127.0.0.1:${String(port)}`, child, output: () => output };
  instances.push(instance);
  return instance;
}

async function whenReady(instance: Instance): Promise<void> {
  await until(
    () => ready(instance.base),
    `verdict serve at ${instance.base} to be ready`,
    () => `; it said:\n${instance.output().slice(-3000)}`,
  );
}

/** SIGTERM, then the exit status. */
async function stop(instance: Instance): Promise<number | null> {
  instance.child.kill('SIGTERM');
  const [code] = (await once(instance.child, 'exit')) as [number | null];
  return code;
}

function decisionsAt(base: string): DecisionStream {
  return streamDecisions(async () => {
    const res = await call(base, 'POST', '/v1/data/rbac/allow', {
      token: key,
      json: { input: carolDeletes },
    });
    return res.status === 200 ? (res.body.decision_id as string) : undefined;
  });
}

beforeAll(async () => {
  db = await createTestDatabase('instances');
  knex = knexFactory({ client: 'pg', connection: db.url, pool: { min: 0, max: 2 } });
  // Started together, both apply the migrations (one waits for the other's lock).
  const [first, second] = [await startInstance(), await startInstance()] as [Instance, Instance];
  await Promise.all([whenReady(first), whenReady(second)]);
  ({ tenantId, key } = await setUpAcmeWithRbac(first.base, ADMIN, (await rbacBundle()).tarGz));
  // The second instance learns of the bundle from the database and Redis.
  await until(async () => {
    const res = await call(second.base, 'POST', '/v1/data/rbac/allow', {
      token: key,
      json: { input: carolDeletes },
    });
    if (res.status === 200) earlier.push(res.body.decision_id as string);
    return res.status === 200;
  }, 'the second instance to answer for acme');
}, 180_000);

afterAll(async () => {
  for (const { child } of instances) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
  await knex.destroy();
  await db.drop();
  for (const dir of dirs) dir.remove();
});

describe('two verdict serve instances sharing a tenant', () => {
  it('log every decision of both in one verified chain, one instance stopping under load', async () => {
    const [first, second] = instances as [Instance, Instance];
    const streams = [
      decisionsAt(first.base),
      decisionsAt(first.base),
      decisionsAt(second.base),
      decisionsAt(second.base),
    ];
    await until(
      () => Promise.resolve(streams.every((stream) => stream.answered.length >= 40)),
      '40 decisions on every stream',
    );
    // The second instance goes away under load (a pod replaced); the first goes on.
    expect(await stop(second)).toBe(0);
    const firstSoFar = streams[0]?.answered.length ?? 0;
    await until(
      () => Promise.resolve((streams[0]?.answered.length ?? 0) >= firstSoFar + 40),
      'decisions on the first instance after the second stopped',
    );
    const answered = await Promise.all(streams.map((stream) => stream.stop()));
    const all = answered.flat();
    expect(answered.every((ids) => ids.length >= 40)).toBe(true);

    // The first instance is still up: wait for its last batch, then verify through the CLI.
    const chainLength = all.length + earlier.length;
    await until(async () => {
      const [row] = await knex('decisions')
        .where('tenant_id', tenantId)
        .count<{ n: string }[]>('* as n');
      return Number(row?.n) >= chainLength;
    }, 'every answered decision in the table');
    const cli = await runVerdict(['decisions', 'verify', '--tenant', 'acme'], {
      VERDICT_SERVER: first.base,
      VERDICT_ADMIN_TOKEN: ADMIN,
    });
    expect(cli).toMatchObject({
      code: 0,
      stdout: `chain intact: ${String(chainLength)} rows verified up to seq ${String(chainLength)}\n`,
    });
    expect(await stop(first)).toBe(0);

    const chain = await knex('decisions')
      .where('tenant_id', tenantId)
      .orderBy('seq')
      .select<{ decision_id: string; ts: Date }[]>('decision_id', 'ts');
    const ids = chain.map((row) => row.decision_id);
    expect(ids).toHaveLength(chainLength);
    expect(new Set(ids).size).toBe(ids.length);
    // Every answered decision is there; each client's in the order it was answered.
    for (const streamIds of answered) {
      const own = new Set(streamIds);
      expect(ids.filter((id) => own.has(id))).toEqual(streamIds);
    }
    chain.forEach((row, i) => {
      if (i > 0) expect(row.ts.getTime()).toBeGreaterThanOrEqual(chain[i - 1]?.ts.getTime() ?? 0);
    });
    expect(await verifyChain(knex, tenantId)).toMatchObject({ ok: true, rows: ids.length });
  });
});
