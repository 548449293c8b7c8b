/**
 * `verdict init <dir> --template rbac|abac|casl`: scaffolds a bundle folder (policy and data, or
 * a CASL rule set; tests; .manifest) from the examples that ship with Verdict; it passes `verdict test` at once.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';

export const TEMPLATES = ['rbac', 'abac', 'casl'] as const;
export type Template = (typeof TEMPLATES)[number];

export interface InitIO {
  readonly stderr: (text: string) => void;
}

/** The examples folder of this installation (next to package.json). */
function examplesDir(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the verdict installation folder');
    dir = up;
  }
  return path.join(dir, 'examples');
}

export function runInit(target: string, template: string, io: InitIO): number {
  if (!(TEMPLATES as readonly string[]).includes(template)) {
    io.stderr(
      `verdict init: unknown template ${JSON.stringify(template)}: use one of ${TEMPLATES.join(', ')}\n`,
    );
    return 1;
  }
  if (fs.existsSync(target) && fs.readdirSync(target).length > 0) {
    io.stderr(`verdict init: ${target} exists and is not empty; nothing written\n`);
    return 1;
  }
  const name = path
    .basename(path.resolve(target))
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, '-');
  const source = path.join(examplesDir(), template);
  fs.mkdirSync(target, { recursive: true });
  for (const file of fs.readdirSync(source)) {
    const from = path.join(source, file);
    if (!fs.statSync(from).isFile()) continue;
    let text = fs.readFileSync(from, 'utf8');
    if (file === '.manifest') {
      const manifest = JSON.parse(text) as Record<string, unknown>;
      text = JSON.stringify({ ...manifest, name, version: '0.1.0' }, null, 2) + '\n';
    }
    fs.writeFileSync(path.join(target, file), text);
  }
  io.stderr(
    `created ${target} from the ${template} template: run\n  verdict test ${target}\n  verdict build ${target} -o ${name}.tar.gz\n`,
  );
  return 0;
}

export function register(program: Command): void {
  program
    .command('init')
    .description(
      'Create a bundle folder (policy, data, tests, .manifest) that passes verdict test at once.',
    )
    .argument('<dir>', 'folder to create (must not exist or be empty)')
    .option('-t, --template <template>', `one of ${TEMPLATES.join(', ')}`, 'rbac')
    .addHelpText(
      'after',
      '\nExamples:\n  $ verdict init demo --template rbac && verdict test demo\n  $ verdict init docs --template casl && verdict test docs --coverage\n',
    )
    .action((dir: string, options: { template: string }) => {
      process.exitCode = runInit(dir, options.template, { stderr: (t) => process.stderr.write(t) });
    });
}
