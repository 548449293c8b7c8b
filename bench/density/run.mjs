// Tenant density: many tenants on one `verdict serve`, each with its own API key and its own
// active bundle (examples/rbac with the tenant's own data.json, so each has its own revision
// and its own WASM instance), engines loaded lazily and evicted least-recently-used.
// Usage: npm run bench:density [-- --tenants 5000 --duration 10 --connections 64 --write]
//   --tenants <n>       tenants to create (default 5000)
//   --duration <s>      seconds per request-mix run (default 10)
//   --connections <n>   autocannon connections for the request mix (default 64)
//   --pool <n>          engine pool of the eviction phase (default: Verdict's default,
//                       VERDICT_ENGINE_POOL_MAX left unset)
//   --sample <n>        tenants probed resident and evicted in the eviction phase (default 500)
//   --setup-concurrency <n>  tenants set up at once through the admin API (default 8)
//   --write             rewrite the density section of docs/benchmarks.md and write
//                       docs/bench-data/density.json
// Three `verdict serve` processes in turn, all on one scratch Postgres database (created and
// dropped; DATABASE_URL's server, default postgres://postgres@127.0.0.1:5432/test) and one
// Redis key prefix (REDIS_URL, default redis://127.0.0.1:6379; removed afterwards), audit on:
//   setup     creates the tenants, their keys and bundles over the admin API, then stops;
//   resident  pool >= tenants: every tenant's first decision (cold: never loaded), then a second
//             (warm), then the request mix over all tenants with every engine resident;
//   eviction  the pool Verdict ships with: every tenant in turn (each load past the pool evicts
//             one), then tenants still resident and tenants evicted are asked again, then the
//             request mix over all tenants (most requests find their engine evicted).
// Memory is the server process's VmRSS and VmHWM from /proc/<pid>/status.
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import console from 'node:console';
import process from 'node:process';
import { performance } from 'node:perf_hooks';
import { Buffer } from 'node:buffer';
import { setTimeout as sleep } from 'node:timers/promises';
import { root, writeData, writeSection } from '../lib/docs.mjs';
import { freePort, json, spawnVerdict, stopChild, waitFor } from '../lib/http.mjs';
import { args as argv, flag, option, positive } from '../lib/options.mjs';
import { adminDatabaseUrl, redisUrl, scratch, verdictEnv } from '../lib/scratch.mjs';
import { distribution, quantile } from '../lib/stats.mjs';

const require = createRequire(import.meta.url);
const { fetch } = globalThis;
const autocannon = require('autocannon');
const pg = require('pg');
const { readTarGz, writeTarGz } = require(path.join(root, 'dist/policies/bundle/tar.js'));
const { loadConfig } = require(path.join(root, 'dist/api/config.js'));

// --- options ---------------------------------------------------------------------------
const tenantCount = positive('tenants', option('tenants', '5000'));
const duration = positive('duration', option('duration', '10'));
const connections = positive('connections', option('connections', '64'));
const sampleSize = positive('sample', option('sample', '500'));
const setupConcurrency = positive('setup-concurrency', option('setup-concurrency', '8'));
const poolOption = option('pool', undefined);
const defaultPool = loadConfig({}).enginePoolMax;
const evictionPool = poolOption === undefined ? defaultPool : positive('pool', poolOption);
const write = flag('write');
if (tenantCount > 100000) {
  console.error('--tenants is at most 100000 (the largest VERDICT_ENGINE_POOL_MAX)');
  process.exit(2);
}

const autocannonVersion = require('autocannon/package.json').version;

// --- tenants, their data and the request mix -------------------------------------------
// Tenant i has slug t00000..; its data.json names its own admin, editor and viewer (and knows
// no other tenant), so a decision is only right when it ran on that tenant's own data.
const example = path.join(root, 'examples/rbac');
const grants = JSON.parse(fs.readFileSync(path.join(example, 'data.json'), 'utf8')).grants;
const slugOf = (i) => `t${String(i).padStart(5, '0')}`;
const roles = ['admin', 'editor', 'viewer'];
const userOf = (i, role) => `${slugOf(i)}-${role}`;
const dataOf = (i) => ({
  tenants: {
    [slugOf(i)]: { members: Object.fromEntries(roles.map((role) => [userOf(i, role), [role]])) },
  },
  grants,
});

