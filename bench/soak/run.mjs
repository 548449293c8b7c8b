// Soak: Verdict's decision service under a steady load for minutes, watching its memory, its
// event loop and its audit trail.
// Usage: npm run bench:soak [-- --minutes 10 --rate 1000 --connections 32 --write]
//   --minutes <m>       length of the loaded run, fractions allowed (default 10)
//   --rate <n>          requests a second, sent on schedule (default 1000)
//   --connections <n>   kept-alive connections (default 32)
//   --warmup <s>        seconds counted as warm-up (default 120, at most a fifth of the run);
//                       at 1,000 requests/s the heap grows until the first full collection,
//                       which came at about 100 s in the first 10-minute soak
//   --interval <s>      seconds between samples (default 5, at least 20 samples a run)
//   --write             rewrite the soak section of docs/benchmarks.md, write docs/bench-data/soak.json
// The server is Verdict's own (`start` from dist/api/server.js, configured from the
// environment like `verdict serve`) in a child process, bench/soak/server.mjs, which reports
// process.memoryUsage() and event-loop delay over IPC. Real Postgres (DATABASE_URL's server,
// default postgres://postgres@127.0.0.1:5432/test; a scratch database is created and dropped)
// and Redis (REDIS_URL, default redis://127.0.0.1:6379; a unique key prefix removed afterwards);
// audit on. Requests: examples/rbac's `POST /v1/data/rbac/allow` with the mix of bench/http.
import { createRequire } from 'node:module';
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import console from 'node:console';
import process from 'node:process';
import { setTimeout, clearTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { root, writeData, writeSection } from '../lib/docs.mjs';
import { setUpRbacTenant } from '../lib/http.mjs';
import { args as argv, flag, option } from '../lib/options.mjs';
import { rbacMix } from '../lib/rbac-mix.mjs';
import { redisUrl, scratch } from '../lib/scratch.mjs';
import { pacedLoad } from './load.mjs';

const require = createRequire(import.meta.url);
const pg = require('pg');

// --- options ---------------------------------------------------------------------------
// Minutes and seconds may be fractions here (a short run of `--minutes 0.5`).
const positive = (name, text, whole = true) => {
  const value = Number(text);
  if (!(value > 0) || (whole && !Number.isInteger(value))) {
    console.error(`--${name} must be a ${whole ? 'whole ' : ''}number above 0 (got ${text})`);
    process.exit(2);
  }
  return value;
};
const minutes = positive('minutes', option('minutes', '10'), false);
const rate = positive('rate', option('rate', '1000'));
const connections = positive('connections', option('connections', '32'));
const runSeconds = minutes * 60;
const warmupSeconds = Math.min(positive('warmup', option('warmup', '120'), false), runSeconds / 5);
const intervalSeconds = Math.min(
  positive('interval', option('interval', '5'), false),
  runSeconds / 20,
);
const write = flag('write');
const goal = 'RSS growth < 5% after warm-up; no audit row lost';

// --- the request mix (bench/http's) --------------------------------------------------------
const bodies = rbacMix().map((request) => JSON.stringify({ input: request }));

// --- set up ----------------------------------------------------------------------------
const run = scratch('soak');
const { work, dbName, databaseUrl, redisPrefix } = run;
const logFile = path.join(work, 'verdict.log');
const adminToken = randomBytes(32).toString('base64url');
let child;

const logTail = (lines = 20) =>
  fs.existsSync(logFile)
    ? fs.readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n')
    : '(no log)';

/** Sends `message` to the server and waits for its answer of type `type`. */
function ask(message, type, seconds = 30) {
  return new Promise((resolve, reject) => {
    const id = randomBytes(6).toString('hex');
    const onMessage = (answer) => {
      if (answer?.type !== type || (answer.id !== undefined && answer.id !== id)) return;
      done();
      resolve(answer);
    };
    const onExit = (code, signal) => {
      done();
      reject(new Error(`the server exited (${code ?? signal}); its log:\n${logTail()}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`the server did not answer ${message.type} within ${seconds} s`));
    }, seconds * 1000);
    const done = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send({ ...message, id });
  });
}
const sample = (extra = {}) => ask({ type: 'sample', ...extra }, 'sample').then((a) => a.reading);

/** Stops the server gracefully (every audit row written); a kill if it does not stop. */
async function stopServer() {
  if (!child || child.exitCode !== null || child.signalCode !== null) return undefined;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let stopped;
  try {
    stopped = await ask({ type: 'stop' }, 'stopped', 60);
  } catch (error) {
    console.error(error.message);
    child.kill('SIGKILL');
  }
  await exited;
  return stopped;
}

async function cleanUp() {
  await stopServer().catch(() => undefined);
  await run.cleanUp();
}

async function startVerdict() {
  await run.createDatabase();
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    PORT: '0',
    DATABASE_URL: databaseUrl.toString(),
    REDIS_URL: redisUrl,
    VERDICT_REDIS_PREFIX: redisPrefix,
    VERDICT_ADMIN_TOKEN: adminToken,
    VERDICT_HOST: '127.0.0.1',
    VERDICT_DATA_DIR: path.join(work, 'verdict-data'),
    // The soak measures the service, not its limits or a log line per request.
    VERDICT_RATE_LIMIT_IP: 'off',
    VERDICT_RATE_LIMIT_DECISIONS: 'off',
    LOG_LEVEL: 'warn',
  };
  const log = fs.openSync(logFile, 'a');
  child = fork(path.join(root, 'bench/soak/server.mjs'), [], {
    env,
    execArgv: ['--expose-gc'],
    stdio: ['ignore', log, log, 'ipc'],
  });
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start in 60 s')), 60000);
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve(message);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code ?? signal}) while starting:\n${logTail()}`));
    });
  });
  const base = ready.url;

  const key = await setUpRbacTenant(root, base, adminToken, work, 'Soak bench');
  return { base, key };
}

