// Writing a bench's figures: its marked section of docs/benchmarks.md, formatted as `npm run
// lint` expects, and its data file docs/bench-data/NAME.json.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Replaces `<!-- name:start -->...<!-- name:end -->` in docs/benchmarks.md with `lines`
 * (markers included by this function). Throws when the section is missing.
 */
export async function writeSection(name, lines) {
  const file = path.join(root, 'docs/benchmarks.md');
  const current = fs.readFileSync(file, 'utf8');
  const marked = new RegExp(`<!-- ${name}:start -->[\\s\\S]*<!-- ${name}:end -->`);
  if (!marked.test(current)) {
    throw new Error(
      `docs/benchmarks.md has no <!-- ${name}:start --> ... <!-- ${name}:end --> section`,
    );
  }
  const section = [`<!-- ${name}:start -->`, '', ...lines, '', `<!-- ${name}:end -->`].join('\n');
  const prettier = require('prettier');
  const options = { ...(await prettier.resolveConfig(file)), filepath: file };
  // A function replacement: `$` in the section stays as written.
  fs.writeFileSync(
    file,
    await prettier.format(
      current.replace(marked, () => section),
      options,
    ),
  );
}

/** Writes `data` as docs/bench-data/NAME.json, formatted as `npm run lint` expects. */
export async function writeData(name, data) {
  const file = path.join(root, 'docs/bench-data', `${name}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const prettier = require('prettier');
  const options = { ...(await prettier.resolveConfig(file)), filepath: file };
  fs.writeFileSync(file, await prettier.format(JSON.stringify(data), options));
}
