// The decision cache on a Zipf-distributed mix of inputs, for two workloads: examples/rbac (a
// policy cheaper to evaluate than a cache lookup) and `drive` (bench/cache/drive.mjs: nested
// groups, a folder tree and a list of shares, generated here; a policy that walks its data).
// For each: L1/L2 hit rates and the latency of a decision with the bundle's cache `off`, `on`
// and `auto`.
// Usage: npm run bench:cache [-- --decisions 20000 --distinct 4096 --zipf 1.05 --rounds 2 --write]
//   --workloads <list> rbac, drive or both, comma-separated (default rbac,drive)
//   --decisions <n>   decisions per phase (default 20000)
//   --distinct <n>    distinct inputs the mix draws from (default 4096)
//   --zipf <s>        Zipf exponent: input of rank k is drawn with weight k^-s (default 1.05)
//   --small-l1 <n>    L1 entries of the third instance (default 256)
//   --rounds <n>      rounds, each on fresh tenants; phase order alternates (default 2)
//   --seed <n>        seed of the mix and of the drive data (default 20261127)
//   --write           rewrite the cache section of docs/benchmarks.md, write docs/bench-data/cache.json
// In process, against dist/ (run `npm run build` first; `npm run bench:cache` does): real
// Postgres (DATABASE_URL's server, default postgres://postgres@127.0.0.1:5432/test; a scratch
// database is created and dropped) for bundles, tenants and the audit log, and real Redis
// (REDIS_URL, default redis://127.0.0.1:6379; a unique key prefix removed afterwards) as L2.
// Three decision stacks ("instances": engine pool and L1 of their own, a Redis connection each)
// share one Redis, one database and one audit writer.
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import console from 'node:console';
import process from 'node:process';
import { setImmediate as yieldToLoop, setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, URL } from 'node:url';
import { loadConfig } from '../../dist/api/config.js';
import { createLogger } from '../../dist/api/logger.js';
import { openDatabase } from '../../dist/api/db/database.js';
import { migrateUp } from '../../dist/api/db/migrator.js';
import { RedisCache } from '../../dist/api/services/cache/redis.js';
import { createAuditWriter } from '../../dist/api/services/audit/index.js';
import { BundleRegistry, loadActiveBundles } from '../../dist/api/services/bundles/index.js';
import {
  DecisionCache,
  canonicalInputJson,
  openDecisions,
} from '../../dist/api/services/decisions/index.js';
import { TenantService } from '../../dist/api/services/tenants.js';
import { buildBundle } from '../../dist/policies/bundle/build.js';
import { parseManifest } from '../../dist/policies/bundle/manifest.js';
import { loadSources } from '../../dist/policies/bundle/sources.js';
import { driveAllow, driveData, driveInputs, writeDriveBundle } from './drive.mjs';
import { rbacInputs, rbacMaxDistinct } from './rbac.mjs';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const pg = require('pg');
const Redis = require('ioredis');

// --- options ---------------------------------------------------------------------------
const argv = process.argv.slice(2);
const defaults = {
  workloads: 'rbac,drive',
  decisions: '20000',
  distinct: '4096',
  zipf: '1.05',
  'small-l1': '256',
  rounds: '2',
  seed: '20261127',
};
const option = (name) => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 && argv[at + 1] !== undefined ? argv[at + 1] : defaults[name];
};
const whole = (name, min = 1) => {
  const text = option(name);
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) {
    console.error(`--${name} must be a whole number of at least ${min} (got ${text})`);
    process.exit(2);
  }
  return value;
};
const decisions = whole('decisions');
const distinct = whole('distinct', 2);
const zipf = Number(option('zipf'));
if (!(zipf > 0 && zipf < 5)) {
  console.error(`--zipf must be a number between 0 and 5 (got ${option('zipf')})`);
  process.exit(2);
}
const smallL1 = whole('small-l1');
const rounds = whole('rounds');
const seed = whole('seed', 0);
const workloadNames = [
  ...new Set(
    option('workloads')
      .split(',')
      .map((s) => s.trim()),
  ),
];
for (const name of workloadNames)
  if (name !== 'rbac' && name !== 'drive') {
    console.error(`--workloads takes rbac, drive or both, comma-separated (got ${name})`);
    process.exit(2);
  }
if (distinct > rbacMaxDistinct) {
  console.error(`--distinct can be at most ${rbacMaxDistinct}`);
  process.exit(2);
}
const write = argv.includes('--write');
const given = argv.filter((a) => a !== '--write');

const adminDatabaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

// --- the mix ---------------------------------------------------------------------------
/** xorshift32: a small seeded generator, uniform in [0, 1). */
function generator(start) {
  let x = start >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

// The workloads: `bodies[k]` is the input of rank k + 1, as the JSON text a request would
// carry (`distinct` different ones, in a random order); `expected`, when the workload has one,
// the answer computed in JavaScript, which every decision is checked against.
const allWorkloads = {
  rbac: () => ({
    name: 'rbac',
    title: 'examples/rbac',
    decisionPath: ['rbac', 'allow'],
    bundleDir: () => path.join(root, 'examples/rbac'),
    bodies: rbacInputs(generator(seed), distinct),
  }),
  drive: () => {
    const random = generator(seed + 1000);
    const generated = driveData(random);
    const bodies = driveInputs(generated, random, distinct);
    const { data } = generated;
    return {
      name: 'drive',
      title: 'drive (generated)',
      decisionPath: ['drive', 'allow'],
      bundleDir: () => writeDriveBundle(path.join(work, 'drive'), data),
      bodies,
      expected: bodies.map((body) => driveAllow(data, JSON.parse(body))),
      data: {
        memberOf: Object.keys(data.member_of).length,
        memberships: Object.values(data.member_of).reduce((n, groups) => n + groups.length, 0),
        resources: Object.keys(data.parent).length,
        shares: data.shares.length,
        legalHolds: data.legal_holds.length,
        jsonBytes: JSON.stringify(data).length,
      },
    };
  },
};
const workloads = workloadNames.map((name) => allWorkloads[name]());

// Cumulative Zipf weights: rank k (1-based) has weight k^-s.
const cumulative = new Float64Array(distinct);
{
  let sum = 0;
  for (let k = 1; k <= distinct; k++) cumulative[k - 1] = sum += k ** -zipf;
  for (let i = 0; i < distinct; i++) cumulative[i] /= sum;
}
const topShare = (n) => cumulative[Math.min(n, distinct) - 1];
/** `n` ranks (0-based) drawn from the Zipf distribution with the given seed. */
function drawSequence(n, sequenceSeed) {
  const random = generator(sequenceSeed);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const u = random();
    let lo = 0;
    let hi = distinct - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    out[i] = lo;
  }
  return out;
}
const distinctIn = (sequence) => new Set(sequence).size;
// Instance A's sequence is shared by the off/on/auto comparison; B and C draw their own.
const sequences = {
  a: drawSequence(decisions, seed + 1),
  b: drawSequence(decisions, seed + 2),
  c: drawSequence(decisions, seed + 3),
};

