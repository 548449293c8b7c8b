// Verdict's HTTP decision service beside Cerbos, both on loopback, driven by autocannon.
// Usage: npm run bench:http [-- --duration 10 --connections 64,1000 --rounds 1 --write]
//   --duration <s>         seconds per run (default 10)
//   --connections <list>   connection counts, comma-separated (default 64)
//   --rounds <n>           Verdict/Cerbos pairs per connection count, order alternating (default 1)
//   --cerbos-actions <n>   actions checked per Cerbos request, 1-4 (default 3)
//   --sample <n>           inputs whose answers are compared before timing (default 256)
//   --workers <n|auto>     Verdict's HTTP workers (VERDICT_WORKERS; default auto: one per core)
//   --paced-from <n>       connection counts from this one up are driven at a fixed total rate
//                          instead of as fast as answers come (default 10000)
//   --paced-rate <r>       that total rate, requests/s (default 4000)
//   --paced-settle <s>     seconds a paced level runs before latencies count, while its
//                          connections open (default 5)
//   --tracing              Verdict with OpenTelemetry tracing on (every request sampled), its
//                          spans exported to a loopback OTLP sink that discards them; not with --write
//   --write                rewrite the http section of docs/benchmarks.md
// At a paced level every connection stays open and sends a request every
// connections/rate seconds: the figure is whether that many clients are held, and how fast
// each is answered, not how many requests the server can take.
// Verdict runs as `node bin/verdict.js serve` (audit on; a primary and its workers) on real Postgres
// (DATABASE_URL's server, default postgres://postgres@127.0.0.1:5432/test; a scratch database is
// created and dropped) and Redis (REDIS_URL, default redis://127.0.0.1:6379, a unique key
// prefix removed afterwards). Cerbos is the binary of @cerbos/cerbos-linux-x64 serving
// bench/http/cerbos/ with audit off.
import { createRequire } from 'node:module';
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import console from 'node:console';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { root, writeData, writeSection } from '../lib/docs.mjs';
import { freePort, json, setUpRbacTenant, spawnVerdict, stopChild, waitFor } from '../lib/http.mjs';
import { startOtlpSink } from '../lib/otlp-sink.mjs';
import { args as argv, flag, option, positive } from '../lib/options.mjs';
import { redisUrl, scratch, verdictEnv } from '../lib/scratch.mjs';
import { actions, rbacMix } from '../lib/rbac-mix.mjs';
import { median, quantile } from '../lib/stats.mjs';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon');
const pg = require('pg');

// --- options ---------------------------------------------------------------------------
const duration = positive('duration', option('duration', '10'));
const connectionCounts = option('connections', '64')
  .split(',')
  .map((text) => positive('connections', text.trim()));
const rounds = positive('rounds', option('rounds', '1'));
const cerbosActions = Math.min(4, positive('cerbos-actions', option('cerbos-actions', '3')));
const sampleSize = positive('sample', option('sample', '256'));
const write = flag('write');
const tracing = flag('tracing');
if (tracing && write) {
  console.error(
    '--tracing measures the cost of tracing; docs/benchmarks.md keeps the default setup: drop --write',
  );
  process.exit(2);
}
const workersSetting = option('workers', 'auto');
if (!/^(auto|[1-9]\d?)$/.test(workersSetting)) {
  console.error(`--workers must be auto or a whole number from 1 (got ${workersSetting})`);
  process.exit(2);
}
const pacedFrom = positive('paced-from', option('paced-from', '10000'));
const pacedRate = positive('paced-rate', option('paced-rate', '4000'));
const pacedSettle = positive('paced-settle', option('paced-settle', '5'));

// Verdict's `auto`: one worker per core, as DATABASE_URL and REDIS_URL are both set here.
const verdictWorkers =
  workersSetting === 'auto' ? os.availableParallelism() : Number(workersSetting);
const cerbosBinary = require.resolve('@cerbos/cerbos-linux-x64/cerbos-linux-x64');
const cerbosVersion = `Cerbos ${execFileSync(cerbosBinary, ['--version'], { encoding: 'utf8' }).split('\n')[0]}`;
const autocannonVersion = require('autocannon/package.json').version;

// --- the request mix -------------------------------------------------------------------
// examples/rbac: roles per tenant in data.json, grants per role and resource type, owners may
// read/update/delete/share what they own, nobody acts across tenants.
const example = path.join(root, 'examples/rbac');
const data = JSON.parse(fs.readFileSync(path.join(example, 'data.json'), 'utf8'));
const mix = rbacMix();