// Rows of the decisions asked; the setup's admin calls leave rows of their own (platform
// decisions), counted apart.
const countRows = async (db) => {
  const { rows } = await db.query(
    "select count(*) filter (where path = 'rbac/allow')::bigint as asked, count(*)::bigint as all from decisions",
  );
  return { asked: Number(rows[0].asked), other: Number(rows[0].all) - Number(rows[0].asked) };
};

// --- run -------------------------------------------------------------------------------
const mb = (bytes) => bytes / 1024 / 1024;
const fixed = (n, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';

const stopOnSignal = () => {
  console.error('interrupted: cleaning up');
  cleanUp().finally(() => process.exit(130));
};
process.once('SIGINT', stopOnSignal);
process.once('SIGTERM', stopOnSignal);

let report;
try {
  console.log(
    `starting Verdict (postgres ${databaseUrl.host}/${dbName}, redis ${redisUrl}); soak of ` +
      `${fixed(minutes, 2)} min at ${fixed(rate)} requests/s over ${connections} connections, ` +
      `warm-up ${fixed(warmupSeconds, 1)} s, a sample every ${fixed(intervalSeconds, 1)} s`,
  );
  const verdict = await startVerdict();
  const url = `${verdict.base}/v1/data/rbac/allow`;

  // Memory after setup and a full collection, before any decision; the event-loop delay
  // span starts here.
  const start = await sample({ gc: true, mark: true });
  const load = pacedLoad({
    url,
    headers: { authorization: `Bearer ${verdict.key}` },
    bodies,
    rate,
    connections,
  });
  const startedAt = Date.now();
  const series = [];
  let warmEnd;
  for (let k = 1; k * intervalSeconds <= runSeconds + 1e-9; k++) {
    await sleep(Math.max(0, startedAt + k * intervalSeconds * 1000 - Date.now()));
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`the server stopped during the soak; its log:\n${logTail()}`);
    const t = (Date.now() - startedAt) / 1000;
    const client = load.takeInterval();
    // The sample at the end of the warm-up starts the span the run's delay figures cover.
    const mark = warmEnd === undefined && t >= warmupSeconds - 1e-9;
    const reading = await sample({ mark });
    const point = {
      t,
      rss: reading.rss,
      heapUsed: reading.heapUsed,
      heapTotal: reading.heapTotal,
      external: reading.external,
      arrayBuffers: reading.arrayBuffers,
      loopDelay: reading.loopDelay,
      auditQueue: reading.audit.queue,
      requests: client,
    };
    series.push(point);
    if (mark) warmEnd = point;
    console.log(
      `${fixed(t, 0).padStart(5)} s  rss ${fixed(mb(reading.rss), 1)} MB  heap ${fixed(mb(reading.heapUsed), 1)} MB  ` +
        `loop delay p99 ${fixed(reading.loopDelay.p99, 1)} ms max ${fixed(reading.loopDelay.max, 1)} ms  ` +
        `${fixed(client.perSecond)} req/s  p99 ${fixed(client.p99, 1)} ms  failed ${client.failed}` +
        (mark ? '  (end of warm-up)' : ''),
    );
  }
  const requests = await load.finish();
  const last = series[series.length - 1];
  // The delay figures since the end of the warm-up, read before the collection below.
  const steady = (await sample()).loopDelaySpan;
  const end = await sample({ gc: true });

  // Every answered decision must leave one row: wait for the writer's flushes, then stop the
  // server (which writes what is still queued) and count again.
  const db = new pg.Client({ connectionString: databaseUrl.toString() });
  await db.connect();
  let rowsBeforeStop;
  let rows;
  let otherRows;
  let stopped;
  try {
    const until = Date.now() + 60_000;
    do {
      rowsBeforeStop = (await countRows(db)).asked;
      if (rowsBeforeStop >= requests.answered) break;
      await sleep(500);
    } while (Date.now() < until);
    stopped = await stopServer();
    ({ asked: rows, other: otherRows } = await countRows(db));
  } finally {
    await db.end();
  }

  const rssGrowth = (last.rss - warmEnd.rss) / warmEnd.rss;
  // Least-squares slope of RSS over the samples after the warm-up, in MB a minute.
  const after = series.filter((p) => p.t >= warmEnd.t);
  const meanT = after.reduce((s, p) => s + p.t, 0) / after.length;
  const meanRss = after.reduce((s, p) => s + mb(p.rss), 0) / after.length;
  const slope =
    after.reduce((s, p) => s + (p.t - meanT) * (mb(p.rss) - meanRss), 0) /
    after.reduce((s, p) => s + (p.t - meanT) ** 2, 0);
  report = {
    minutes,
    rate,
    connections,
    warmupSeconds,
    intervalSeconds,
    requests,
    memory: {
      start: { rss: start.rss, heapUsed: start.heapUsed, heapTotal: start.heapTotal },
      warmEnd: { t: warmEnd.t, rss: warmEnd.rss, heapUsed: warmEnd.heapUsed },
      last: { t: last.t, rss: last.rss, heapUsed: last.heapUsed },
      end: { rss: end.rss, heapUsed: end.heapUsed, heapTotal: end.heapTotal },
      rssGrowth,
      rssSlopeMbPerMinute: slope * 60,
      peakRss: Math.max(...series.map((p) => p.rss)),
      rssAfterWarmup: {
        lowest: Math.min(...after.map((p) => p.rss)),
        highest: Math.max(...after.map((p) => p.rss)),
      },
    },
    loopDelay: {
      steady,
      worstInterval: Math.max(...series.map((p) => p.loopDelay.max)),
    },
    audit: {
      answered: requests.answered,
      rowsBeforeStop,
      rows,
      otherRows,
      equal: rows === requests.answered,
      writer: stopped?.audit,
    },
    series,
  };
} catch (error) {
  console.error(`--- verdict.log (last lines)\n${logTail(15)}`);
  throw error;
} finally {
  process.removeListener('SIGINT', stopOnSignal);
  process.removeListener('SIGTERM', stopOnSignal);
  await cleanUp();
}

