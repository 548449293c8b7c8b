/**
 * `verdict test [paths...]`: runs the `test_*` rules of Rego policies and the cases of CASL
 * bundles (cases.yaml), through the WASM engine by default (`--engine interp` for the reference
 * interpreter). Exit code 1 on any failure.
 */
import type { Command } from 'commander';
import { formatDiagnostic } from '../policies/diagnostic';
import { mergeCoverage, runCaslCases } from '../policies/testing/casl-cases';
import { runTests, type TestResult } from '../policies/testing/runner';
import { Progress, type ProgressStream } from './progress';
import { loadSources, SourceLoadError } from '../policies/bundle/sources';

export interface TestCommandOptions {
  readonly engine?: string;
  readonly format?: string;
  readonly run?: string;
  readonly verbose?: boolean;
  readonly coverage?: boolean;
  /** Print failures only: no passing lines, coverage table or summary. */
  readonly quiet?: boolean;
  /** Fail when line coverage is below this percentage (implies coverage). */
  readonly threshold?: string;
}

export interface TestIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Colour PASS/FAIL (a terminal that does not set NO_COLOR). */
  readonly color?: boolean;
  /** Where a progress bar may be drawn (standard error when it is a terminal). */
  readonly progress?: ProgressStream;
}

export async function runTestCommand(
  paths: readonly string[],
  options: TestCommandOptions,
  io: TestIO,
): Promise<number> {
  const engine = options.engine ?? 'wasm';
  if (engine !== 'wasm' && engine !== 'interp') {
    io.stderr(`verdict test: unknown engine ${JSON.stringify(engine)}: use wasm or interp\n`);
    return 1;
  }
  const format = options.format ?? 'pretty';
  if (format !== 'pretty' && format !== 'json') {
    io.stderr(`verdict test: unknown format ${JSON.stringify(format)}: use pretty or json\n`);
    return 1;
  }
  let sources;
  try {
    sources = loadSources(paths.length > 0 ? paths : ['.']);
  } catch (err) {
    if (err instanceof SourceLoadError) {
      io.stderr(`verdict test: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const threshold = options.threshold === undefined ? undefined : Number(options.threshold);
  if (threshold !== undefined && !(threshold >= 0 && threshold <= 100)) {
    io.stderr(
      `verdict test: --threshold takes a percentage from 0 to 100, not ${JSON.stringify(options.threshold)}\n`,
    );
    return 1;
  }
  const coverage = (options.coverage ?? false) || threshold !== undefined;
  const filter = options.run !== undefined ? { filter: options.run } : {};
  const progress = new Progress(io.progress ?? { write: () => undefined }, 0, {
    quiet: (options.quiet ?? false) || format === 'json',
  });
  const onProgress = (done: number, total: number, label: string): void => {
    progress.update(label, done, total);
  };
  const rego =
    sources.modules.length > 0 || sources.casl.length === 0
      ? await runTests(sources.modules, sources.data, { engine, coverage, onProgress, ...filter })
      : { results: [], diagnostics: [] };
  const caslRuns = [];
  for (const bundle of sources.casl)
    caslRuns.push(await runCaslCases(bundle, { engine, coverage, onProgress, ...filter }));
  progress.finish();
  const diagnostics = [...rego.diagnostics, ...caslRuns.flatMap((r) => r.diagnostics)];
  if (diagnostics.length > 0) {
    for (const d of diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
    return 1;
  }
  const run = {
    results: [...rego.results, ...caslRuns.flatMap((r) => r.results)],
    ...(coverage
      ? {
          coverage: mergeCoverage([
            ...(rego.coverage?.files ?? []),
            ...caslRuns.flatMap((r) => (r.coverage ? [r.coverage] : [])),
          ]),
        }
      : {}),
  };
  const failed = run.results.filter((r) => r.status !== 'pass');
  // Rego coverage is measured by the interpreter; CASL cases keep the engine asked for.
  const ranOn = coverage && rego.results.length > 0 ? 'interp' : engine;
  const below =
    threshold !== undefined && run.coverage !== undefined && run.coverage.percent < threshold;
  if (format === 'json') {
    const report = {
      engine: ranOn,
      passed: run.results.length - failed.length,
      failed: failed.length,
      results: run.results,
      ...(run.coverage ? { coverage: run.coverage } : {}),
    };
    io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    for (const r of run.results) {
      if (r.status !== 'pass' || (options.verbose && !options.quiet))
        io.stdout(`${line(r, io.color ?? false)}\n`);
    }
    if (run.coverage && !options.quiet) {
      for (const f of run.coverage.files) {
        io.stdout(
          `${f.file}: rules ${f.rulesCovered}/${f.rules}, lines ${f.linesCovered}/${f.lines} (${pct(f.linesCovered, f.lines)})\n`,
        );
        for (const u of f.uncovered) io.stdout(`  not covered: ${f.file}:${u.line}: ${u.name}\n`);
      }
      io.stdout(`coverage: ${run.coverage.percent.toFixed(1)}% of lines\n`);
      if (below) {
        io.stdout(
          `coverage ${run.coverage.percent.toFixed(1)}% is below the threshold ${threshold}%\n`,
        );
      }
    }
    if (run.results.length === 0)
      io.stdout('no tests found (Rego rules named test_*, CASL cases in cases.yaml)\n');
    else if (!options.quiet)
      io.stdout(
        `${run.results.length - failed.length} passed, ${failed.length} failed (engine: ${ranOn})\n`,
      );
  }
  return failed.length > 0 || run.results.length === 0 || below ? 1 : 0;
}

function pct(n: number, of: number): string {
  return `${of === 0 ? '100.0' : ((100 * n) / of).toFixed(1)}%`;
}

const COLORS = { pass: '\u001b[32m', fail: '\u001b[31m', error: '\u001b[35m' } as const;

function line(r: TestResult, color: boolean): string {
  const where = r.position ? `${r.position.file}:${r.position.line}:${r.position.col}: ` : '';
  const word = r.status === 'pass' ? 'PASS' : r.status === 'fail' ? 'FAIL' : 'ERROR';
  const mark = color ? `${COLORS[r.status]}${word}\u001b[0m` : word;
  return `${mark} ${where}${r.name}${r.detail ? ` — ${r.detail}` : ''} (${r.durationMs.toFixed(1)} ms)`;
}

export function register(program: Command): void {
  program
    .command('test')
    .description(
      'Run the test_* rules of Rego policies and the cases.yaml of CASL bundles (through the WASM engine by default).',
    )
    .argument('[paths...]', 'policy and data files or directories (default: the current directory)')
    .option(
      '--engine <engine>',
      'wasm (what production runs) or interp (the reference interpreter)',
      'wasm',
    )
    .option('--format <format>', 'pretty or json', 'pretty')
    .option('--run <text>', 'only tests whose name contains the text')
    .option('-v, --verbose', 'list passing tests too')
    .option('--coverage', 'report rule and line coverage per file (runs through the interpreter)')
    .option('-q, --quiet', 'print failures only')
    .option('--threshold <percent>', 'fail when line coverage is below this (implies --coverage)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ verdict test examples/rbac\n  $ verdict test examples/casl --coverage\n  $ verdict test examples/ --engine interp --run tenant -v\n  $ verdict test examples/rbac --coverage --threshold 90\n',
    )
    .action(async (paths: string[], options: TestCommandOptions) => {
      process.exitCode = await runTestCommand(paths, options, {
        stdout: (t) => process.stdout.write(t),
        stderr: (t) => process.stderr.write(t),
        color: process.stdout.isTTY && process.env.NO_COLOR === undefined,
        progress: process.stderr,
      });
    });
}
