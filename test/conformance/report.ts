/**
 * `npm run conformance [-- options]`: runs the OPA conformance corpus through Verdict and prints
 * passed / failed / skipped per folder, the total, and the skip list.
 *
 *   --folder <name>      run one folder only
 *   --verbose            list every failed and skipped case with its reason
 *   --json <file>        also write the summary and every case's result as JSON
 *   --write-docs         rewrite docs/conformance.md (table, skip list, failures)
 *   --step-budget <n>    evaluation steps per case (default 5,000,000)
 *   --timeout-ms <n>     wall-clock guard per case when run compiled (default 60,000)
 *
 * The script compiles the harness with tsc (test/conformance/tsconfig.report.json) and runs
 * dist/test/conformance/report.js, so it needs nothing beyond `npm install`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { format, resolveConfig } from 'prettier';
import { corpusAvailable, corpusRoot, loadCorpus, repoRoot, type ConformanceCase } from './corpus';
import { runIsolated } from './isolated-runner';
import { DEFAULT_STEP_BUDGET, runCase, type CaseResult } from './run-case';
import { formatMarkdown, formatTable, headline, summarize } from './summary';

export interface ReportOptions {
  readonly folder?: string;
  readonly verbose: boolean;
  readonly json?: string;
  readonly writeDocs: boolean;
  readonly stepBudget: number;
  readonly timeoutMs: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;

export function parseOptions(argv: readonly string[]): ReportOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      folder: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      json: { type: 'string' },
      'write-docs': { type: 'boolean', default: false },
      'step-budget': { type: 'string' },
      'timeout-ms': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  return {
    folder: values.folder,
    verbose: values.verbose,
    json: values.json,
    writeDocs: values['write-docs'],
    stepBudget: positiveInteger(values['step-budget'], '--step-budget', DEFAULT_STEP_BUDGET),
    timeoutMs: positiveInteger(values['timeout-ms'], '--timeout-ms', DEFAULT_TIMEOUT_MS),
  };
}

function positiveInteger(raw: string | undefined, flag: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new Error(`${flag} takes a positive whole number, not "${raw}"`);
  }
  return n;
}

/**
 * Compiled (report.js), cases run in a worker thread guarded by a timeout; from TypeScript
 * sources (no compiled worker beside this file) they run in this thread.
 */
async function runAll(
  cases: readonly ConformanceCase[],
  options: ReportOptions,
): Promise<CaseResult[]> {
  const workerFile = path.join(__dirname, 'case-worker.js');
  if (__filename.endsWith('.js') && fs.existsSync(workerFile)) {
    return runIsolated(cases, {
      workerFile,
      settings: { folder: options.folder, stepBudget: options.stepBudget },
      timeoutMs: options.timeoutMs,
    });
  }
  return cases.map((c) => runCase(c, { stepBudget: options.stepBudget }));
}

function commandLine(options: ReportOptions): string {
  const parts = ['npm run conformance --'];
  if (options.folder !== undefined) parts.push(`--folder ${options.folder}`);
  if (options.stepBudget !== DEFAULT_STEP_BUDGET) parts.push(`--step-budget ${options.stepBudget}`);
  parts.push('--write-docs');
  return parts.join(' ');
}

function listCases(results: readonly CaseResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    if (r.status === 'passed') continue;
    lines.push(`${r.status === 'failed' ? 'FAIL' : 'SKIP'} ${r.note}  [${r.id}]`);
    lines.push(`     ${r.reason ?? ''}`);
  }
  return lines.join('\n');
}

async function writeDocs(text: string): Promise<string> {
  const file = path.join(repoRoot(), 'docs', 'conformance.md');
  const config = (await resolveConfig(file)) ?? {};
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, await format(text, { ...config, filepath: file }));
  return file;
}

export async function main(argv: readonly string[]): Promise<number> {
  let options: ReportOptions;
  try {
    options = parseOptions(argv);
  } catch (err) {
    process.stderr.write(`conformance: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  if (!corpusAvailable()) {
    process.stderr.write(
      `conformance: no corpus at ${corpusRoot()} (it lives beside the repository, in ../shared/); nothing to measure\n`,
    );
    return 2;
  }
  const cases = loadCorpus(options.folder === undefined ? {} : { folder: options.folder });
  const results = await runAll(cases, options);
  const summary = summarize(results);
  const out: string[] = [];
  if (options.verbose) out.push(listCases(results), '');
  out.push(formatTable(summary), '', headline(summary.total));
  if (options.json !== undefined) {
    const payload = { corpus: corpusRoot(), stepBudget: options.stepBudget, summary, results };
    fs.writeFileSync(options.json, JSON.stringify(payload, null, 2) + '\n');
    out.push(`wrote ${options.json}`);
  }
  if (options.writeDocs) {
    const markdown = formatMarkdown(summary, results, {
      command: commandLine(options),
      stepBudget: options.stepBudget,
    });
    out.push(`wrote ${path.relative(process.cwd(), await writeDocs(markdown))}`);
  }
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(
        `conformance: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
      );
      process.exitCode = 1;
    },
  );
}