/** The roles an application would hand Cerbos: the subject's roles in its own tenant. */
const rolesOf = (subject) => {
  const roles = data.tenants[subject.tenant]?.members[subject.id] ?? [];
  return roles.length > 0 ? roles : ['member']; // Cerbos needs one role; "member" grants nothing
};
/** The Cerbos request checks the entry's action and the next ones in `actions`. */
const cerbosActionsOf = (entry) => {
  const first = actions.indexOf(entry.action);
  return Array.from({ length: cerbosActions }, (_, k) => actions[(first + k) % actions.length]);
};
const verdictBody = (entry, action = entry.action) =>
  JSON.stringify({ input: { subject: entry.subject, action, resource: entry.resource } });
const cerbosBody = (entry, requestId) =>
  JSON.stringify({
    requestId,
    principal: {
      id: entry.subject.id,
      roles: rolesOf(entry.subject),
      attr: { tenant: entry.subject.tenant },
    },
    resources: [
      {
        actions: cerbosActionsOf(entry),
        resource: {
          kind: entry.resource.type,
          id: entry.resource.id,
          attr: { tenant: entry.resource.tenant, owner: entry.resource.owner },
        },
      },
    ],
  });
const verdictBodies = mix.map((entry) => verdictBody(entry));
const cerbosBodies = mix.map((entry, i) => cerbosBody(entry, `r${i}`));

// --- helpers ---------------------------------------------------------------------------
/** One autocannon run; latencies come from each response (autocannon reports no p95). */
async function load(label, url, headers, bodies, connections) {
  const paced = connections >= pacedFrom;
  let next = 0;
  const latencies = [];
  // At a paced level the connections are all opened at the start; latencies count only once
  // that has settled, and the run is longer by as much.
  const settle = paced ? pacedSettle : 0;
  const countFrom = Date.now() + settle * 1000;
  const instance = autocannon({
    url,
    method: 'POST',
    connections,
    duration: duration + settle,
    ...(paced ? { overallRate: pacedRate } : {}),
    headers: { 'content-type': 'application/json', ...headers },
    requests: [
      {
        setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length] }),
      },
    ],
  });
  instance.on('response', (_client, _status, _bytes, ms) => {
    if (Date.now() >= countFrom) latencies.push(ms);
  });
  const result = await instance;
  latencies.sort((a, b) => a - b);
  const answered = result['2xx'];
  return {
    label,
    connections,
    paced: paced ? pacedRate : undefined,
    seconds: result.duration,
    answered,
    perSecond: answered / result.duration,
    p50: quantile(latencies, 0.5),
    p95: quantile(latencies, 0.95),
    p99: quantile(latencies, 0.99),
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
  };
}

// --- set up ----------------------------------------------------------------------------
const run = scratch('http');
const { work, dbName, databaseUrl } = run;
const adminToken = randomBytes(32).toString('base64url');
const children = [];
/** The OTLP sink of a --tracing run. */
const sinks = [];

async function cleanUp() {
  for (const child of children.reverse()) await stopChild(child).catch(() => undefined);
  for (const sink of sinks) {
    console.log(
      `tracing: ${sink.received.requests} OTLP exports, ${sink.received.bytes} bytes received`,
    );
    await sink.stop();
  }
  await run.cleanUp();
}

function openFileLimit() {
  try {
    const text = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    return text === 'unlimited' ? Infinity : Number(text);
  } catch {
    return NaN;
  }
}

async function startVerdict() {
  await run.createDatabase();
  const port = await freePort();
  const traces = tracing ? await startOtlpSink() : undefined;
  if (traces !== undefined) sinks.push(traces);
  const env = verdictEnv(run, adminToken, {
    VERDICT_WORKERS: workersSetting,
    ...(traces === undefined
      ? {}
      : { VERDICT_OTEL_EXPORTER: 'otlp', VERDICT_OTEL_ENDPOINT: traces.endpoint }),
  });
  const child = spawnVerdict(root, port, env, path.join(work, 'verdict.log'));
  children.push(child);
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`${base}/health/ready`, 'verdict serve', child, path.join(work, 'verdict.log'));

  const key = await setUpRbacTenant(root, base, adminToken, work, 'HTTP bench');
  return { base, key, child };
}