// --- statistics ------------------------------------------------------------------------
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = (sorted.length - 1) / 2;
  return (sorted[Math.floor(middle)] + sorted[Math.ceil(middle)]) / 2;
};
function summarize(ns) {
  if (ns.length === 0) return { n: 0, mean: NaN, p50: NaN, p95: NaN, p99: NaN };
  const sorted = Float64Array.from(ns).sort();
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] / 1000;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    n: sorted.length,
    mean: sum / sorted.length / 1000,
    p50: at(0.5),
    p95: at(0.95),
    p99: at(0.99),
  };
}

// --- set up ----------------------------------------------------------------------------
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-bench-cache-'));
const dbName = `verdict_bench_cache_${process.pid}`;
const databaseUrl = new URL(adminDatabaseUrl);
databaseUrl.pathname = `/${dbName}`;
const redisPrefix = `verdict-bench-cache-${process.pid}-${randomBytes(4).toString('hex')}:`;
const logger = createLogger({ level: 'warn' });
const closers = [];
let createdDatabase = false;

async function adminSql(sql, params = []) {
  const client = new pg.Client({ connectionString: adminDatabaseUrl });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

async function cleanUp() {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  closers.length = 0;
  if (createdDatabase)
    await adminSql(`drop database if exists "${dbName}" with (force)`).catch((error) =>
      console.error('could not drop', dbName, error.message),
    );
  createdDatabase = false;
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisPrefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } catch (error) {
    console.error('could not remove Redis keys under', redisPrefix, error.message);
  } finally {
    redis.disconnect();
  }
  fs.rmSync(work, { recursive: true, force: true });
}

/**
 * The bundle folder `dir` built by Verdict's compiler (as `verdict build` builds it) with
 * `cache` set in its manifest, as the .tar.gz an upload carries.
 */
async function buildWithCache(dir, cache) {
  const parsed = parseManifest(fs.readFileSync(path.join(dir, '.manifest'), 'utf8'));
  if (parsed.manifest === undefined) throw new Error(parsed.problems.join('; '));
  const sources = loadSources([dir]);
  const { bundle, diagnostics } = await buildBundle({
    modules: sources.modules,
    data: sources.data,
    entrypoints: [],
    manifest: { ...parsed.manifest, cache },
    root: dir,
  });
  if (bundle === undefined) throw new Error(diagnostics.map((d) => d.message).join('; '));
  return bundle.tarGz;
}

async function openInstance(label, db, audit, config, l1Max) {
  const store = await RedisCache.connect({ url: redisUrl, keyPrefix: redisPrefix, logger });
  closers.push(() => store.close());
  const stack = await openDecisions({
    knex: db.knex,
    cache: store,
    audit,
    logger,
    loadActiveBundles,
    config: { ...config, decisionCacheMax: l1Max },
  });
  closers.push(() => stack.stop());
  return { label, l1Max, stack };
}

/** The audit writer shared by the instances (set once opened). */
let auditWriter;
/** Above this many queued audit rows the run waits, untimed, for the writer to catch up. */
const auditBacklog = 4000;

/** Waits until the audit writer has put every recorded row in the table. */
async function drainAudit(audit, seconds = 60) {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    await audit.flush();
    if (audit.queueLength === 0 && !audit.isSpooling) return;
    if (Date.now() > end) throw new Error('the audit writer did not drain within 60 s');
    await sleep(100);
  }
}

// --- one phase -------------------------------------------------------------------------
/** answers[rank]: the workload's answer with cache off, to check every cached answer against. */
const answers = new Map();

/**
 * Decides `sequence` one decision at a time on `instance`. Each decision's input is parsed from
 * its JSON text first (as a request body is), and the event loop gets a turn between decisions
 * (as between requests, so the audit writer's inserts proceed); neither is in the timed part.
 */
async function runPhase({ workload, round, phase, mode, instance, tenant, sequence }) {
  const { service, cache, pool } = instance.stack;
  await pool.get(tenant.id); // compile the engines before timing
  const first = cache.counters;
  let last = first;
  const latency = { all: [], l1: [], l2: [], miss: [], bypass: [] };
  const evalNs = [];
  let mismatches = 0;
  let wrong = 0;
  let revision;
  // The moving averages `auto` decides by, read every 64th decision: one reading at the end
  // would be a snapshot of a noisy average.
  const readings = {
    eval: [],
    lookup: [],
    l2RoundTrip: [],
    evalAboveLookup: 0,
    evalAboveL2: 0,
    withL2: 0,
  };
  let index = 0;
  const started = process.hrtime.bigint();
  for (const rank of sequence) {
    const request = {
      tenantId: tenant.id,
      caller: 'bench',
      path: workload.decisionPath,
      hasInput: true,
      input: JSON.parse(workload.bodies[rank]),
    };
    await yieldToLoop();
    // The writer spills to its disk spool past 10,000 queued rows, inside a decision: when
    // Postgres is slow (a shared machine), wait for it rather than time that.
    while (auditWriter.queueLength > auditBacklog) await sleep(5);
    const t = process.hrtime.bigint();
    const decision = await service.decide(request);
    const ns = Number(process.hrtime.bigint() - t);
    const now = cache.counters;
    const outcome =
      now.l1Hits > last.l1Hits
        ? 'l1'
        : now.l2Hits > last.l2Hits
          ? 'l2'
          : now.misses > last.misses
            ? 'miss'
            : 'bypass';
    last = now;
    latency.all.push(ns);
    latency[outcome].push(ns);
    if (decision.evalNs > 0) evalNs.push(decision.evalNs);
    revision = decision.bundle?.revision;
    if (index++ % 64 === 0 && revision !== undefined) {
      const costs = cache.costs(tenant.id, revision);
      if (costs.evalSamples > 0 && costs.lookupSamples > 0) {
        readings.eval.push(costs.evalNs);
        readings.lookup.push(costs.lookupNs);
        if (costs.evalNs > costs.lookupNs) readings.evalAboveLookup++;
        // `auto` uses L2 only while an evaluation costs more than the L2 round trip.
        if (cache.l2RoundTripNs !== undefined) {
          readings.withL2++;
          if (costs.evalNs > cache.l2RoundTripNs) readings.evalAboveL2++;
        }
      }
      if (cache.l2RoundTripNs !== undefined) readings.l2RoundTrip.push(cache.l2RoundTripNs);
    }
    const expected = answers.get(rank);
    if (expected === undefined) {
      if (mode === 'off') answers.set(rank, decision.result);
    } else if (expected !== decision.result) mismatches++;
    if (workload.expected !== undefined && workload.expected[rank] !== decision.result) wrong++;
  }
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const delta = (name) => last[name] - first[name];
  const n = sequence.length;
  const result = {
    workload: workload.name,
    round,
    phase,
    mode,
    instance: instance.label,
    l1Entries: instance.l1Max,
    decisions: n,
    distinctInputs: distinctIn(sequence),
    wallSeconds,
    counters: {
      l1Hits: delta('l1Hits'),
      l2Hits: delta('l2Hits'),
      misses: delta('misses'),
      bypasses: delta('bypasses'),
      l2Errors: delta('l2Errors'),
    },
    rates: {
      l1: delta('l1Hits') / n,
      l2: delta('l2Hits') / n,
      hit: (delta('l1Hits') + delta('l2Hits')) / n,
      miss: delta('misses') / n,
      bypass: delta('bypasses') / n,
    },
    latencyUs: Object.fromEntries(Object.entries(latency).map(([k, v]) => [k, summarize(v)])),
    evalUs: summarize(evalNs),
    // Medians of the readings; how often the evaluation average was above the lookup's.
    costsNs: {
      readings: readings.eval.length,
      eval: readings.eval.length > 0 ? median(readings.eval) : null,
      lookup: readings.lookup.length > 0 ? median(readings.lookup) : null,
      lookupMax: readings.lookup.length > 0 ? Math.max(...readings.lookup) : null,
      evalAboveLookup:
        readings.eval.length > 0 ? readings.evalAboveLookup / readings.eval.length : null,
      l2RoundTrip: readings.l2RoundTrip.length > 0 ? median(readings.l2RoundTrip) : null,
      evalAboveL2: readings.withL2 > 0 ? readings.evalAboveL2 / readings.withL2 : null,
    },
    mismatches,
    // Answers unlike the workload's own computation in JavaScript (null: it has none).
    wrongAnswers: workload.expected === undefined ? null : wrong,
  };
  return { result, raw: latency };
}

