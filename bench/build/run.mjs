// Build time of `verdict build`: examples/rbac and a generated bundle of 1,000 rules.
// Usage: npm run bench:build [-- --write]   (--write rewrites the table in docs/benchmarks.md)
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import console from 'node:console';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { buildBundle } = require(path.join(root, 'dist/policies/bundle/build.js'));
const { loadSources } = require(path.join(root, 'dist/policies/bundle/sources.js'));
const { ObjectValue } = require(path.join(root, 'dist/policies/ir/value.js'));

/** 1,000 rules: 250 roles, each with grant rules, conditions and a helper function. */
function generated() {
  const lines = ['package generated', '', 'default allow := false', ''];
  for (let i = 0; i < 250; i++) {
    lines.push(`allow if {\n\tinput.role == "role${i}"\n\tinput.action in {"read", "list"}\n}`);
    lines.push(
      `allow if {\n\tinput.role == "role${i}"\n\tinput.action == "write"\n\tinput.resource.owner == input.user\n}`,
    );
    lines.push(`limits[${JSON.stringify(`role${i}`)}] := ${i * 10}`);
    lines.push(`check${i}(x) := x > ${i}`);
  }
  lines.push('within_limit if check7(limits[input.role])');
  return [{ file: 'generated.rego', text: lines.join('\n\n') + '\n' }];
}

async function time(label, request, runs = 5) {
  const t0 = process.hrtime.bigint();
  const first = await buildBundle(request);
  const cold = Number(process.hrtime.bigint() - t0) / 1e6;
  if (!first.bundle) throw new Error(`${label}: ${JSON.stringify(first.diagnostics)}`);
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    await buildBundle(request);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  const row = {
    label,
    cold,
    median,
    wasm: first.bundle.wasm.byteLength,
    bundle: first.bundle.tarGz.byteLength,
  };
  console.log(
    `${label.padEnd(36)} first ${cold.toFixed(0).padStart(6)} ms   then median ${median.toFixed(0).padStart(5)} ms   policy.wasm ${row.wasm} B   bundle ${row.bundle} B`,
  );
  return row;
}

const rbac = loadSources([path.join(root, 'examples/rbac')]);
const rows = [];
rows.push(
  await time('examples/rbac (rbac/allow, rbac/reasons)', {
    modules: rbac.modules,
    data: rbac.data,
    entrypoints: ['rbac/allow', 'rbac/reasons'],
  }),
);
rows.push(
  await time('generated: 1,000 rules', {
    modules: generated(),
    data: new ObjectValue(),
    entrypoints: ['generated/allow', 'generated/within_limit'],
  }),
);

if (process.argv.includes('--write')) {
  const file = path.join(root, 'docs/benchmarks.md');
  const table = [
    '<!-- build:start -->',
    `Measured by \`npm run bench:build -- --write\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.cpus().length} cores. "First" includes loading binaryen into the process (once per process: a CLI run pays it, a server pays it once); "then" is the median of 5 further builds in the same process.`,
    '',
    '| bundle | first build | then (median) | policy.wasm | bundle .tar.gz |',
    '|---|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.label} | ${r.cold.toFixed(0)} ms | ${r.median.toFixed(0)} ms | ${r.wasm.toLocaleString('en-US')} B | ${r.bundle.toLocaleString('en-US')} B |`,
    ),
    '<!-- build:end -->',
  ].join('\n');
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const next = /<!-- build:start -->[\s\S]*<!-- build:end -->/.test(current)
    ? current.replace(/<!-- build:start -->[\s\S]*<!-- build:end -->/, table)
    : `${current}${current ? '\n' : ''}${table}\n`;
  fs.writeFileSync(file, next);
  console.log(`wrote ${path.relative(root, file)}`);
}
