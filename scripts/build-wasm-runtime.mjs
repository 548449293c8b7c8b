// Builds dist/wasm/runtime.wasm from policies/wasm/runtime (AssemblyScript), optimized, with
// function names kept (the code generator calls the runtime's exports). Skips the build when
// the output is newer than every source, so `npm test` does not pay for it on every run.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = path.join(root, 'policies', 'wasm', 'runtime');
const output = path.join(root, 'dist', 'wasm', 'runtime.wasm');

function newestSource(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const time = entry.isDirectory() ? newestSource(full) : fs.statSync(full).mtimeMs;
    newest = Math.max(newest, time);
  }
  return newest;
}

const force = process.argv.includes('--force');
if (!force && fs.existsSync(output) && fs.statSync(output).mtimeMs > newestSource(sourceDir)) {
  process.exit(0);
}
fs.mkdirSync(path.dirname(output), { recursive: true });
// Written aside and renamed into place: a reader (tests run in parallel) never sees half a module.
const temp = `${output}.${process.pid}.tmp`;
const asc = path.join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
execFileSync(
  process.execPath,
  [
    asc,
    path.join(sourceDir, 'index.ts'),
    '--runtime',
    'stub',
    '--importMemory',
    '--debug',
    '-O3',
    '-o',
    temp,
  ],
  { stdio: 'inherit' },
);
fs.renameSync(temp, output);