/**
 * What a hit costs before the answer, measured alone on A's sequence: canonical JSON of the
 * input, SHA-256 of it and the L1 get (hits only), beside the JSON.stringify a bypass does
 * instead before evaluating.
 */
function measureLookup(workload) {
  const cache = new DecisionCache({ logger });
  const decisionPath = workload.decisionPath.join('/');
  const lookup = [];
  const stringify = [];
  for (const rank of sequences.a) {
    const input = JSON.parse(workload.bodies[rank]);
    let t = process.hrtime.bigint();
    JSON.stringify(input);
    stringify.push(Number(process.hrtime.bigint() - t));
    t = process.hrtime.bigint();
    const key = cache.key('tenant', 'revision', decisionPath, canonicalInputJson(input));
    const hit = cache.getL1(key);
    const ns = Number(process.hrtime.bigint() - t);
    if (hit === undefined) cache.put(key, { defined: true, result: false }, false);
    else lookup.push(ns);
  }
  return { lookupHitUs: summarize(lookup), stringifyUs: summarize(stringify) };
}

// --- run -------------------------------------------------------------------------------
const results = [];
/** Per workload: the lookup measured alone, and the seconds one build took. */
const lookupAlone = {};
const buildSeconds = {};
/** Latencies by outcome of every round, per phase. */
const pooled = {};
const auditCheck = [];
let auditCounters;
const stopOnSignal = () => {
  console.error('interrupted: cleaning up');
  cleanUp().finally(() => process.exit(130));
};
process.once('SIGINT', stopOnSignal);
process.once('SIGTERM', stopOnSignal);

const pct = (x) => `${(100 * x).toFixed(1)}%`;
const us = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const benchStarted = Date.now();

