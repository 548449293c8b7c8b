/**
 * `verdict check [paths...]`: parses every `.rego` file under the paths (default: the current
 * directory), then compiles them together, and prints each problem as
 * `file:line:col: code: message`. Exit code 1 when there is any problem.
 *
 * `--stages` also prints the program after each compiler stage, in Rego, to see what a stage
 * did to a policy.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { formatDiagnostic, type Diagnostic } from '../policies/diagnostic';
import type { Module } from '../policies/rego/ast';
import { compileModules } from '../policies/rego/compile';
import { formatModule } from '../policies/rego/format';
import { parseModule } from '../policies/rego/parser';

export interface CommandIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export const processIO: CommandIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** Folders never searched for policies. */
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'coverage']);

/**
 * The `.rego` files named by `paths` (files as given, folders searched recursively, skipping
 * hidden folders and node_modules), sorted; paths that do not exist are reported.
 */
export function findRegoFiles(paths: readonly string[]): { files: string[]; missing: string[] } {
  const files = new Set<string>();
  const missing: string[] = [];
  const walk = (dir: string): void => {
    const entries = fs.readdirSync(dir, { withFileTypes: true });
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!entry.name.startsWith('.') && !SKIPPED_DIRS.has(entry.name)) walk(full);
      } else if (entry.isFile() && entry.name.endsWith('.rego')) {
        files.add(full);
      }
    }
  };
  for (const p of paths) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(p);
    } catch {
      missing.push(p);
      continue;
    }
    if (stat.isDirectory()) walk(p);
    else files.add(p);
  }
  return { files: [...files].sort(), missing };
}

export interface CheckOptions {
  /** Print the program after each compiler stage. */
  readonly stages?: boolean;
}

/** Checks the policies under `paths`; returns the exit code. */
export function runCheck(
  paths: readonly string[],
  options: CheckOptions,
  io: CommandIO = processIO,
): number {
  const { files, missing } = findRegoFiles(paths.length > 0 ? paths : ['.']);
  for (const m of missing) io.stderr(`verdict check: ${m}: no such file or directory\n`);
  if (files.length === 0) {
    io.stderr('verdict check: no .rego files found\n');
    return 1;
  }
  const diagnostics: Diagnostic[] = [];
  const modules: Module[] = [];
  for (const file of files) {
    const parsed = parseModule(fs.readFileSync(file, 'utf8'), file);
    diagnostics.push(...parsed.diagnostics);
    if (parsed.module) modules.push(parsed.module);
  }
  if (diagnostics.length === 0) {
    const compiled = compileModules(modules, {
      onStage: options.stages
        ? (name, staged) => {
            io.stdout(`# ---- after stage: ${name}\n`);
            for (const m of staged)
              io.stdout(`# ${m.file}\n${formatModule({ ...m, comments: [] })}\n`);
          }
        : undefined,
    });
    diagnostics.push(...compiled.diagnostics);
  }
  for (const d of diagnostics) io.stdout(`${formatDiagnostic(d)}\n`);
  const noun = files.length === 1 ? 'file' : 'files';
  if (diagnostics.length > 0 || missing.length > 0) {
    const errors = diagnostics.length === 1 ? 'error' : 'errors';
    io.stderr(`${diagnostics.length} ${errors} in ${files.length} ${noun}\n`);
    return 1;
  }
  io.stderr(`${files.length} ${noun} checked, no errors\n`);
  return 0;
}

export function register(program: Command): void {
  program
    .command('check')
    .description('parse and compile .rego files, printing errors as file:line:col: message')
    .argument('[paths...]', 'files or folders to check (default: the current folder)')
    .option('--stages', 'print the program after each compiler stage')
    .addHelpText(
      'after',
      '\nExamples:\n  $ verdict check examples/rbac\n  $ verdict check policy.rego --stages   # the program after each compiler stage\n',
    )
    .action((paths: string[], options: CheckOptions) => {
      process.exitCode = runCheck(paths, options);
    });
}