/** The rbac policy stated plainly, for the tenant whose data answers. */
function expected(i, { subject, action, resource }) {
  if (subject.tenant !== resource.tenant) return false;
  if (subject.id === resource.owner) return true; // every action of the mix is an owner action
  const members = dataOf(i).tenants[subject.tenant]?.members ?? {};
  return (members[subject.id] ?? []).some((role) =>
    grants[role].some(
      (g) =>
        (g.action === '*' || g.action === action) && (g.type === '*' || g.type === resource.type),
    ),
  );
}

let seed = 20261128;
const random = (n) => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return (seed >>> 8) % n;
};
const actions = ['read', 'update', 'delete', 'share'];
/** One request of tenant i: one of its users (or a user with no role) on some resource. */
function requestOf(i) {
  const users = [...roles.map((role) => userOf(i, role)), `${slugOf(i)}-erin`];
  const other = (i + 1 + random(Math.max(1, tenantCount - 1))) % tenantCount;
  return {
    subject: { id: users[random(users.length)], tenant: slugOf(i) },
    action: actions[random(actions.length)],
    resource: {
      type: random(4) === 3 ? 'folder' : 'document',
      id: `d${random(1000)}`,
      tenant: random(10) < 7 ? slugOf(i) : slugOf(other), // 30% cross tenants
      owner: users[random(users.length)],
    },
  };
}

// --- helpers ---------------------------------------------------------------------------
/** The process and its descendants (a cluster's workers, if any). */
function processTree(pid) {
  const tree = [pid];
  // The loop visits the children it appends.
  for (const id of tree) {
    for (const task of fs.readdirSync(`/proc/${id}/task`)) {
      const file = `/proc/${id}/task/${task}/children`;
      const children = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : '';
      if (children !== '') tree.push(...children.split(/\s+/).map(Number));
    }
  }
  return tree;
}

/**
 * Resident memory of the server's processes, in bytes: now (VmRSS) and each process's peak
 * (VmHWM), summed over the process tree.
 */
function memoryOf(pid) {
  const total = { rss: 0, hwm: 0, processes: 0 };
  for (const id of processTree(pid)) {
    const status = fs.readFileSync(`/proc/${id}/status`, 'utf8');
    const bytes = (field) =>
      Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))?.[1] ?? 0) * 1024;
    total.rss += bytes('VmRSS');
    total.hwm += bytes('VmHWM');
    total.processes++;
  }
  return total;
}

// --- set up ----------------------------------------------------------------------------
const run = scratch('density');
const { work, dbName, databaseUrl, redisPrefix } = run;
const adminToken = randomBytes(32).toString('base64url');
const children = [];

async function cleanUp() {
  for (const child of children.reverse()) await stopChild(child, 30000).catch(() => undefined);
  await run.cleanUp();
}

/** Starts `verdict serve`; `pool` sets VERDICT_ENGINE_POOL_MAX (undefined: Verdict's default). */
async function startVerdict(name, pool) {
  const port = await freePort();
  const env = verdictEnv(run, adminToken, {
    VERDICT_RATE_LIMIT_ADMIN: 'off',
    // One process, one engine pool: the density of one instance. With more workers each
    // holds its own pool (and loads each tenant on its own).
    VERDICT_WORKERS: '1',
    ...(pool === undefined ? {} : { VERDICT_ENGINE_POOL_MAX: String(pool) }),
  });
  const logFile = path.join(work, `verdict-${name}.log`);
  const child = spawnVerdict(root, port, env, logFile);
  children.push(child);
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`${base}/health/ready`, `verdict serve (${name})`, child, logFile);
  return { name, base, child, logFile };
}

async function stopVerdict(server) {
  await stopChild(server.child);
  children.splice(children.indexOf(server.child), 1);
}

function checkAlive(server) {
  if (server.child.exitCode !== null || server.child.signalCode !== null)
    throw new Error(
      `verdict serve (${server.name}) stopped (${server.child.exitCode ?? server.child.signalCode})`,
    );
}