try {
  console.log(`postgres ${databaseUrl.host}/${dbName}, redis ${redisUrl} (prefix ${redisPrefix})`);
  await adminSql(`create database "${dbName}"`);
  createdDatabase = true;
  const config = loadConfig({
    DATABASE_URL: databaseUrl.toString(),
    REDIS_URL: redisUrl,
    VERDICT_REDIS_PREFIX: redisPrefix,
    VERDICT_DATA_DIR: path.join(work, 'data'),
    LOG_LEVEL: 'warn',
  });
  const db = await openDatabase(config, logger);
  closers.push(() => db.close());
  await migrateUp(db);
  fs.mkdirSync(config.dataDir, { recursive: true });
  const audit = await createAuditWriter({
    knex: db.knex,
    dataDir: config.dataDir,
    logger,
    embedded: db.mode === 'embedded',
  });
  closers.push(() => audit.close());
  auditWriter = audit;
  const instances = {
    a: await openInstance('A', db, audit, config, config.decisionCacheMax),
    b: await openInstance('B', db, audit, config, config.decisionCacheMax),
    c: await openInstance('C', db, audit, config, smallL1),
  };
  // The admin side (uploads, activations) has a Redis connection of its own, as a server does.
  const adminStore = await RedisCache.connect({ url: redisUrl, keyPrefix: redisPrefix, logger });
  closers.push(() => adminStore.close());
  const registry = new BundleRegistry({ knex: db.knex, cache: adminStore });
  const tenants = new TenantService(db.knex);

  /** Builds the workload's bundle three times, warms up, then runs every round. */
  async function runWorkload(workload) {
    const { name } = workload;
    const dir = workload.bundleDir();
    console.log(`${name}: building ${workload.title} with cache off, on and auto`);
    const tars = {};
    const buildStarted = Date.now();
    for (const mode of ['off', 'on', 'auto']) tars[mode] = await buildWithCache(dir, mode);
    buildSeconds[name] = (Date.now() - buildStarted) / 1000 / 3;
    const tenantFor = async (label, mode) => {
      const tenant = await tenants.create({ slug: `${name}-${label}`, name: `${name} ${label}` });
      const { version } = await registry.upload(tenant.id, tars[mode], 'bench');
      await registry.activate(tenant.id, version.bundle, version.version);
      return tenant;
    };

    // Warm the JIT on every path (bypass, L1, L2, miss) on tenants of their own, not reported.
    console.log(`${name}: warming up (2,000 decisions per mode, not reported)`);
    const warm = drawSequence(2000, seed + 99);
    for (const mode of ['off', 'on', 'auto']) {
      const tenant = await tenantFor(`warm-${mode}`, mode);
      const spec = { workload, round: 0, phase: 'warm', mode, tenant, sequence: warm };
      await runPhase({ ...spec, instance: instances.a });
      if (mode === 'on') await runPhase({ ...spec, instance: instances.b });
    }
    answers.clear();
    await drainAudit(audit);

    for (let round = 1; round <= rounds; round++) {
      const tenant = {
        off: await tenantFor(`r${round}-off`, 'off'),
        on: await tenantFor(`r${round}-on`, 'on'),
        auto: await tenantFor(`r${round}-auto`, 'auto'),
      };
      const phases = {
        off: [{ phase: 'cache off', mode: 'off', instance: instances.a, sequence: sequences.a }],
        on: [
          {
            phase: 'on, A (cold L1, cold L2)',
            mode: 'on',
            instance: instances.a,
            sequence: sequences.a,
          },
          {
            phase: 'on, B (cold L1, L2 from A)',
            mode: 'on',
            instance: instances.b,
            sequence: sequences.b,
          },
          {
            phase: `on, C (L1 of ${smallL1})`,
            mode: 'on',
            instance: instances.c,
            sequence: sequences.c,
          },
        ],
        auto: [
          { phase: 'auto, A', mode: 'auto', instance: instances.a, sequence: sequences.a },
          {
            phase: 'auto, B (L2 from A)',
            mode: 'auto',
            instance: instances.b,
            sequence: sequences.b,
          },
        ],
      };
      // Cache off first in odd rounds, last in even ones: drift on a shared machine evens out.
      // The off run records the answers the others are checked against, so with off last the
      // check applies from the next round on (answers do not change between rounds).
      const order = round % 2 === 1 ? ['off', 'on', 'auto'] : ['auto', 'on', 'off'];
      for (const mode of order) {
        for (const spec of phases[mode]) {
          const rowsBefore = await cacheColumn(tenant[mode].id);
          const { result, raw } = await runPhase({
            workload,
            round,
            tenant: tenant[mode],
            ...spec,
          });
          const key = `${name}\n${spec.phase}`;
          pooled[key] ??= { l1: [], l2: [], miss: [], bypass: [] };
          for (const outcome of Object.keys(pooled[key]))
            pooled[key][outcome].push(...raw[outcome]);
          await drainAudit(audit);
          const rowsAfter = await cacheColumn(tenant[mode].id);
          const count = (rows, cache) => Number(rows.find((r) => r.cache === cache)?.n ?? 0);
          const rows = Object.fromEntries(
            ['hit', 'miss', 'bypass'].map((c) => [c, count(rowsAfter, c) - count(rowsBefore, c)]),
          );
          const c = result.counters;
          const agrees =
            rows.hit === c.l1Hits + c.l2Hits &&
            rows.miss === c.misses &&
            rows.bypass === c.bypasses;
          auditCheck.push({ workload: name, round, phase: spec.phase, rows, agrees });
          results.push({ ...result, auditRows: rows });
          const l = result.latencyUs.all;
          console.log(
            `${name} round ${round}  ${spec.phase.padEnd(27)} L1 ${pct(result.rates.l1).padStart(6)}  L2 ${pct(result.rates.l2).padStart(6)}  ` +
              `miss ${pct(result.rates.miss).padStart(6)}  bypass ${pct(result.rates.bypass).padStart(6)}  ` +
              `mean ${us(l.mean)} µs  p50 ${us(l.p50)}  p95 ${us(l.p95)}  p99 ${us(l.p99)}  ` +
              `audit rows ${agrees ? 'match' : 'DIFFER'}  answers unlike cache off ${result.mismatches}` +
              (result.wrongAnswers === null ? '' : `, wrong ${result.wrongAnswers}`),
          );
        }
      }
    }
    lookupAlone[name] = measureLookup(workload);
  }

  /** The tenant's audit rows counted by their `cache` column. */
  function cacheColumn(tenantId) {
    return db
      .knex('decisions')
      .where({ tenant_id: tenantId })
      .select('cache')
      .count('* as n')
      .groupBy('cache');
  }

  for (const workload of workloads) await runWorkload(workload);
  auditCounters = audit.counters;
} finally {
  process.removeListener('SIGINT', stopOnSignal);
  process.removeListener('SIGTERM', stopOnSignal);
  await cleanUp();
}

// --- report ----------------------------------------------------------------------------
const medianOf = (values) => {
  const known = values.filter((v) => v !== null && v !== undefined && Number.isFinite(v));
  return known.length > 0 ? median(known) : null;
};
const spread = (values) => Math.max(...values) / Math.min(...values);
// Slower: the p50 above cache off's by more than cache off's own p50 moved between rounds and
// by more than `tolerance` (two rounds make a rough noise estimate); faster, the same below.
// The mean is reported but not judged by: outliers of a shared machine move cache off's own
// mean far more.
const tolerance = 1.05;

