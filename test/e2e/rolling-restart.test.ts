/**
 * A rolling restart under load, as Kubernetes does one: two `verdict serve` instances on the
 * real Postgres and Redis (one a single process, one a cluster of two workers) behind a
 * loopback balancer that routes like a Service (test/e2e/balancer.ts), with keep-alive clients
 * deciding through it the whole time. Each instance in turn gets SIGTERM, drains and exits,
 * and a new one takes its place. Every request must be answered 200 with the right answer:
 * the balancer retries nothing, so a connection refused or cut during a restart fails it.
 * Afterwards every answered decision is in the log and `verdict decisions verify` holds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import knexFactory, { type Knex } from 'knex';
import { rbacBundle } from '../integration/bundles/fixtures';
import {
  createTestDatabase,
  redisUrl,
  tempDir,
  uniqueName,
  type TestDatabase,
} from '../integration/helpers/services';
import { repoRoot, runVerdict, verdictBin } from '../integration/helpers/verdict-bin';
import { Balancer } from './balancer';
import { setUpAcmeWithRbac } from './http';
import { carolDeletes, freePort, until } from './load';

jest.setTimeout(300_000);

const ADMIN = 'rolling-admin-token-0123456789abcdef';
const clients = 4;

/** Inputs the clients take turns with, and the answer examples/rbac gives each. */
const cases = [
  { input: carolDeletes, allowed: false },
  // bob owns the document: owners may delete what they own.
  { input: { ...carolDeletes, subject: { id: 'bob', tenant: 'acme' } }, allowed: true },
] as const;

interface Instance {
  readonly port: number;
  readonly workers: number;
  readonly child: ChildProcess;
  /** The tail of what the process printed. */
  output(): string;
  removeDataDir(): void;
}

let db: TestDatabase;
let knex: Knex;
let balancer: Balancer;
let sharedEnv: NodeJS.ProcessEnv;
const instances: Instance[] = [];