// --- report ----------------------------------------------------------------------------
const { requests, memory, loopDelay, audit } = report;
const growthText = `${memory.rssGrowth >= 0 ? '+' : ''}${(memory.rssGrowth * 100).toFixed(1)}%`;
const growthOk = memory.rssGrowth < 0.05;
const auditText = audit.equal
  ? `${fixed(audit.rows)} audit rows for ${fixed(audit.answered)} answered decisions: equal, none lost`
  : `${fixed(audit.rows)} audit rows for ${fixed(audit.answered)} answered decisions: NOT EQUAL (${audit.rows < audit.answered ? 'rows missing' : 'rows extra'})`;
const lines = [
  `requests: ${fixed(requests.sent)} sent in ${fixed(requests.sendingSeconds, 1)} s, ${fixed(requests.answered)} answered ` +
    `(${fixed(requests.perSecond, 1)}/s for ${fixed(rate)}/s asked; ${fixed(requests.allowed)} allowed), ` +
    `${requests.errors} errors (${requests.timeouts} timeouts), ${requests.non2xx} non-2xx, ${requests.behindAtEnd} behind schedule at the end`,
  `latency: p50 ${fixed(requests.p50, 2)} ms, p90 ${fixed(requests.p90, 2)} ms, p99 ${fixed(requests.p99, 2)} ms, ` +
    `p99.9 ${fixed(requests.p999, 2)} ms, max ${fixed(requests.max, 1)} ms`,
  `RSS: ${fixed(mb(memory.start.rss), 1)} MB before the load, ${fixed(mb(memory.warmEnd.rss), 1)} MB at the end of the warm-up (${fixed(memory.warmEnd.t)} s), ` +
    `${fixed(mb(memory.last.rss), 1)} MB at the end (${fixed(memory.last.t)} s): ${growthText} after the warm-up ` +
    `(goal < 5%: ${growthOk ? 'met' : 'NOT MET'}); trend after the warm-up ${fixed(memory.rssSlopeMbPerMinute, 2)} MB/min; from ${fixed(mb(memory.rssAfterWarmup.lowest), 1)} to ${fixed(mb(memory.rssAfterWarmup.highest), 1)} MB after the warm-up; peak ${fixed(mb(memory.peakRss), 1)} MB`,
  `heap used: ${fixed(mb(memory.start.heapUsed), 1)} MB before the load and ${fixed(mb(memory.end.heapUsed), 1)} MB after it (both after a full GC); ` +
    `${fixed(mb(memory.warmEnd.heapUsed), 1)} MB at the end of the warm-up and ${fixed(mb(memory.last.heapUsed), 1)} MB at the end, under load`,
  `event-loop delay after the warm-up: p50 ${fixed(loopDelay.steady.p50, 2)} ms, p99 ${fixed(loopDelay.steady.p99, 2)} ms, max ${fixed(loopDelay.steady.max, 1)} ms ` +
    `(worst interval max, warm-up included: ${fixed(loopDelay.worstInterval, 1)} ms)`,
  `audit: ${auditText}` +
    (audit.writer
      ? ` (writer: ${audit.writer.queued} recorded, of which ${audit.otherRows} for the setup's admin calls; ${audit.writer.spooled} spooled, ${audit.writer.dropped} dropped)`
      : ''),
];
console.log('');
for (const line of lines) console.log(line);