/** One workload's runs against its cache-off runs, the medians of the rounds, what auto did. */
function analyze(workload) {
  const { name } = workload;
  const runs = results.filter((r) => r.workload === name);
  const offOf = (round) => runs.find((r) => r.round === round && r.mode === 'off');
  for (const r of runs) {
    const off = offOf(r.round).latencyUs.all;
    const all = r.latencyUs.all;
    r.versusOff = {
      mean: all.mean / off.mean,
      p50: all.p50 / off.p50,
      p95: all.p95 / off.p95,
      p99: all.p99 / off.p99,
    };
  }
  // Cache off against itself across rounds: how far its mean and p50 moved is the noise floor.
  const offRuns = runs.filter((r) => r.mode === 'off').map((r) => r.latencyUs.all);
  const noise = {
    mean: spread(offRuns.map((l) => l.mean)),
    p50: spread(offRuns.map((l) => l.p50)),
    offMeans: offRuns.map((l) => l.mean),
    offP50s: offRuns.map((l) => l.p50),
  };
  const bound = Math.max(noise.p50, tolerance);
  const summary = [...new Set(runs.map((r) => r.phase))].map((phase) => {
    const of = runs.filter((r) => r.phase === phase);
    const pick = (f) => median(of.map(f));
    const versusOff = {
      mean: pick((r) => r.versusOff.mean),
      p50: pick((r) => r.versusOff.p50),
      p95: pick((r) => r.versusOff.p95),
      p99: pick((r) => r.versusOff.p99),
    };
    const cached = of[0].mode !== 'off';
    return {
      phase,
      mode: of[0].mode,
      hitRate: pick((r) => r.rates.hit),
      l1Rate: pick((r) => r.rates.l1),
      l2Rate: pick((r) => r.rates.l2),
      missRate: pick((r) => r.rates.miss),
      bypassRate: pick((r) => r.rates.bypass),
      distinctInputs: of[0].distinctInputs,
      versusOff,
      slower: cached && versusOff.p50 > bound,
      faster: cached && versusOff.p50 < 1 / bound,
      byOutcomeUs: Object.fromEntries(
        Object.entries(pooled[`${name}\n${phase}`]).map(([outcome, ns]) => [
          outcome,
          summarize(ns),
        ]),
      ),
    };
  });
  const phaseOf = (prefix) => summary.find((s) => s.phase.startsWith(prefix));
  const autoA = runs.filter((r) => r.phase === 'auto, A');
  const autoRuns = runs.filter((r) => r.mode === 'auto');
  const auto = {
    // What auto's moving averages said on instance A, medians of the readings, then of the rounds.
    evalNs: medianOf(autoA.map((r) => r.costsNs.eval)),
    lookupNs: medianOf(autoA.map((r) => r.costsNs.lookup)),
    evalAboveLookup: medianOf(autoA.map((r) => r.costsNs.evalAboveLookup)),
    // The L2 round trip auto compared with (instance A's and B's average, whichever decisions
    // measured it), and how often an evaluation was above it.
    l2RoundTripNs: medianOf(autoRuns.map((r) => r.costsNs.l2RoundTrip)),
    // The same instances' average read during their `on` runs, which read L2 on every L1 miss.
    l2RoundTripOnNs: medianOf(
      runs
        .filter((r) => r.phase.startsWith('on, A') || r.phase.startsWith('on, B'))
        .map((r) => r.costsNs.l2RoundTrip),
    ),
    evalAboveL2: medianOf(autoRuns.map((r) => r.costsNs.evalAboveL2)),
    // The highest reading of the lookup average, any auto run.
    lookupPeakNs: Math.max(...autoRuns.map((r) => r.costsNs.lookupMax ?? 0)),
    evalP50Us: median(runs.filter((r) => r.mode === 'off').map((r) => r.evalUs.p50)),
    bypassRate: phaseOf('auto, A').bypassRate,
  };
  // The same readings on B, which starts its own averages on the tenant A warmed.
  const autoB = runs.filter((r) => r.phase.startsWith('auto, B'));
  auto.b = {
    evalNs: medianOf(autoB.map((r) => r.costsNs.eval)),
    lookupNs: medianOf(autoB.map((r) => r.costsNs.lookup)),
    lookupMaxNs: medianOf(autoB.map((r) => r.costsNs.lookupMax)),
    evalAboveLookup: medianOf(autoB.map((r) => r.costsNs.evalAboveLookup)),
    bypassRate: phaseOf('auto, B').bypassRate,
  };
  auto.choice =
    auto.bypassRate > 0.5
      ? 'bypass'
      : auto.evalAboveL2 !== null && auto.evalAboveL2 >= 0.5
        ? 'L1 and L2'
        : 'L1 only';
  const wrong = runs.map((r) => r.wrongAnswers).filter((w) => w !== null);
  return {
    name,
    title: workload.title,
    runs,
    summary,
    phaseOf,
    auto,
    noise,
    slower: summary.filter((s) => s.slower),
    faster: summary.filter((s) => s.faster),
    offRounds: offRuns.length,
    mismatches: runs.reduce((sum, r) => sum + r.mismatches, 0),
    wrongAnswers: wrong.length > 0 ? wrong.reduce((a, b) => a + b, 0) : null,
    lookupAlone: lookupAlone[name],
    buildSeconds: buildSeconds[name],
    allowedShare:
      workload.expected === undefined
        ? null
        : workload.expected.filter(Boolean).length / workload.expected.length,
    data: workload.data ?? null,
  };
}

const analyses = workloads.map(analyze);
const auditAgrees = auditCheck.every((a) => a.agrees);
const elapsedSeconds = (Date.now() - benchStarted) / 1000;
const seqA = sequences.a;
const x = (ratio) => `${ratio.toFixed(2)}×`;

console.log('');
console.log(
  `mix: ${distinct} distinct inputs, Zipf s=${zipf}; ${decisions} decisions per run drew ${distinctIn(seqA)} of them (A); ` +
    `top 1% of inputs = ${pct(topShare(Math.ceil(distinct / 100)))} of draws, top ${smallL1} = ${pct(topShare(smallL1))}`,
);
for (const a of analyses) {
  console.log('');
  for (const s of a.summary) {
    const o = s.byOutcomeUs;
    console.log(
      `${a.name} ${s.phase.padEnd(27)} hit ${pct(s.hitRate).padStart(6)} (L1 ${pct(s.l1Rate)}, L2 ${pct(s.l2Rate)})  ` +
        `mean vs off ${s.versusOff.mean.toFixed(2)}x, p50 ${s.versusOff.p50.toFixed(2)}x, p95 ${s.versusOff.p95.toFixed(2)}x, p99 ${s.versusOff.p99.toFixed(2)}x  ` +
        `p50 by outcome: L1 ${us(o.l1.p50)} L2 ${us(o.l2.p50)} miss ${us(o.miss.p50)} bypass ${us(o.bypass.p50)} µs`,
    );
  }
  const { auto, lookupAlone: alone, noise } = a;
  console.log(
    `${a.name} auto: evaluation ${us(auto.evalNs / 1000)} µs vs lookup ${us(auto.lookupNs / 1000)} µs (moving averages; evaluation above in ${pct(auto.evalAboveLookup)} of readings), ` +
      `L2 round trip ${us(auto.l2RoundTripNs / 1000)} µs (evaluation above in ${pct(auto.evalAboveL2)}); bypassed ${pct(auto.bypassRate)} of A's decisions: ${auto.choice}; ` +
      `on B: evaluation ${us(auto.b.evalNs / 1000)} µs vs lookup ${us(auto.b.lookupNs / 1000)} µs (highest reading ${us(auto.b.lookupMaxNs / 1000)} µs; evaluation above in ${pct(auto.b.evalAboveLookup)}), bypassed ${pct(auto.b.bypassRate)}`,
  );
  console.log(
    `${a.name} engine p50 ${us(auto.evalP50Us)} µs (cache off); measured alone: lookup hit p50 ${us(alone.lookupHitUs.p50)} µs, JSON.stringify p50 ${us(alone.stringifyUs.p50)} µs; ` +
      `cache off moved ${noise.mean.toFixed(2)}x on the mean, ${noise.p50.toFixed(2)}x on the p50 between rounds; ` +
      `slower (p50): ${a.slower.map((s) => s.phase).join(', ') || 'none'}; faster: ${a.faster.map((s) => s.phase).join(', ') || 'none'}`,
  );
  console.log(
    `${a.name} answers unlike cache off: ${a.mismatches}` +
      (a.wrongAnswers === null ? '' : `; unlike the JavaScript computation: ${a.wrongAnswers}`) +
      `; one build ${a.buildSeconds.toFixed(1)} s`,
  );
}
console.log(
  `audit rows by cache column ${auditAgrees ? 'equal' : 'DIFFER FROM'} the counters in every run; ` +
    `audit writer ${JSON.stringify(auditCounters)}; ${elapsedSeconds.toFixed(0)} s`,
);

