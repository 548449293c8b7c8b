// Copies the auditor console's static files (api/console/) to dist/api/console/, beside the
// compiled router that serves them: tsc compiles TypeScript only and copies nothing else.
// Each file is written aside and renamed into place, so a server reading dist/ while another
// build runs (tests run in parallel) never sees a missing or half-written file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.join(root, 'api', 'console');
const target = path.join(root, 'dist', 'api', 'console');

fs.mkdirSync(target, { recursive: true });
const names = fs
  .readdirSync(source)
  .filter((name) => fs.statSync(path.join(source, name)).isFile());
for (const name of names) {
  const temp = path.join(target, `.${name}.${process.pid}.tmp`);
  fs.copyFileSync(path.join(source, name), temp);
  fs.renameSync(temp, path.join(target, name));
}
// A file deleted from the sources does not linger in dist/.
for (const name of fs.readdirSync(target)) {
  if (!names.includes(name) && !name.startsWith('.')) fs.rmSync(path.join(target, name));
}
