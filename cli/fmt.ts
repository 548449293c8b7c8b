/**
 * `verdict fmt [paths...]`: formats `.rego` files canonically (see policies/rego/format.ts).
 *
 * - no flag: prints the formatted source of each file;
 * - `--check`: lists the files whose formatting would change, exit code 1 if there are any;
 * - `--write`: rewrites those files in place and lists them.
 *
 * A file that does not parse is reported as `file:line:col: code: message`, left untouched,
 * and makes the exit code 1.
 */
import * as fs from 'node:fs';
import type { Command } from 'commander';
import { formatDiagnostic } from '../policies/diagnostic';
import { formatModule } from '../policies/rego/format';
import { parseModule } from '../policies/rego/parser';
import { findRegoFiles, processIO, type CommandIO } from './check';

export interface FmtOptions {
  readonly check?: boolean;
  readonly write?: boolean;
}

/** Formats the policies under `paths`; returns the exit code. */
export function runFmt(
  paths: readonly string[],
  options: FmtOptions,
  io: CommandIO = processIO,
): number {
  if (options.check && options.write) {
    io.stderr('verdict fmt: use either --check or --write\n');
    return 1;
  }
  const { files, missing } = findRegoFiles(paths.length > 0 ? paths : ['.']);
  let failed = missing.length > 0;
  for (const m of missing) io.stderr(`verdict fmt: ${m}: no such file or directory\n`);
  if (files.length === 0 && !failed) {
    io.stderr('verdict fmt: no .rego files found\n');
    return 1;
  }
  const changed: string[] = [];
  for (const file of files) {
    const source = fs.readFileSync(file, 'utf8');
    const parsed = parseModule(source, file);
    if (!parsed.module) {
      for (const d of parsed.diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
      failed = true;
      continue;
    }
    const formatted = formatModule(parsed.module);
    if (formatted === source) {
      if (!options.check && !options.write) io.stdout(formatted);
      continue;
    }
    changed.push(file);
    if (options.write) fs.writeFileSync(file, formatted);
    else if (!options.check) io.stdout(formatted);
  }
  if (options.check || options.write) for (const file of changed) io.stdout(`${file}\n`);
  if (options.check && changed.length > 0) {
    io.stderr(
      `${changed.length} of ${files.length} files need formatting: run verdict fmt --write\n`,
    );
    return 1;
  }
  return failed ? 1 : 0;
}

export function register(program: Command): void {
  program
    .command('fmt')
    .description('format .rego files canonically')
    .argument('[paths...]', 'files or folders to format (default: the current folder)')
    .option('--check', 'list files whose formatting would change; exit code 1 if any')
    .option('--write', 'rewrite files in place')
    .addHelpText(
      'after',
      '\nExamples:\n  $ verdict fmt examples/rbac          # print the formatted policies\n  $ verdict fmt --write examples/      # rewrite files in place\n  $ verdict fmt --check examples/      # exit 1 when a file is not formatted (for CI)\n',
    )
    .action((paths: string[], options: FmtOptions) => {
      process.exitCode = runFmt(paths, options);
    });
}