// --- docs/benchmarks.md and docs/bench-data/cache.json ---------------------------------
const thousands = (n) => n.toLocaleString('en-US');
const triple = (s) => `${x(s.versusOff.p50)} / ${x(s.versusOff.mean)} / ${x(s.versusOff.p99)}`;
const met = (rate) => (rate >= 0.8 ? 'met' : 'not met');

/** What a workload is, in a sentence or two. */
function describe(a) {
  if (a.name === 'rbac')
    return "examples/rbac's `rbac/allow`: a tenant check and a few role lookups in a small `data.json`; inputs as bench/http's (seven subjects, 1,000 documents and folders in two tenants, four actions).";
  const d = a.data;
  return `\`drive/allow\` (policy in bench/cache/drive.mjs, data generated from the seed into a temporary bundle folder, built like examples/rbac): a document drive with ${thousands(d.memberOf)} users and groups in \`data.member_of\` (800 users in 64 teams, 16 departments, 4 divisions, 320 project groups; ${thousands(d.memberships)} memberships), ${thousands(d.resources)} resources in \`data.parent\` (8 shared drives, 1,200 folders up to 8 deep, 3,600 documents), ${thousands(d.shares)} shares (principal, resource, role) and ${d.legalHolds} folders on legal hold; ${thousands(Math.round(d.jsonBytes / 1024))} KiB of data. A decision takes the closure of the subject's groups and of the resource's folders (\`graph.reachable\`), scans every share for one on the resource or a folder above it held by the subject or one of its groups, and blocks deletion under a legal hold: the kind of policy a cache is for. Half the inputs pick a resource at or below something shared with the subject, the rest any resource; ${pct(a.allowedShare)} of the ${thousands(distinct)} distinct inputs are allowed.`;
}

/** `cache: on`'s hit rates on A, B and C. */
function onHits(a) {
  const onA = a.phaseOf('on, A');
  const onB = a.phaseOf('on, B');
  const onC = a.phaseOf('on, C');
  return `instance A from cold ${pct(onA.hitRate)} (${met(onA.hitRate)}); B, its L1 cold and L2 filled by A, ${pct(onB.hitRate)}, of which ${pct(onB.l2Rate)} from L2 (${met(onB.hitRate)}); C, L1 of ${smallL1}, ${pct(onC.hitRate)}, of which ${pct(onC.l2Rate)} from L2`;
}

function autoHits(a) {
  const autoA = a.phaseOf('auto, A');
  const autoB = a.phaseOf('auto, B');
  const why =
    a.auto.choice === 'bypass'
      ? `: it bypasses the cache for ${pct(autoA.bypassRate)} of decisions, on purpose, its evaluation being cheaper than a lookup`
      : '';
  return `\`${a.name}\` A ${pct(autoA.hitRate)} (${met(autoA.hitRate)})${why}; B ${pct(autoB.hitRate)}, of which ${pct(autoB.l2Rate)} from L2`;
}

/** The hit-rate goal: `on` once when every workload hit alike (they share the ranks). */
function hitGoal() {
  const texts = analyses.map(onHits);
  const on =
    texts.every((t) => t === texts[0]) && analyses.length > 1
      ? `with \`cache: on\`, alike for every workload (hits depend only on the sequence of ranks, which they share), ${texts[0]}.`
      : `with \`cache: on\`, ${analyses.map((a, i) => `\`${a.name}\` ${texts[i]}`).join('; ')}.`;
  return `${on} With \`cache: auto\` (the default): ${analyses.map(autoHits).join('; ')}.`;
}

function slowGoal(a) {
  const cached = a.summary.filter((s) => s.mode !== 'off');
  const autoSlower = a.slower.some((s) => s.mode === 'auto');
  const onSlower = a.slower.some((s) => s.mode === 'on');
  const noiseText =
    a.offRounds > 1
      ? `Cache off moved by itself ${x(a.noise.mean)} on the mean (${a.noise.offMeans.map(us).join(', ')} µs) and ${x(a.noise.p50)} on the p50 between rounds.`
      : 'One round: no estimate of the noise (cache off against itself); run --rounds 2 or more.';
  const judged = `a p50 above cache off's by more than ${a.offRounds > 1 ? 'that and by more than ' : ''}${Math.round((tolerance - 1) * 100)}%`;
  const verdict =
    a.slower.length === 0
      ? `none was slower${a.faster.length > 0 ? `, and ${a.faster.map((s) => `\`${s.phase}\``).join(', ')} faster by more than the same margin` : ''}: met${onSlower ? '' : ', with `on` as with `auto`'}.`
      : `slower: ${a.slower.map((s) => `\`${s.phase}\``).join(', ')}; ${autoSlower ? 'including' : 'not'} \`auto\`${a.faster.length > 0 ? `; faster: ${a.faster.map((s) => `\`${s.phase}\``).join(', ')}` : ''}. So: ${autoSlower ? 'not met' : 'met with the default `auto`, not met when a bundle forces `on`'}.`;
  const above = (measure, bound) =>
    cached
      .filter((s) => s.versusOff[measure] > bound)
      .map((s) => `\`${s.phase}\` ${x(s.versusOff[measure])}`);
  const meanAbove = above('mean', Math.max(a.noise.mean, tolerance));
  const tail = above('p99', tolerance);
  const tailText = `Not judged, but stated: ${meanAbove.length === 0 ? 'no mean' : `the mean of ${meanAbove.join(', ')}`} above cache off's by more than 5% and than its own spread between rounds; ${tail.length === 0 ? 'no p99' : `the p99 of ${tail.join(', ')}`} above cache off's (one run's p99 is its slowest 1%).`;
  return `\`${a.name}\`: ${noiseText} Counting a run slower at ${judged}${a.offRounds > 1 ? ' (the mean moved too much by itself to judge by)' : ''}, ${verdict} ${tailText}`;
}

