// Rewrites the settings reference in docs/operations.md from the configuration schema
// (api/config-reference.ts). Run after `npm run build`: `npm run docs:config`.
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { configReferenceTable, withConfigReference } = require(
  path.join(root, 'dist/api/config-reference.js'),
);

const page = path.join(root, 'docs/operations.md');
const before = fs.readFileSync(page, 'utf8');
const after = withConfigReference(before, configReferenceTable());
if (after === before) {
  process.stdout.write('docs/operations.md: settings reference already current\n');
} else {
  fs.writeFileSync(page, after);
  process.stdout.write('docs/operations.md: settings reference rewritten\n');
}