async function startCerbos() {
  const [http, grpc] = [await freePort(), await freePort()];
  const config = path.join(work, 'cerbos.yaml');
  fs.writeFileSync(
    config,
    [
      'server:',
      `  httpListenAddr: "127.0.0.1:${http}"`,
      `  grpcListenAddr: "127.0.0.1:${grpc}"`,
      'storage:',
      '  driver: disk',
      '  disk:',
      `    directory: ${JSON.stringify(path.join(root, 'bench/http/cerbos'))}`,
      '    watchForChanges: false',
      'audit:',
      '  enabled: false',
      'telemetry:',
      '  disabled: true',
      '',
    ].join('\n'),
  );
  const log = fs.openSync(path.join(work, 'cerbos.log'), 'a');
  const child = spawn(cerbosBinary, ['server', `--config=${config}`], {
    cwd: work,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: ['ignore', log, log],
  });
  children.push(child);
  const base = `http://127.0.0.1:${http}`;
  await waitFor(`${base}/_cerbos/health`, 'cerbos server', child, path.join(work, 'cerbos.log'));
  return { base, child };
}

const auditRows = async (knexLike) =>
  Number((await knexLike.query('select count(*)::bigint as n from decisions')).rows[0].n);

/** Polls the decisions table until it holds `expected` rows and stops growing (audit flush). */
async function settledAuditRows(db, expected, seconds = 60) {
  const end = Date.now() + seconds * 1000;
  let last = -1;
  for (;;) {
    const now = await auditRows(db);
    if ((now >= expected && now === last) || Date.now() > end) return now;
    last = now;
    await sleep(500);
  }
}

// --- run -------------------------------------------------------------------------------
const fixed = (n, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';
const ms = (n) => (Number.isFinite(n) ? `${n.toFixed(1)} ms` : 'n/a');

const results = [];
const skipped = [];
const audits = [];
let agreement;
const stopOnSignal = () => {
  console.error('interrupted: cleaning up');
  cleanUp().finally(() => process.exit(130));
};
process.once('SIGINT', stopOnSignal);
process.once('SIGTERM', stopOnSignal);

try {
  console.log(
    `starting Verdict (${verdictWorkers} worker${verdictWorkers > 1 ? 's' : ''}${tracing ? ', tracing on' : ''}; postgres ${databaseUrl.host}/${dbName}, redis ${redisUrl}) and ${cerbosVersion}`,
  );
  const verdict = await startVerdict();
  const cerbos = await startCerbos();
  const verdictUrl = `${verdict.base}/v1/data/rbac/allow`;
  const verdictHeaders = { authorization: `Bearer ${verdict.key}` };
  const cerbosUrl = `${cerbos.base}/api/check/resources`;

  // Same inputs, same answers? Every action a Cerbos request checks is asked of Verdict too.
  let agree = 0;
  let compared = 0;
  const disagreements = [];
  for (const entry of mix.slice(0, sampleSize)) {
    const checked = await json(cerbosUrl, { method: 'POST', body: cerbosBody(entry, 'sample') });
    for (const action of cerbosActionsOf(entry)) {
      const fromVerdict = await json(verdictUrl, {
        method: 'POST',
        token: verdict.key,
        body: verdictBody(entry, action),
      });
      const cerbosAllows = checked.results[0].actions[action] === 'EFFECT_ALLOW';
      compared++;
      if ((fromVerdict.result === true) === cerbosAllows) agree++;
      else if (disagreements.length < 5)
        disagreements.push({ ...entry, action, fromVerdict, cerbosAllows });
    }
  }
  const inputs = Math.min(sampleSize, mix.length);
  agreement = { agree, compared, inputs };
  console.log(`agreement on ${inputs} inputs: ${agree}/${compared} decisions equal`);
  if (agree !== compared) {
    console.error('the two services answer differently:', JSON.stringify(disagreements, null, 2));
    throw new Error('Verdict and Cerbos disagree; the comparison would not be fair');
  }

  const db = new pg.Client({ connectionString: databaseUrl.toString() });
  await db.connect();
  try {
    // Warm both (JIT, engine instances, connection pools) before measuring.
    console.log('warming up both services (2 s each, 64 connections)');
    const warm = { duration: 2 };
    await autocannon({
      url: verdictUrl,
      method: 'POST',
      connections: 64,
      ...warm,
      headers: { 'content-type': 'application/json', ...verdictHeaders },
      body: verdictBodies[0],
    });
    await autocannon({
      url: cerbosUrl,
      method: 'POST',
      connections: 64,
      ...warm,
      headers: { 'content-type': 'application/json' },
      body: cerbosBodies[0],
    });

    const limit = openFileLimit();
    for (const connections of connectionCounts) {
      // Each side of a loopback connection holds a descriptor in its own process; keep room
      // for the process's other files.
      if (connections + 256 > limit) {
        const reason = `open-file limit ${limit} (ulimit -n) is below ${connections} connections + 256; raise it (ulimit -n ${connections + 1024}) to run this level`;
        console.error(`skipping ${connections} connections: ${reason}`);
        skipped.push({ connections, reason });
        continue;
      }
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? ['verdict', 'cerbos'] : ['cerbos', 'verdict'];
        for (const side of order) {
          if (side === 'verdict') {
            const before = await settledAuditRows(db, 0);
            const run = await load(
              'Verdict',
              verdictUrl,
              verdictHeaders,
              verdictBodies,
              connections,
            );
            const after = await settledAuditRows(db, before + run.answered);
            // Requests in flight when the run ends, or given up by autocannon (timeouts), may
            // still be answered and audited without being counted as answered.
            const unseen = connections + run.timeouts;
            audits.push({ connections, answered: run.answered, rows: after - before, unseen });
            results.push({ ...run, decisionsPerRequest: 1 });
          } else {
            const run = await load('Cerbos', cerbosUrl, {}, cerbosBodies, connections);
            results.push({ ...run, decisionsPerRequest: cerbosActions });
          }
          for (const [name, server] of [
            ['verdict serve', verdict],
            ['cerbos server', cerbos],
          ])
            if (server.child.exitCode !== null || server.child.signalCode !== null)
              throw new Error(
                `${name} stopped during the run (${server.child.exitCode ?? server.child.signalCode})`,
              );
          const last = results[results.length - 1];
          console.log(
            `${String(connections).padStart(6)} conns  ${last.label.padEnd(7)} ${fixed(last.perSecond)} req/s  ` +
              `p50 ${ms(last.p50)}  p95 ${ms(last.p95)}  p99 ${ms(last.p99)}  ` +
              `errors ${last.errors} (timeouts ${last.timeouts}) non-2xx ${last.non2xx}`,
          );
        }
      }
    }
  } finally {
    await db.end();
  }
} catch (error) {
  for (const name of ['verdict.log', 'cerbos.log']) {
    const file = path.join(work, name);
    if (fs.existsSync(file))
      console.error(
        `--- ${name} (last lines)\n${fs.readFileSync(file, 'utf8').split('\n').slice(-15).join('\n')}`,
      );
  }
  throw error;
} finally {
  process.removeListener('SIGINT', stopOnSignal);
  process.removeListener('SIGTERM', stopOnSignal);
  await cleanUp();
}