async function startInstance(workers: number): Promise<Instance> {
  const port = await freePort();
  const dataDir = tempDir('rolling');
  const child = spawn(process.execPath, [verdictBin, 'serve'], {
    cwd: repoRoot,
    env: {
      ...sharedEnv,
      PORT: String(port),
      VERDICT_WORKERS: String(workers),
      VERDICT_DATA_DIR: dataDir.path,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-6000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const instance: Instance = {
    port,
    workers,
    child,
    output: () => output,
    removeDataDir: dataDir.remove,
  };
  instances.push(instance);
  return instance;
}

/** Starts an instance, hands it to the balancer and waits until the balancer routes to it. */
async function addInstance(workers: number): Promise<Instance> {
  const instance = await startInstance(workers);
  balancer.add(instance.port);
  await until(
    () => Promise.resolve(balancer.isReady(instance.port)),
    `the instance on port ${instance.port} to be ready`,
    () => `; it said:\n${instance.output()}`,
  );
  return instance;
}

interface Outcome {
  readonly ok: boolean;
  readonly detail: string;
  readonly decisionId?: string;
}

/** One decision through the balancer on `agent`'s connection. */
function decide(agent: http.Agent, key: string, turn: number): Promise<Outcome> {
  const { input, allowed } = cases[turn % cases.length] as (typeof cases)[number];
  const body = JSON.stringify({ input });
  return new Promise((resolve) => {
    const req = http.request(
      `${balancer.url}/v1/data/rbac/allow`,
      {
        method: 'POST',
        agent,
        timeout: 30_000,
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('error', (err) => {
          resolve({ ok: false, detail: `response cut: ${err.message}` });
        });
        res.on('end', () => {
          let answer: { result?: unknown; decision_id?: unknown } = {};
          try {
            answer = JSON.parse(text) as typeof answer;
          } catch {
            // Reported below as a wrong answer.
          }
          const ok = res.statusCode === 200 && answer.result === allowed;
          resolve({
            ok,
            detail: ok ? 'ok' : `HTTP ${res.statusCode ?? '?'} ${text.slice(0, 200)}`,
            ...(typeof answer.decision_id === 'string' ? { decisionId: answer.decision_id } : {}),
          });
        });
      },
    );
    req.on('timeout', () => {
      req.destroy(new Error('no answer within 30 s'));
    });
    req.on('error', (err) => {
      resolve({ ok: false, detail: `request failed: ${err.message}` });
    });
    req.end(body);
  });
}

interface Load {
  readonly answered: string[];
  readonly failures: string[];
  requests(): number;
  stop(): Promise<void>;
}

/** `clients` keep-alive clients deciding in a loop, one connection each, until stopped. */
function steadyLoad(key: string): Load {
  const answered: string[] = [];
  const failures: string[] = [];
  let requests = 0;
  const flow = { on: true };
  const loops = Array.from({ length: clients }, async (_, client) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let turn = client; flow.on; turn++) {
      const outcome = await decide(agent, key, turn);
      requests += 1;
      if (outcome.decisionId !== undefined) answered.push(outcome.decisionId);
      if (!outcome.ok) failures.push(outcome.detail);
    }
    agent.destroy();
  });
  return {
    answered,
    failures,
    requests: () => requests,
    stop: async () => {
      flow.on = false;
      await Promise.all(loops);
    },
  };
}

interface Restart {
  /** Requests answered between the SIGTERM and the replacement being routed to. */
  readonly requestsMeanwhile: number;
  /** Connections the balancer handed to the old instance after its SIGTERM. */
  readonly connectionsWhileDraining: number;
}

/** SIGTERM to `old`, its exit, then a new instance like it in the balancer (a new pod). */
async function restart(old: Instance, load: Load): Promise<Restart> {
  const requestsBefore = load.requests();
  const connectionsBefore = balancer.stats(old.port)?.connections ?? 0;
  old.child.kill('SIGTERM');
  const [code] = (await once(old.child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`the old instance exited with ${code}:\n${old.output()}`);
  const connectionsWhileDraining = (balancer.stats(old.port)?.connections ?? 0) - connectionsBefore;
  await balancer.remove(old.port);
  await addInstance(old.workers);
  return { requestsMeanwhile: load.requests() - requestsBefore, connectionsWhileDraining };
}

beforeAll(async () => {
  db = await createTestDatabase('rolling');
  knex = knexFactory({ client: 'pg', connection: db.url, pool: { min: 0, max: 2 } });
  sharedEnv = {
    PATH: process.env.PATH,
    DATABASE_URL: db.url,
    REDIS_URL: redisUrl,
    VERDICT_REDIS_PREFIX: `${uniqueName('rolling')}:`,
    VERDICT_HOST: '127.0.0.1',
    VERDICT_ADMIN_TOKEN: ADMIN,
    // Every instance must hold the same keys: what one encrypts, another decrypts.
    VERDICT_DATA_KEYS: JSON.stringify({ k1: randomBytes(32).toString('base64') }),
    VERDICT_DATA_KEY_ID: 'k1',
    VERDICT_BLIND_INDEX_KEY: randomBytes(32).toString('base64'),
    VERDICT_SHUTDOWN_DELAY_MS: '3000',
    VERDICT_DB_POOL_MAX: '4',
    // Every client is 127.0.0.1 with one key: the limits would count the test, not clients.
    VERDICT_RATE_LIMIT_IP: 'off',
    VERDICT_RATE_LIMIT_DECISIONS: 'off',
    VERDICT_RATE_LIMIT_ADMIN: 'off',
    LOG_LEVEL: 'warn',
  };
  balancer = await Balancer.start({ probeIntervalMs: 150, probeTimeoutMs: 1000 });
}, 120_000);

afterAll(async () => {
  for (const instance of instances) {
    const { child } = instance;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    instance.removeDataDir();
  }
  await balancer.close();
  await knex.destroy();
  await db.drop();
});

describe('a rolling restart of two instances behind a Service-like balancer', () => {
  it('answers every request, loses no decision and keeps the audit chain whole', async () => {
    const first = await addInstance(1);
    const second = await addInstance(2);
    const { tenantId, key } = await setUpAcmeWithRbac(
      balancer.url,
      ADMIN,
      (await rbacBundle()).tarGz,
    );

    const load = steadyLoad(key);
    await until(() => Promise.resolve(load.requests() >= 200), '200 requests before the restarts');
    const one = await restart(first, load);
    const two = await restart(second, load);
    const afterRestarts = load.requests();
    await until(
      () => Promise.resolve(load.requests() >= afterRestarts + 200),
      '200 requests after the restarts',
    );
    await load.stop();

    const requests = load.requests();
    process.stdout.write(
      `rolling restart: ${requests} requests, ${load.failures.length} failed, 2 restarts ` +
        `(${one.requestsMeanwhile} and ${two.requestsMeanwhile} requests during them; ` +
        `${one.connectionsWhileDraining} and ${two.connectionsWhileDraining} new connections to an instance while it drained)\n`,
    );
    expect(load.failures.slice(0, 5)).toEqual([]);
    expect(balancer.unrouted).toBe(0);
    expect(load.answered).toHaveLength(requests);
    // Both restarts happened while decisions flowed.
    expect(one.requestsMeanwhile).toBeGreaterThan(0);
    expect(two.requestsMeanwhile).toBeGreaterThan(0);

    // Every answered decision reaches the log (the running instances write in batches).
    await until(async () => {
      const { rows } = await knex.raw<{ rows: { logged: number }[] }>(
        'select count(*)::int as logged from decisions where tenant_id = ? and decision_id = any(?::uuid[])',
        [tenantId, load.answered],
      );
      return rows[0]?.logged === load.answered.length;
    }, 'every answered decision in the log');

    const verify = await runVerdict(
      ['decisions', 'verify', '--tenant', 'acme', '--server', balancer.url, '--token', ADMIN],
      {},
    );
    expect({ code: verify.code, stderr: verify.stderr }).toEqual({ code: 0, stderr: '' });
    expect(verify.stdout).toMatch(/^chain intact: \d+ rows verified/);
  });
});