/** Tenant i's bundle: the built example with the tenant's data.json and its own revision. */
function bundleOf(entries, i) {
  const data = Buffer.from(JSON.stringify(dataOf(i)));
  const out = entries.map((entry) => {
    if (entry.path === 'data.json') return { ...entry, data };
    if (entry.path === '.manifest') {
      const manifest = JSON.parse(entry.data.toString('utf8'));
      manifest.revision = createHash('sha256')
        .update(manifest.revision)
        .update(data)
        .digest('hex')
        .slice(0, 16);
      return { ...entry, data: Buffer.from(JSON.stringify(manifest, null, 2)) };
    }
    return entry;
  });
  return writeTarGz(out);
}

/** Creates every tenant with a decide key and its own active bundle; returns the keys. */
async function setUpTenants(server) {
  const bundleFile = path.join(work, 'rbac.tar.gz');
  execFileSync(
    process.execPath,
    [path.join(root, 'bin/verdict.js'), 'build', example, '-o', bundleFile, '-q'],
    { stdio: 'inherit' },
  );
  const entries = readTarGz(fs.readFileSync(bundleFile));
  const keys = new Array(tenantCount);
  const revisions = new Set();
  let next = 0;
  let done = 0;
  // Milliseconds spent waiting on each admin call, summed over all tenants.
  const spent = { tenant: 0, key: 0, upload: 0, activate: 0, pack: 0 };
  const timed = async (step, call) => {
    const started = performance.now();
    try {
      return await call();
    } finally {
      spent[step] += performance.now() - started;
    }
  };
  const admin = (url, body, type) =>
    json(`${server.base}/v1/tenants${url}`, { method: 'POST', token: adminToken, body, type });
  const worker = async () => {
    for (let i = next++; i < tenantCount; i = next++) {
      const slug = slugOf(i);
      await timed('tenant', () => admin('', JSON.stringify({ slug, name: `Density tenant ${i}` })));
      const key = await timed('key', () =>
        admin(`/${slug}/keys`, JSON.stringify({ name: 'bench', scopes: ['decide'] })),
      );
      keys[i] = key.key;
      const bundle = await timed('pack', async () => bundleOf(entries, i));
      const version = await timed('upload', () =>
        admin(`/${slug}/bundles`, bundle, 'application/gzip'),
      );
      revisions.add(version.revision);
      await timed('activate', () =>
        admin(
          `/${slug}/bundles/${version.bundle}/activate`,
          JSON.stringify({ version: version.version }),
        ),
      );
      done++;
      if (done % 500 === 0) console.log(`  ${done} tenants set up`);
    }
  };
  await Promise.all(Array.from({ length: setupConcurrency }, worker));
  const perTenantMs = Object.fromEntries(
    Object.entries(spent).map(([step, total]) => [step, total / tenantCount]),
  );
  return { keys, distinctRevisions: revisions.size, perTenantMs };
}

// --- measuring -------------------------------------------------------------------------
const decisionPath = '/v1/data/rbac/allow';
/** Decisions answered 2xx, and at most how many more a load run may have left unseen. */
let answeredDecisions = 0;
let inFlightAtEnd = 0;

/**
 * One decision at a time, as tenant `asTenant` (its key) for `input`, with `?metrics=true` so
 * the answer carries the server's own time for the decision, engine load included.
 */
async function probe(server, keys, asTenant, input) {
  const started = performance.now();
  const res = await fetch(`${server.base}${decisionPath}?metrics=true`, {
    method: 'POST',
    headers: { authorization: `Bearer ${keys[asTenant]}`, 'content-type': 'application/json' },
    body: JSON.stringify({ input }),
  });
  const text = await res.text();
  const clientMs = performance.now() - started;
  if (!res.ok) throw new Error(`decision for ${slugOf(asTenant)}: ${res.status} ${text}`);
  answeredDecisions++;
  const body = JSON.parse(text);
  return {
    clientMs,
    serverMs: body.metrics.timer_verdict_decision_ns / 1e6,
    result: body.result,
  };
}