/** Where the time goes and what `auto` decided, for one workload. */
function timeAndAuto(a) {
  const { auto, lookupAlone: alone } = a;
  const off = a.summary.find((s) => s.mode === 'off').byOutcomeUs;
  const onA = a.phaseOf('on, A').byOutcomeUs;
  const onB = a.phaseOf('on, B').byOutcomeUs;
  const autoA = a.phaseOf('auto, A');
  const autoB = a.phaseOf('auto, B');
  const cheaper = auto.evalP50Us < alone.lookupHitUs.p50;
  const first = `Where the time goes (p50 by outcome above): an L1 hit ${us(onA.l1.p50)} µs against ${us(off.bypass.p50)} µs for a decision with the cache off, an L2 hit ${us(onB.l2.p50)} µs, a miss with \`on\` ${us(onA.miss.p50)} µs (it waits for the L2 GET before evaluating, then stores in the background). The engine takes ${us(auto.evalP50Us)} µs (p50 of \`evalNs\` with cache off); measured alone on A's sequence, canonical JSON + SHA-256 + L1 get takes ${us(alone.lookupHitUs.p50)} µs (p50) where a bypass's \`JSON.stringify\` takes ${us(alone.stringifyUs.p50)} µs: ${cheaper ? 'the engine is cheaper than the lookup, so a hit cannot save what the lookup costs' : `an evaluation costs ${x(auto.evalP50Us / alone.lookupHitUs.p50)} a lookup, so every hit saves most of a decision`}.`;
  const averages = `\`auto\`'s moving averages on A, read every 64th decision (medians of the readings, then of the rounds), put an evaluation at ${us(auto.evalNs / 1000)} µs and a lookup at ${us(auto.lookupNs / 1000)} µs (evaluation above the lookup in ${pct(auto.evalAboveLookup)} of the readings), and the L2 round trip it compares with at ${us(auto.l2RoundTripNs / 1000)} µs (evaluation above it in ${pct(auto.evalAboveL2)} of the readings of A and B).`;
  let decided;
  if (auto.choice === 'bypass')
    decided = `So it keeps out of L2 and mostly out of L1: it sent ${a.runs
      .filter((r) => r.phase === 'auto, A')
      .map((r) => pct(1 - r.rates.bypass))
      .join(
        ' and ',
      )} of A's decisions through L1 (a re-probe every 64th decision is 1.6%, and its warm-up 16 decisions; the rest are stretches where its averages, which one slow sample moves a lot on a shared machine, put an evaluation above a lookup). End to end an L1 hit costs ${us(onA.l1.p50 - off.bypass.p50)} µs more than a decision with the cache off (p50s), while alone the lookup costs ${us(alone.lookupHitUs.p50 - alone.stringifyUs.p50 - auto.evalP50Us)} µs more than \`JSON.stringify\` + the engine; \`auto\`'s average lookup is ${x(auto.lookupNs / 1000 / alone.lookupHitUs.p50)} the lookup measured alone (it samples one decision in 64, inside whole decisions). Neither gap is pinned down; either way the decision to bypass stands.`;
  else {
    const onBRun = a.phaseOf('on, B');
    const l2Hit = onB.l2;
    const l2Text =
      auto.choice === 'L1 and L2'
        ? `and it uses L2 too: B, its L1 cold, found ${pct(autoB.l2Rate)} of its decisions in L2 (\`on\`: ${pct(onBRun.l2Rate)}).`
        : `but keeps out of L2, an evaluation costing less than its round-trip average: B, its L1 cold, found ${pct(autoB.l2Rate)} in L2 (\`on\`: ${pct(onBRun.l2Rate)}) and ${pct(autoB.l1Rate)} in its own L1. That average is well above an L2 hit with \`on\` (p50 ${us(l2Hit.p50)} µs, mean ${us(l2Hit.mean)} µs) and above the average the same instances read during their \`on\` runs (${us(auto.l2RoundTripOnNs / 1000)} µs): L2 is read, and its round trip timed, while the evaluation average is above the round-trip average and, on an L1 miss, at the re-probe every 64th decision, so a slow read lifts the round-trip average (one sample weighs 10%) until later reads, each moving it a tenth of the way back, bring it down. What keeping out of L2 did to B: a miss with \`auto\` evaluates at once (p50 ${us(autoB.byOutcomeUs.miss.p50)} µs) where with \`on\` it waits for the GET first (${us(onB.miss.p50)} µs), and B's p50 / mean / p99 against cache off were ${triple(autoB)} with \`auto\`, ${triple(onBRun)} with \`on\`.`;
    const bypassText =
      autoA.bypassRate + autoB.bypassRate === 0
        ? 'It never bypassed.'
        : `Its bypasses (A ${pct(autoA.bypassRate)}, B ${pct(autoB.bypassRate)}) are stretches where the lookup average rose above the evaluation's: it peaked at ${us(auto.lookupPeakNs / 1000)} µs, against ${us(alone.lookupHitUs.p50)} µs for a lookup measured alone, after one slow sample; and while bypassing, \`auto\` times a lookup only on its re-probe every 64th decision, each moving the average a tenth of the way back.`;
    decided = `So it caches: A bypassed ${pct(autoA.bypassRate)} of its decisions and hit ${pct(autoA.hitRate)} in L1, ${l2Text} ${bypassText}`;
  }
  return `${first} ${averages} ${decided}`;
}

function workloadLines(a) {
  const rows = a.runs.map((r) => {
    const l = r.latencyUs.all;
    return `| ${r.round} | ${r.phase} | ${pct(r.rates.l1)} | ${pct(r.rates.l2)} | ${pct(r.rates.miss)} | ${pct(r.rates.bypass)} | ${us(l.mean)} | ${us(l.p50)} | ${us(l.p95)} | ${us(l.p99)} | ${r.mode === 'off' ? '—' : x(r.versusOff.mean)} |`;
  });
  const outcomeRows = a.summary.map((s) => {
    const cell = (o) => (o.n === 0 ? '—' : `${us(o.p50)} / ${us(o.mean)}`);
    const o = s.byOutcomeUs;
    return `| ${s.phase} | ${cell(o.l1)} | ${cell(o.l2)} | ${cell(o.miss)} | ${cell(o.bypass)} |`;
  });
  const checks = auditCheck.filter((c) => c.workload === a.name);
  return [
    `### \`${a.name}\``,
    '',
    describe(a),
    '',
    '| round | run | L1 hits | L2 hits | misses | bypasses | mean µs | p50 µs | p95 µs | p99 µs | mean vs off |',
    '| ----: | --- | ------: | ------: | -----: | -------: | ------: | -----: | -----: | -----: | ----------: |',
    ...rows,
    '',
    `Latency by outcome, every round (p50 / mean µs):`,
    '',
    '| run | L1 hit | L2 hit | miss | bypass |',
    '| --- | -----: | -----: | ---: | -----: |',
    ...outcomeRows,
    '',
    `- ${timeAndAuto(a)}`,
    `- Checks: the audit rows' \`cache\` column (hit, miss, bypass) in Postgres ${checks.every((c) => c.agrees) ? 'equals' : 'DIFFERS FROM'} the cache's counters in every run; ${a.mismatches === 0 ? 'every cached answer equals the answer with the cache off' : `${a.mismatches} answers differ from the cache-off answers`}${a.wrongAnswers === null ? '' : `; ${a.wrongAnswers === 0 ? 'every answer, cache off included, equals `drive/allow` computed in JavaScript from the same data' : `${a.wrongAnswers} answers differ from \`drive/allow\` computed in JavaScript`}`}.`,
    '',
  ];
}