if (write) {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  const command =
    `npm run bench:soak -- ${argv.filter((a) => a !== '--write').join(' ')} --write`.replace(
      / {2,}/g,
      ' ',
    );
  const measuredAt = new Date().toISOString();
  const section = [
    `Measured by \`${command}\` on ${measuredAt.slice(0, 10)}, Node ${process.version}, ${os.cpus().length} cores (${cpu}); the load generator in the same machine. ${fixed(minutes, minutes % 1 ? 1 : 0)} min at ${fixed(rate)} requests/s over ${connections} kept-alive connections; warm-up: the first ${fixed(warmupSeconds)} s; a sample every ${fixed(intervalSeconds, intervalSeconds % 1 ? 1 : 0)} s. Goal (issue 11): ${goal}.`,
    '',
    '| measure | figure |',
    '| ------- | -----: |',
    `| requests answered | ${fixed(requests.answered)} of ${fixed(requests.sent)} sent |`,
    `| achieved rate | ${fixed(requests.perSecond, 1)} / s (${fixed(rate)} / s asked) |`,
    `| latency p50 / p99 / max | ${fixed(requests.p50, 2)} / ${fixed(requests.p99, 2)} / ${fixed(requests.max, 1)} ms |`,
    `| errors (of which timeouts) / non-2xx | ${requests.errors} (${requests.timeouts}) / ${requests.non2xx} |`,
    `| RSS before the load | ${fixed(mb(memory.start.rss), 1)} MB |`,
    `| RSS at the end of the warm-up | ${fixed(mb(memory.warmEnd.rss), 1)} MB |`,
    `| RSS at the end | ${fixed(mb(memory.last.rss), 1)} MB |`,
    `| RSS after the warm-up, lowest – highest sample | ${fixed(mb(memory.rssAfterWarmup.lowest), 1)} – ${fixed(mb(memory.rssAfterWarmup.highest), 1)} MB (peak of the run ${fixed(mb(memory.peakRss), 1)} MB) |`,
    `| **RSS growth after the warm-up** (goal < 5%) | **${growthText}** (${fixed(memory.rssSlopeMbPerMinute, 2)} MB/min trend) |`,
    `| heap used before / after the load (after a full GC) | ${fixed(mb(memory.start.heapUsed), 1)} / ${fixed(mb(memory.end.heapUsed), 1)} MB |`,
    `| heap used at the end of the warm-up / at the end (under load) | ${fixed(mb(memory.warmEnd.heapUsed), 1)} / ${fixed(mb(memory.last.heapUsed), 1)} MB |`,
    `| event-loop delay after the warm-up p50 / p99 / max | ${fixed(loopDelay.steady.p50, 2)} / ${fixed(loopDelay.steady.p99, 2)} / ${fixed(loopDelay.steady.max, 1)} ms |`,
    `| **audit rows / answered decisions** (goal: equal) | **${fixed(audit.rows)} / ${fixed(audit.answered)}** (${audit.equal ? 'equal' : 'NOT EQUAL'}) |`,
    '',
    `- RSS growth after the warm-up: ${growthText}, goal < 5% ${growthOk ? 'met' : 'not met'}. Audit: ${auditText}, counted in Postgres after the server's graceful stop (its final flush)${audit.writer ? `; the writer recorded ${fixed(audit.writer.queued)} rows (${audit.otherRows} of them the platform decisions of the setup's admin calls), spooled ${audit.writer.spooled} and dropped ${audit.writer.dropped}` : ''}.`,
  ];
  await writeSection('soak', section);

  await writeData('soak', {
    measuredAt,
    command,
    node: process.version,
    cores: os.cpus().length,
    cpu,
    goal,
    ...report,
  });
  console.log('wrote docs/benchmarks.md and docs/bench-data/soak.json');
}
if (!report.audit.equal) process.exitCode = 1;