/** Probes each tenant of `order` once; counts answers that differ from the plain statement. */
async function probeAll(server, keys, order, inputOf, label, checkpoints) {
  const client = [];
  const serverSide = [];
  let wrong = 0;
  for (const [n, i] of order.entries()) {
    const { asTenant, input, answer } = inputOf(i);
    const seen = await probe(server, keys, asTenant, input);
    client.push(seen.clientMs);
    serverSide.push(seen.serverMs);
    if (seen.result !== answer) wrong++;
    if ((n + 1) % 1000 === 0) console.log(`  ${label}: ${n + 1}/${order.length}`);
    if (checkpoints !== undefined && ((n + 1) % checkpoints.every === 0 || n + 1 === order.length))
      checkpoints.seen.push({ tenants: n + 1, rss: memoryOf(server.child.pid).rss });
  }
  return { client: distribution(client), server: distribution(serverSide), wrong };
}

/** Tenant i's own admin deletes a document of its own tenant that someone else owns: allowed. */
const ownAdmin = (i) => ({
  asTenant: i,
  input: {
    subject: { id: userOf(i, 'admin'), tenant: slugOf(i) },
    action: 'delete',
    resource: { type: 'document', id: 'd1', tenant: slugOf(i), owner: userOf(i, 'viewer') },
  },
  answer: true,
});
/** The same request of tenant i's admin sent with the next tenant's key: that tenant's data
 *  knows no such admin, so its policy must deny (each tenant decides on its own data only). */
const neighbourKey = (i) => ({ ...ownAdmin(i), asTenant: (i + 1) % tenantCount, answer: false });

/** A fixed, seeded mix of requests spread evenly over all tenants. */
function requestMix(keys, size = 16384) {
  return Array.from({ length: size }, () => {
    const i = random(tenantCount);
    const input = requestOf(i);
    return { i, input, authorization: `Bearer ${keys[i]}`, body: JSON.stringify({ input }) };
  });
}

/** One autocannon run of the mix; latencies come from each response. */
async function load(server, mix, seconds) {
  let next = 0;
  const latencies = [];
  const instance = autocannon({
    url: `${server.base}${decisionPath}`,
    method: 'POST',
    connections,
    duration: seconds,
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (request) => {
          const entry = mix[next++ % mix.length];
          return {
            ...request,
            headers: { ...request.headers, authorization: entry.authorization },
            body: entry.body,
          };
        },
      },
    ],
  });
  instance.on('response', (_client, _status, _bytes, ms) => latencies.push(ms));
  const result = await instance;
  latencies.sort((a, b) => a - b);
  answeredDecisions += result['2xx'];
  inFlightAtEnd += connections + result.timeouts;
  return {
    seconds: result.duration,
    answered: result['2xx'],
    perSecond: result['2xx'] / result.duration,
    p50: quantile(latencies, 0.5),
    p95: quantile(latencies, 0.95),
    p99: quantile(latencies, 0.99),
    max: latencies[latencies.length - 1] ?? NaN,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
  };
}

async function auditRows() {
  const client = new pg.Client({ connectionString: databaseUrl.toString() });
  await client.connect();
  try {
    return Number((await client.query('select count(*)::bigint as n from decisions')).rows[0].n);
  } finally {
    await client.end();
  }
}

/**
 * Transactions committed in the scratch database so far (pg_stat_database). Backends publish
 * their counts within about a second of going idle, so callers wait that long first.
 */