/** The workloads side by side: one column each. */
function overviewLines() {
  const row = (label, cell) => `| ${label} | ${analyses.map(cell).join(' | ')} |`;
  const rate = (prefix) => (a) => {
    const s = a.phaseOf(prefix);
    return `${pct(s.hitRate)}${s.l2Rate > 0 ? ` (L2 ${pct(s.l2Rate)})` : ''}`;
  };
  return [
    `| | ${analyses.map((a) => `\`${a.name}\``).join(' | ')} |`,
    `| --- | ${analyses.map(() => '---:').join(' | ')} |`,
    row('engine, p50 µs (cache off)', (a) => us(a.auto.evalP50Us)),
    row('lookup measured alone, p50 µs', (a) => us(a.lookupAlone.lookupHitUs.p50)),
    row(
      "`auto`'s averages: evaluation / lookup / L2 round trip, µs",
      (a) =>
        `${us(a.auto.evalNs / 1000)} / ${us(a.auto.lookupNs / 1000)} / ${us(a.auto.l2RoundTripNs / 1000)}`,
    ),
    row('`auto` chose', (a) =>
      a.auto.choice === 'bypass' ? `bypass (${pct(a.auto.bypassRate)} of A's)` : a.auto.choice,
    ),
    row('hit rate, `on` A from cold', rate('on, A')),
    row('hit rate, `on` B (cold L1, L2 from A)', rate('on, B')),
    row('hit rate, `auto` A from cold', rate('auto, A')),
    row('hit rate, `auto` B (cold L1, L2 from A)', rate('auto, B')),
    row('p50 / mean / p99 vs off, `on` A', (a) => triple(a.phaseOf('on, A'))),
    row('p50 / mean / p99 vs off, `on` B', (a) => triple(a.phaseOf('on, B'))),
    row(`p50 / mean / p99 vs off, \`on\` C (L1 of ${smallL1})`, (a) => triple(a.phaseOf('on, C'))),
    row('p50 / mean / p99 vs off, `auto` A', (a) => triple(a.phaseOf('auto, A'))),
    row('p50 / mean / p99 vs off, `auto` B', (a) => triple(a.phaseOf('auto, B'))),
  ];
}

if (write) {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  const command = `npm run bench:cache -- ${[...given, '--write'].join(' ')}`.replace(
    / {2,}/g,
    ' ',
  );
  const lines = [
    '<!-- cache:start -->',
    '',
    `Measured by \`${command}\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.cpus().length} cores (${cpu}); ${elapsedSeconds.toFixed(0)} s in all. Workloads: ${analyses.map((a) => `\`${a.name}\``).join(' and ')}. Mix (the same ranks for each workload): ${thousands(distinct)} distinct inputs, Zipf s = ${zipf}, seed ${seed}; ${thousands(decisions)} decisions per run, one at a time; instance A's sequence drew ${thousands(distinctIn(seqA))} distinct inputs (an unbounded cache could hit at most ${pct(1 - distinctIn(seqA) / decisions)} of it from cold), the top 1% of inputs are ${pct(topShare(Math.ceil(distinct / 100)))} of the draws and the top ${smallL1} are ${pct(topShare(smallL1))}. ${rounds} round${rounds > 1 ? 's' : ''} per workload, each on fresh tenants; cache off ran first in odd rounds and last in even ones. Latencies in µs per decision (\`decide()\`, audit record included); "vs off" is against cache off in the same round, medians of the rounds.`,
    '',
    ...overviewLines(),
    '',
    `- Goal "cache hit rate ≥ 80% on the Zipf mix" (medians of the rounds): ${hitGoal()}`,
    `- Goal "cache never slower than no cache" (the ratios in the table): ${analyses.map(slowGoal).join(' ')}`,
    `- The audit writer recorded ${thousands(auditCounters.queued)} rows and put ${thousands(auditCounters.written + auditCounters.replayed)} in the table (${thousands(auditCounters.replayed)} of them by way of its disk spool).`,
    '',
    ...analyses.flatMap(workloadLines),
    '<!-- cache:end -->',
  ];
  const file = path.join(root, 'docs/benchmarks.md');
  const current = fs.readFileSync(file, 'utf8');
  const marked = /<!-- cache:start -->[\s\S]*<!-- cache:end -->/;
  if (!marked.test(current)) {
    console.error('docs/benchmarks.md has no <!-- cache:start --> ... <!-- cache:end --> section');
    process.exit(1);
  }
  const prettier = require('prettier');
  const options = { ...(await prettier.resolveConfig(file)), filepath: file };
  fs.writeFileSync(file, await prettier.format(current.replace(marked, lines.join('\n')), options));
  const dataFile = path.join(root, 'docs/bench-data/cache.json');
  fs.mkdirSync(path.dirname(dataFile), { recursive: true });
  const data = {
    measuredAt: new Date().toISOString(),
    command,
    node: process.version,
    cores: os.cpus().length,
    cpu,
    elapsedSeconds,
    mix: {
      distinctInputs: distinct,
      zipfExponent: zipf,
      seed,
      decisionsPerRun: decisions,
      distinctDrawn: {
        a: distinctIn(sequences.a),
        b: distinctIn(sequences.b),
        c: distinctIn(sequences.c),
      },
      topOnePercentShare: topShare(Math.ceil(distinct / 100)),
      smallL1Share: topShare(smallL1),
    },
    smallL1Entries: smallL1,
    rounds,
    workloads: Object.fromEntries(
      analyses.map(({ phaseOf: _phaseOf, runs, ...rest }) => [
        rest.name,
        { ...rest, results: runs },
      ]),
    ),
    auditCheck,
    auditCounters,
  };
  fs.writeFileSync(
    dataFile,
    await prettier.format(JSON.stringify(data), { ...options, filepath: dataFile }),
  );
  console.log('wrote docs/benchmarks.md and docs/bench-data/cache.json');
}