// --- report ----------------------------------------------------------------------------
const levels = [...new Set(results.map((r) => r.connections))];
const summary = levels.map((connections) => {
  const of = (label) => results.filter((r) => r.connections === connections && r.label === label);
  const v = of('Verdict');
  const c = of('Cerbos');
  const a = audits.filter((x) => x.connections === connections);
  return {
    connections,
    verdict: v,
    cerbos: c,
    throughputRatio: median(v.map((r) => r.perSecond)) / median(c.map((r) => r.perSecond)),
    decisionRatio:
      median(v.map((r) => r.perSecond)) / (median(c.map((r) => r.perSecond)) * cerbosActions),
    p99Ratio: median(v.map((r) => r.p99)) / median(c.map((r) => r.p99)),
    answered: a.reduce((s, x) => s + x.answered, 0),
    auditRows: a.reduce((s, x) => s + x.rows, 0),
    unseen: a.reduce((s, x) => s + x.unseen, 0),
    auditOk: a.every((x) => x.rows >= x.answered && x.rows <= x.answered + x.unseen),
  };
});
console.log('');
for (const s of summary) {
  console.log(
    `${s.connections} connections: Verdict/Cerbos requests/s ${s.throughputRatio.toFixed(2)}x, ` +
      `decisions/s ${s.decisionRatio.toFixed(2)}x (Cerbos checks ${cerbosActions} actions a request), ` +
      `p99 ${s.p99Ratio.toFixed(2)}x; audit rows ${s.auditRows} for ${s.answered} answered decisions ` +
      `(+ at most ${s.unseen} in flight or timed out: ${s.auditOk ? 'consistent' : 'ROWS MISSING OR EXTRA'})`,
  );
}
for (const s of skipped) console.log(`${s.connections} connections not run: ${s.reason}`);