async function databaseTransactions() {
  await sleep(1500);
  const client = new pg.Client({ connectionString: adminDatabaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query(
      'select xact_commit::bigint as n from pg_stat_database where datname = $1',
      [dbName],
    );
    return Number(rows[0].n);
  } finally {
    await client.end();
  }
}

/** The mix, with the database transactions it caused per answered request. */
async function measuredMix(server, mix) {
  const before = await databaseTransactions();
  const run = await load(server, mix, duration);
  const transactions = (await databaseTransactions()) - before;
  return { ...run, databaseTransactions: transactions, perRequest: transactions / run.answered };
}

/**
 * The phase's last step: a warm-up, then the measured mix over all tenants and the memory
 * after it; the server is stopped (its final audit flush) and its audit rows accounted.
 */
async function finalMix(server, mix) {
  await load(server, mix, 2); // warm-up: JIT, connections
  const measured = await measuredMix(server, mix);
  checkAlive(server);
  const afterMix = memoryOf(server.child.pid);
  console.log(
    `  mix over ${tenantCount} tenants, ${connections} connections: ${fixed(measured.perSecond)} req/s  ` +
      `p50 ${ms(measured.p50)}  p95 ${ms(measured.p95)}  p99 ${ms(measured.p99)}  ` +
      `errors ${measured.errors} non-2xx ${measured.non2xx}; ${measured.perRequest.toFixed(2)} database transactions a request; RSS ${fixed(mib(afterMix.rss))} MiB, peak ${fixed(mib(afterMix.hwm))} MiB`,
  );
  await stopVerdict(server);
  return { mix: measured, afterMix, audit: auditAccount(await auditRows()) };
}

/** Audit rows written by a server (it flushed on stop) beside the decisions it answered. */
let accounted = { rows: 0, answered: 0, unseen: 0 };
function auditAccount(rows) {
  const phase = {
    rows: rows - accounted.rows,
    answered: answeredDecisions - accounted.answered,
    atMostUnseen: inFlightAtEnd - accounted.unseen,
  };
  accounted = { rows, answered: answeredDecisions, unseen: inFlightAtEnd };
  phase.consistent =
    phase.rows >= phase.answered && phase.rows <= phase.answered + phase.atMostUnseen;
  console.log(
    `  audit rows ${phase.rows} for ${phase.answered} answered decisions (+ at most ${phase.atMostUnseen} ` +
      `in flight or timed out: ${phase.consistent ? 'consistent' : 'ROWS MISSING OR EXTRA'})`,
  );
  return phase;
}

/** A seeded shuffle of 0..n-1. */
function shuffled(n) {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = random(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** `count` tenants spread evenly over `from`..`to`-1. */
function spread(from, to, count) {
  const n = Math.min(count, to - from);
  return Array.from({ length: n }, (_, k) => from + Math.floor((k * (to - from)) / n));
}

// --- run -------------------------------------------------------------------------------
const mib = (bytes) => bytes / 1024 / 1024;
const fixed = (n, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';
const ms = (n) => (Number.isFinite(n) ? `${n.toFixed(1)} ms` : 'n/a');
const dist = (d) => `p50 ${ms(d.p50)}  p95 ${ms(d.p95)}  p99 ${ms(d.p99)}  max ${ms(d.max)}`;

const stopOnSignal = () => {
  console.error('interrupted: cleaning up');
  cleanUp().finally(() => process.exit(130));
};
process.once('SIGINT', stopOnSignal);
process.once('SIGTERM', stopOnSignal);

const report = { setup: {}, resident: {}, eviction: {} };
const runStarted = performance.now();
let current;
try {
  await run.createDatabase();
  console.log(
    `${tenantCount} tenants on postgres ${databaseUrl.host}/${dbName}, redis ${redisUrl} (prefix ${redisPrefix})`,
  );

  // Setup: its own process, so what uploads leave on the heap is not counted below.
  current = await startVerdict('setup', undefined);
  const setupStarted = performance.now();
  const { keys, distinctRevisions, perTenantMs } = await setUpTenants(current);
  report.setup = {
    seconds: (performance.now() - setupStarted) / 1000,
    concurrency: setupConcurrency,
    distinctRevisions,
    perTenantMs,
  };
  console.log(
    `setup: ${tenantCount} tenants, keys and active bundles in ${report.setup.seconds.toFixed(1)} s ` +
      `(${setupConcurrency} at a time; ${distinctRevisions} distinct bundle revisions); ` +
      `mean ms per call: ${Object.entries(perTenantMs)
        .map(([step, value]) => `${step} ${value.toFixed(1)}`)
        .join(', ')}`,
  );
  await stopVerdict(current);
  // The admin API's own authorization decisions are audited too: not counted below.
  report.setup.auditRows = await auditRows();
  accounted.rows = report.setup.auditRows;
  const mix = requestMix(keys);

  // Resident: a pool that holds every tenant.
  const residentPool = Math.max(tenantCount, 1);
  current = await startVerdict('resident', residentPool);
  const r = report.resident;
  r.pool = residentPool;
  r.atStart = memoryOf(current.child.pid);
  console.log(`resident (pool ${residentPool}): RSS at start ${fixed(mib(r.atStart.rss))} MiB`);
  // RSS as tenants load, at every tenth of them.
  const growth = { every: Math.max(1, Math.ceil(tenantCount / 10)), seen: [] };
  r.cold = await probeAll(
    current,
    keys,
    shuffled(tenantCount),
    ownAdmin,
    'first decisions',
    growth,
  );
  r.rssAsTenantsLoad = growth.seen;
  r.allResident = memoryOf(current.child.pid);
  console.log(
    `  first decision per tenant (never loaded), client: ${dist(r.cold.client)}\n` +
      `                                        server: ${dist(r.cold.server)}`,
  );
  console.log(
    `  RSS with all ${tenantCount} resident: ${fixed(mib(r.allResident.rss))} MiB ` +
      `(as they loaded: ${r.rssAsTenantsLoad.map((c) => fixed(mib(c.rss))).join(', ')} MiB)`,
  );
  r.warm = await probeAll(current, keys, shuffled(tenantCount), neighbourKey, 'second decisions');
  console.log(
    `  second decision per tenant (resident), client: ${dist(r.warm.client)}\n` +
      `                                        server: ${dist(r.warm.server)}`,
  );
  // Some requests of the mix, one at a time, against the policy stated plainly.
  r.mixCheck = await probeAll(
    current,
    keys,
    spread(0, mix.length, 256),
    (k) => ({ asTenant: mix[k].i, input: mix[k].input, answer: expected(mix[k].i, mix[k].input) }),
    'mix sample',
  );
  const wrongResident = r.cold.wrong + r.warm.wrong + r.mixCheck.wrong;
  console.log(
    `  answers as the tenant's own data says: ${2 * tenantCount + r.mixCheck.client.count - wrongResident}/${2 * tenantCount + r.mixCheck.client.count}`,
  );
  if (wrongResident > 0)
    throw new Error(`${wrongResident} decisions differ from the tenant's own data`);
  Object.assign(r, await finalMix(current, mix));

  // Eviction: the pool Verdict ships with (or --pool).
  current = await startVerdict('eviction', poolOption === undefined ? undefined : evictionPool);
  const e = report.eviction;
  e.pool = evictionPool;
  e.atStart = memoryOf(current.child.pid);
  console.log(
    `eviction (pool ${evictionPool}${poolOption === undefined ? ', the default' : ''}): RSS at start ${fixed(mib(e.atStart.rss))} MiB`,
  );
  const inOrder = Array.from({ length: tenantCount }, (_, i) => i);
  e.fill = await probeAll(current, keys, inOrder, ownAdmin, 'every tenant in turn');
  e.afterFill = memoryOf(current.child.pid);
  // After the pass the pool holds the last `evictionPool` tenants; those before were evicted.
  const firstResident = Math.max(0, tenantCount - evictionPool);
  e.evicted = tenantCount - Math.min(tenantCount, evictionPool);
  e.stillResident = await probeAll(
    current,
    keys,
    spread(firstResident, tenantCount, sampleSize),
    ownAdmin,
    'resident again',
  );
  e.afterEviction =
    firstResident > 0
      ? await probeAll(current, keys, spread(0, firstResident, sampleSize), ownAdmin, 'evicted')
      : undefined;
  console.log(
    `  every tenant in turn (${e.evicted} evicted on the way), server: ${dist(e.fill.server)}; RSS ${fixed(mib(e.afterFill.rss))} MiB\n` +
      `  asked again while resident (${e.stillResident.client.count}), client: ${dist(e.stillResident.client)}\n` +
      `                                        server: ${dist(e.stillResident.server)}`,
  );
  if (e.afterEviction)
    console.log(
      `  asked again after eviction (${e.afterEviction.client.count}), client: ${dist(e.afterEviction.client)}\n` +
        `                                        server: ${dist(e.afterEviction.server)}`,
    );
  else console.log(`  nothing evicted: ${tenantCount} tenants fit a pool of ${evictionPool}`);
  const wrong = e.fill.wrong + e.stillResident.wrong + (e.afterEviction?.wrong ?? 0);
  if (wrong > 0) throw new Error(`${wrong} decisions differ from the tenant's own data`);
  Object.assign(e, await finalMix(current, mix));
} catch (error) {
  if (current && fs.existsSync(current.logFile))
    console.error(
      `--- ${path.basename(current.logFile)} (last lines)\n${fs.readFileSync(current.logFile, 'utf8').split('\n').slice(-15).join('\n')}`,
    );
  throw error;
} finally {
  process.removeListener('SIGINT', stopOnSignal);
  process.removeListener('SIGTERM', stopOnSignal);
  await cleanUp();
}
report.totalSeconds = (performance.now() - runStarted) / 1000;
console.log(`done in ${report.totalSeconds.toFixed(0)} s`);

// --- report ----------------------------------------------------------------------------
const { setup, resident, eviction } = report;
const goal = { rssBytes: 2 * 1024 ** 3, coldMs: 20 };
const residentPeak = Math.max(resident.allResident.hwm, resident.afterMix.hwm);
const coldUnderGoal =
  ['p50', 'p95', 'p99'].filter((q) => resident.cold.client[q] < goal.coldMs).join(', ') || 'none';
const perTenantKiB = (resident.allResident.rss - resident.atStart.rss) / tenantCount / 1024;
console.log(
  `\ngoal: ${tenantCount} tenants within 2 GiB RSS: peak ${fixed(mib(residentPeak))} MiB with all resident ` +
    `(${residentPeak <= goal.rssBytes ? 'within' : 'OVER'}); about ${fixed(perTenantKiB)} KiB per resident tenant; ` +
    `cold first decision < 20 ms at: ${coldUnderGoal}`,
);

if (write) {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  const command =
    `npm run bench:density -- ${argv.filter((a) => a !== '--write').join(' ')} --write`.replace(
      / {2,}/g,
      ' ',
    );
  const n = fixed(tenantCount);
  const poolNote =
    poolOption === undefined ? `${fixed(evictionPool)}, the default` : fixed(evictionPool);
  const memoryRow = (label, m, peak = true) =>
    `| ${label} | ${fixed(mib(m.rss))} | ${peak ? fixed(mib(m.hwm)) : ''} |`;
  const latencyRow = (label, d) =>
    `| ${label} | ${fixed(d.client.count)} | ${d.client.p50.toFixed(1)} | ${d.client.p95.toFixed(1)} | ${d.client.p99.toFixed(1)} | ${d.server.p50.toFixed(1)} | ${d.server.p95.toFixed(1)} | ${d.server.p99.toFixed(1)} |`;
  const mixRow = (label, m) =>
    `| ${label} | ${fixed(m.perSecond)} | ${m.p50.toFixed(1)} | ${m.p95.toFixed(1)} | ${m.p99.toFixed(1)} | ${m.errors} | ${m.non2xx} | ${m.perRequest.toFixed(2)} |`;
  const audits = [resident.audit, eviction.audit];
  const residentShare = Math.min(1, evictionPool / tenantCount);
  const lines = [
    `Measured by \`${command}\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.cpus().length} cores (${cpu}), autocannon ${autocannonVersion} in the same machine. Setup: ${n} tenants, their keys and their bundles (${fixed(setup.distinctRevisions)} distinct revisions) created, uploaded and activated over the admin API in ${setup.seconds.toFixed(0)} s, ${setup.concurrency} tenants at a time. The whole run took ${report.totalSeconds.toFixed(0)} s.`,
    '',
    `Goal (issue 11): 5,000 tenants served from one instance within 2 GiB RSS, cold first decision < 20 ms. Here: peak RSS ${fixed(mib(residentPeak))} MiB with all ${n} tenants resident and under the request mix (${residentPeak <= goal.rssBytes ? 'within' : 'over'} 2,048 MiB), about ${fixed(perTenantKiB)} KiB per resident tenant; first decision of a never-loaded tenant, seen by the client: p50 ${ms(resident.cold.client.p50)}, p95 ${ms(resident.cold.client.p95)}, p99 ${ms(resident.cold.client.p99)} (under 20 ms at: ${coldUnderGoal}).`,
    '',
    '| server process memory | RSS MiB | peak (VmHWM) MiB |',
    '| --------------------- | ------: | ---------------: |',
    memoryRow(`pool ${fixed(resident.pool)}: at start, nothing loaded`, resident.atStart, false),
    memoryRow(`pool ${fixed(resident.pool)}: all ${n} tenants resident`, resident.allResident),
    memoryRow(`pool ${fixed(resident.pool)}: after the request mix`, resident.afterMix),
    memoryRow(`pool ${poolNote}: at start`, eviction.atStart, false),
    memoryRow(`pool ${poolNote}: after every tenant in turn`, eviction.afterFill),
    memoryRow(`pool ${poolNote}: after the request mix`, eviction.afterMix),
    '',
    '| decisions one at a time | tenants | client p50 ms | p95 | p99 | server p50 ms | p95 | p99 |',
    '| ----------------------- | ------: | ------------: | --: | --: | ------------: | --: | --: |',
    latencyRow(`first decision, never loaded (pool ${fixed(resident.pool)})`, resident.cold),
    latencyRow(`second decision, resident (pool ${fixed(resident.pool)})`, resident.warm),
    latencyRow(`every tenant in turn (pool ${poolNote})`, eviction.fill),
    latencyRow(`again, still resident (pool ${poolNote})`, eviction.stillResident),
    ...(eviction.afterEviction
      ? [latencyRow(`again, after eviction (pool ${poolNote})`, eviction.afterEviction)]
      : []),
    '',
    `| request mix over all ${n} tenants, ${connections} connections, ${duration} s | requests / s | p50 ms | p95 ms | p99 ms | errors | non-2xx | database transactions / request |`,
    '| ------------------------------------------------ | -----------: | -----: | -----: | -----: | -----: | ------: | ------: |',
    mixRow(`pool ${fixed(resident.pool)}: every engine resident`, resident.mix),
    mixRow(
      `pool ${poolNote}: at most ${(residentShare * 100).toFixed(0)}% of requests find their engine resident`,
      eviction.mix,
    ),
    '',
    `- Memory as the tenants loaded (first pass, pool ${fixed(resident.pool)}): ${resident.rssAsTenantsLoad.map((c) => `${fixed(c.tenants)} tenants ${fixed(mib(c.rss))} MiB`).join(', ')}.`,
    eviction.afterEviction
      ? `- Eviction: the pass over every tenant in turn loaded ${n} tenants into a pool of ${fixed(evictionPool)}, evicting ${fixed(eviction.evicted)} on the way. Asked again, tenants still resident answered in ${ms(eviction.stillResident.server.p50)} of server time at the median and evicted ones in ${ms(eviction.afterEviction.server.p50)}: the evicted ones were loaded again (bundle read from Postgres, WASM instance made, data set) before deciding.`
      : `- Eviction: none; ${n} tenants fit the pool of ${fixed(evictionPool)}.`,
    `- Answers: ${fixed(2 * tenantCount + resident.mixCheck.client.count - resident.cold.wrong - resident.warm.wrong - resident.mixCheck.wrong)} of ${fixed(2 * tenantCount + resident.mixCheck.client.count)} decisions as the tenant's own data says: each tenant's admin allowed with its own key, the same request denied with the next tenant's key (that tenant's data knows no such admin), and ${resident.mixCheck.client.count} requests of the mix against the policy stated plainly.`,
    `- Audit: ${audits.map((a) => `${fixed(a.rows)} rows for ${fixed(a.answered)} answered decisions (at most ${fixed(a.atMostUnseen)} more in flight when a load run stopped)`).join('; ')}: ${audits.every((a) => a.consistent) ? 'every server within those bounds' : 'ROWS MISSING OR EXTRA'}.`,
  ];
  await writeSection('density', lines);
  await writeData('density', {
    measuredAt: new Date().toISOString(),
    command,
    node: process.version,
    cores: os.cpus().length,
    cpu,
    loadGenerator: `autocannon ${autocannonVersion}`,
    tenants: tenantCount,
    connections,
    durationSeconds: duration,
    goal,
    peakRssWithAllResidentBytes: residentPeak,
    perResidentTenantBytes: perTenantKiB * 1024,
    ...report,
  });
  console.log('wrote docs/benchmarks.md and docs/bench-data/density.json');
}
