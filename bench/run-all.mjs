// Every benchmark in turn, each writing its section of docs/benchmarks.md and its
// docs/bench-data/*.json, then the charts; a summary of each step's outcome at the end, and a
// non-zero exit when a step failed.
// Usage: npm run bench [-- --quick] [-- --only http,soak] [-- --skip density]
//   --quick          short runs of every step, a smoke test: nothing in docs/ is rewritten
//                    (charts go to a temporary folder) unless --write is given too
//   --write          with --quick: write the short runs' figures anyway
//   --only <list>    run only these steps (names as below)
//   --skip <list>    leave these steps out
// Steps: inprocess, build, http, cache, density, soak, charts. A step whose `bench:NAME`
// script is not in package.json is reported missing and does not fail the run. `npm run build`
// runs once first; a step whose script is the usual `npm run build --silent && node FILE` (or
// just `node FILE`) runs `node FILE` directly. Each step runs with the open-file limit raised as
// far as the hard limit allows (bench/http's 10,000 connections need over 10,000 descriptors).
import { spawn, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import console from 'node:console';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const option = (name) => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 && argv[at + 1] !== undefined ? argv[at + 1] : undefined;
};
const list = (name) =>
  option(name)
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const quick = argv.includes('--quick');
const write = !quick || argv.includes('--write');
const chartsDir =
  quick && !write ? fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-charts-')) : undefined;

// Arguments of each step: the full run, and the smoke run of --quick.
const steps = [
  { name: 'inprocess', full: [], quick: [], quickEnv: { N: '20000' } },
  { name: 'build', full: [], quick: [] },
  {
    name: 'http',
    full: ['--connections', '64,1000,10000', '--rounds', '2'],
    quick: ['--duration', '2', '--connections', '64', '--rounds', '1', '--sample', '32'],
  },
  { name: 'cache', full: [], quick: ['--decisions', '2000', '--rounds', '1'] },
  { name: 'density', full: [], quick: ['--tenants', '100', '--duration', '2', '--sample', '20'] },
  { name: 'soak', full: [], quick: ['--minutes', '0.5'] },
  { name: 'charts', full: [], quick: chartsDir ? ['--out', chartsDir] : [], writes: false },
];

const known = new Set(steps.map((s) => s.name));
for (const name of [...(list('only') ?? []), ...(list('skip') ?? [])])
  if (!known.has(name)) {
    console.error(`unknown step ${name}; the steps: ${[...known].join(', ')}`);
    process.exit(2);
  }
const only = list('only');
const skip = new Set(list('skip') ?? []);
const chosen = steps.filter((s) => (!only || only.includes(s.name)) && !skip.has(s.name));

const scripts = () =>
  JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).scripts ?? {};
const usual = /^(?:npm run build --silent && )?node (\S+)$/;

function openFileLimit() {
  try {
    const hard = execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim();
    return hard === 'unlimited' ? 1048576 : Number(hard);
  } catch {
    return NaN;
  }
}
const fileLimit = Math.min(openFileLimit(), 1048576);

/** Runs a command with inherited output; resolves to its exit code (or the signal's name). */
function run(command, args, env = {}) {
  return new Promise((resolve) => {
    // `ulimit -n` raises the soft limit for the step; it fails silently where it cannot.
    const raise = Number.isFinite(fileLimit) ? `ulimit -n ${fileLimit} 2>/dev/null; ` : '';
    const child = spawn('sh', ['-c', `${raise}exec "$@"`, 'sh', command, ...args], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, ...env },
    });
    current = child;
    child.on('exit', (code, signal) => {
      current = undefined;
      resolve(signal ?? code);
    });
  });
}

let current;
let interrupted = false;
const onSignal = (signal) => {
  // The step (same process group) got the signal too; stop once it has cleaned up.
  interrupted = true;
  console.error(`\n${signal}: stopping after the current step`);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', (signal) => {
  onSignal(signal);
  current?.kill('SIGTERM');
});

const seconds = (ms) => {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s` : `${s} s`;
};

const outcomes = [];
const began = Date.now();
console.log(
  `npm run bench${quick ? ' (quick)' : ''}: ${chosen.map((s) => s.name).join(', ')}; ` +
    `${write ? 'writing docs/benchmarks.md and docs/bench-data/' : 'docs/ left as they are'}`,
);
console.log('\n=== npm run build');
const buildCode = await run('npm', ['run', 'build', '--silent']);
if (buildCode !== 0) {
  console.error(`npm run build failed (${buildCode}); no benchmark run`);
  process.exit(1);
}

for (const step of chosen) {
  if (interrupted) {
    outcomes.push({ step, outcome: 'not run (interrupted)', failed: true });
    continue;
  }
  const script = scripts()[`bench:${step.name}`];
  if (script === undefined) {
    console.log(`\n=== bench:${step.name}: no such script in package.json, skipped`);
    outcomes.push({ step, outcome: 'missing (no bench script)', failed: false });
    continue;
  }
  const args = [
    ...(quick ? step.quick : step.full),
    ...(write && step.writes !== false ? ['--write'] : []),
  ];
  const direct = usual.exec(script);
  const [command, commandArgs] = direct
    ? [process.execPath, [direct[1], ...args]]
    : ['npm', ['run', `bench:${step.name}`, '--', ...args]];
  const shown = `npm run bench:${step.name}${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`;
  console.log(`\n=== ${shown}${direct ? `   (node ${direct[1]})` : ''}`);
  const started = Date.now();
  const code = await run(command, commandArgs, quick ? (step.quickEnv ?? {}) : {});
  const took = Date.now() - started;
  outcomes.push({
    step,
    command: shown,
    took,
    failed: code !== 0,
    outcome: code === 0 ? 'ok' : `FAILED (${typeof code === 'string' ? code : `exit ${code}`})`,
  });
}

console.log(`\n=== summary (${seconds(Date.now() - began)} in all)`);
for (const o of outcomes)
  console.log(
    `${o.step.name.padEnd(10)} ${o.outcome.padEnd(26)} ${o.took !== undefined ? seconds(o.took).padStart(10) : ''.padStart(10)}  ${o.command ?? ''}`,
  );
if (chartsDir) console.log(`charts of this quick run: ${chartsDir}`);
const failed = outcomes.filter((o) => o.failed);
if (failed.length > 0) {
  console.error(
    `${failed.length} step${failed.length > 1 ? 's' : ''} failed: ${failed.map((o) => o.step.name).join(', ')}`,
  );
  process.exitCode = 1;
}