/** Issue 11's goals, each against the run's figures (when the run measured its level). */
function goalLines(levels) {
  const lines = [];
  const at64 = levels.find((level) => level.connections === 64);
  if (at64 !== undefined) {
    const met = at64.throughputRatio >= 2 && at64.p99Ratio <= 1;
    lines.push(
      `- Goal: throughput at least 2× Cerbos at 64 connections with p99 no worse, audit on: ${met ? 'met' : 'not met'} (${at64.throughputRatio.toFixed(2)}× in requests/s, p99 ${at64.p99Ratio.toFixed(2)}×).`,
    );
  }
  const held = levels.find((level) => level.connections === 10000);
  if (held !== undefined) {
    const runs = held.verdict;
    const worstP95 = Math.max(...runs.map((r) => r.p95));
    const errors = runs.reduce((sum, r) => sum + r.errors + r.non2xx, 0);
    lines.push(
      `- Goal: 10,000 concurrent connections held with p95 < 100 ms and 0 errors: ${worstP95 < 100 && errors === 0 ? 'met' : 'not met'} (Verdict's p95 at most ${worstP95.toFixed(1)} ms over its runs, ${errors} errors and non-2xx answers).`,
    );
  }
  return lines;
}

if (write) {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  const command =
    `npm run bench:http -- ${argv.filter((a) => a !== '--write').join(' ')} --write`.replace(
      / {2,}/g,
      ' ',
    );
  const rows = results.map(
    (r) =>
      `| ${r.connections}${r.paced === undefined ? '' : ` (paced ${fixed(r.paced)}/s)`} | ${r.label} | ${fixed(r.perSecond)} | ${fixed(r.perSecond * r.decisionsPerRequest)} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.errors} | ${r.timeouts} | ${r.non2xx} |`,
  );
  const lines = [
    `Measured by \`${command}\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.cpus().length} cores (${cpu}), ${cerbosVersion}, autocannon ${autocannonVersion} in the same machine; ${duration} s per run, ${rounds} run${rounds > 1 ? 's' : ''} per server and connection count, Verdict and Cerbos alternating. Cerbos checks ${cerbosActions} action${cerbosActions > 1 ? 's' : ''} per request (decisions/s counts them); Verdict answers one decision per request, with ${verdictWorkers} HTTP worker${verdictWorkers > 1 ? 's' : ''} (\`VERDICT_WORKERS=${workersSetting}\`) and audit on. Levels from ${pacedFrom.toLocaleString('en-US')} connections up are paced at ${pacedRate.toLocaleString('en-US')} requests/s in all: every connection stays open and is answered in turn, so their figure is the latency of that many clients held at once, not a maximum throughput; their latencies count from ${pacedSettle} s into the run, once every connection is open.`,
    '',
    '| connections | server | requests / s | decisions / s | p50 ms | p95 ms | p99 ms | errors | of which timeouts | non-2xx |',
    '| ----------: | ------ | -----------: | ------------: | -----: | -----: | -----: | -----: | ----------------: | ------: |',
    ...rows,
    '',
    ...summary.map(
      (s) =>
        `- ${s.connections} connections: Verdict/Cerbos ${s.throughputRatio.toFixed(2)}× in requests/s, ${s.decisionRatio.toFixed(2)}× in decisions/s, ${s.p99Ratio.toFixed(2)}× in p99 (below 1 is faster). Audit rows written during Verdict's runs: ${s.auditRows.toLocaleString('en-US')} for ${s.answered.toLocaleString('en-US')} answered decisions and at most ${s.unseen.toLocaleString('en-US')} more in flight at the end or timed out (${s.auditOk ? 'every run within those bounds' : 'a run outside those bounds: rows missing or extra'}).`,
    ),
    ...skipped.map((s) => `- ${s.connections} connections: not run (${s.reason}).`),
    `- Before timing: ${agreement.agree}/${agreement.compared} decisions equal on ${agreement.inputs} inputs of the mix.`,
    ...goalLines(summary),
  ];
  await writeSection('http', lines);
  // The figures as data, for the charts (bench/charts) and for comparing runs.
  await writeData('http', {
    measuredAt: new Date().toISOString(),
    command,
    node: process.version,
    cores: os.cpus().length,
    cpu,
    peer: cerbosVersion,
    loadGenerator: `autocannon ${autocannonVersion}`,
    durationSeconds: duration,
    rounds,
    cerbosActions,
    verdictWorkers,
    pacedFrom,
    pacedRate,
    agreement,
    results: results.map((r) => ({
      ...r,
      decisionsPerSecond: r.perSecond * r.decisionsPerRequest,
    })),
    summary: summary.map(({ verdict: _v, cerbos: _c, ...rest }) => rest),
    skipped,
  });
  console.log('wrote docs/benchmarks.md and docs/bench-data/http.json');
}
