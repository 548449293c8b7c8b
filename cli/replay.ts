/**
 * `verdict replay`: impact analysis before a rollout. Sends a candidate bundle to the server,
 * which asks the tenant's recorded decisions of a time window again of it (see
 * api/services/replay), and prints what would change: counts by path and by kind of flip,
 * and samples. With --fail-on-change the exit code is 1 when anything changed: a CI gate.
 */
import * as fs from 'node:fs';
import type { Command } from 'commander';
import {
  AdminClient,
  AdminCommandError,
  formatTable,
  pathSegment,
  printJson,
  processIO,
  withAdminOptions,
  type AdminOptions,
  type CliIO,
} from './admin-client';
import { Progress, type ProgressStream } from './progress';

/** The server does the work; a long window may take minutes. */
const replayTimeoutMs = 15 * 60_000;
const tickMs = 250;

export interface ReplayOptions extends AdminOptions {
  tenant: string;
  candidate: string;
  since?: string;
  from?: string;
  to?: string;
  limit?: string;
  path?: string;
  samples?: string;
  failOnChange?: boolean;
}

export interface ReplayIO extends CliIO {
  /** Where the progress bar may be drawn (standard error when it is a terminal). */
  readonly progress?: ProgressStream;
}

interface SampleView {
  decision_id: string;
  ts: string;
  path: string;
  flip: string;
  input?: unknown;
  recorded_result?: unknown;
  candidate_result?: unknown;
  candidate_error?: { code: string; message: string };
}

export interface ReplayReportView {
  tenant: string;
  bundle: { name: string; version: string; revision: string };
  window: { from: string; to: string };
  path: string | null;
  limit: number;
  replayed: number;
  changed: number;
  truncated: boolean;
  by_path: Record<string, { replayed: number; changed: number }>;
  by_flip: Record<string, number>;
  masked_inputs: boolean;
  mask_paths: string[];
  samples: SampleView[];
}

const flipLabels: Readonly<Record<string, string>> = {
  allow_to_deny: 'allow -> deny',
  deny_to_allow: 'deny -> allow',
  other_change: 'other change',
  now_undefined: 'now undefined',
  now_error: 'now an error',
};

function readCandidate(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a folder' : code;
    throw new AdminCommandError(
      `cannot read ${file} (${String(reason)}): pass a bundle file built with \`verdict build\``,
    );
  }
}

function replayQuery(options: ReplayOptions): string {
  const query = new URLSearchParams();
  const given: [string, string | undefined][] = [
    ['since', options.since],
    ['from', options.from],
    ['to', options.to],
    ['limit', options.limit],
    ['path', options.path],
    ['samples', options.samples],
  ];
  for (const [name, value] of given) if (value !== undefined) query.set(name, value);
  return query.size > 0 ? `?${query.toString()}` : '';
}

function json(value: unknown): string {
  return value === undefined ? '(undefined)' : JSON.stringify(value);
}

/** The report as text for people. */
export function formatReport(report: ReplayReportView): string {
  const { bundle } = report;
  const lines: string[] = [];
  const scope = report.path === null ? '' : ` at ${report.path}`;
  lines.push(
    `replayed ${String(report.replayed)} decisions of tenant ${report.tenant}${scope} from ${report.window.from} to ${report.window.to}`,
    `against ${bundle.name} ${bundle.version} (revision ${bundle.revision})`,
  );
  if (report.replayed === 0) {
    lines.push(
      `no decisions of bundle ${bundle.name} were recorded in that window: widen it with --since, or check the bundle name`,
    );
    return `${lines.join('\n')}\n`;
  }
  const share = ((100 * report.changed) / report.replayed).toFixed(1);
  lines.push(`changed: ${String(report.changed)} (${share}%)`, '');
  const paths = Object.entries(report.by_path).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  lines.push(
    formatTable(
      ['PATH', 'REPLAYED', 'CHANGED'],
      paths.map(([path, counts]) => [path, String(counts.replayed), String(counts.changed)]),
    ).trimEnd(),
    '',
  );
  lines.push(
    formatTable(
      ['CHANGE', 'DECISIONS'],
      Object.entries(report.by_flip).map(([kind, n]) => [flipLabels[kind] ?? kind, String(n)]),
    ).trimEnd(),
  );
  if (report.masked_inputs) {
    lines.push(
      '',
      `note: inputs were recorded masked (${report.mask_paths.join(', ')}); a rule that reads a masked field may answer differently for that reason alone`,
    );
  }
  if (report.truncated) {
    lines.push(
      '',
      `note: stopped at the limit of ${String(report.limit)} decisions; the window holds more (raise --limit)`,
    );
  }
  if (report.samples.length > 0) {
    lines.push(
      '',
      `samples (${String(report.samples.length)} of ${String(report.changed)} changed):`,
    );
    for (const s of report.samples) {
      lines.push(`  ${s.decision_id}  ${s.ts}  ${s.path}  ${flipLabels[s.flip] ?? s.flip}`);
      lines.push(`    input:     ${json(s.input)}`);
      lines.push(`    recorded:  ${json(s.recorded_result)}`);
      lines.push(
        `    candidate: ${s.candidate_error === undefined ? json(s.candidate_result) : `error ${s.candidate_error.code}: ${s.candidate_error.message}`}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Runs the replay; the exit code: 1 with --fail-on-change when anything changed, else 0. */
export async function runReplay(
  options: ReplayOptions,
  io: ReplayIO = processIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const client = new AdminClient(options, env, replayTimeoutMs);
  const bytes = readCandidate(options.candidate);
  // No progress stream given: nothing is drawn (the stream below is never written).
  const progress = new Progress(io.progress ?? process.stderr, 1, {
    quiet: options.json === true || io.progress === undefined,
  });
  const started = Date.now();
  const tick = (): void => {
    const seconds = Math.floor((Date.now() - started) / 1000);
    progress.update(`replaying on ${client.server} (${String(seconds)} s)`, 0);
  };
  tick();
  const timer = setInterval(tick, tickMs);
  let report: ReplayReportView;
  try {
    report = (await client.upload(
      'POST',
      `/v1/tenants/${pathSegment(options.tenant)}/replay${replayQuery(options)}`,
      bytes,
      'application/gzip',
    )) as ReplayReportView;
  } finally {
    clearInterval(timer);
    progress.finish();
  }
  if (options.json === true) printJson(io, report);
  else io.stdout(formatReport(report));
  return options.failOnChange === true && report.changed > 0 ? 1 : 0;
}

export function register(program: Command): void {
  withAdminOptions(
    program
      .command('replay')
      .description(
        "Replay a tenant's recorded decisions against a candidate bundle and report what would change.",
      )
      .requiredOption('--tenant <tenant>', 'tenant slug or id')
      .requiredOption('--candidate <bundle>', 'candidate bundle file, e.g. rbac.tar.gz')
      .option(
        '--since <duration>',
        'replay decisions of this long back from now: 90m, 24h, 7d (default 24h)',
      )
      .option('--from <time>', 'replay decisions from this ISO 8601 time (instead of --since)')
      .option('--to <time>', 'and until this one (default: now)')
      .option('--limit <n>', 'replay at most this many decisions, oldest first (default 100000)')
      .option('--path <path>', 'only decisions at this data path or below it, e.g. rbac/allow')
      .option('--samples <n>', 'changed decisions to show in full (default 20)')
      .option('--fail-on-change', 'exit with code 1 when any decision changed (a CI gate)'),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ verdict replay --tenant acme --candidate rbac.tar.gz --since 24h
  $ verdict replay --tenant acme --candidate rbac.tar.gz --since 7d --path rbac/allow --limit 50000 --fail-on-change

Only decisions recorded for the candidate's bundle name are replayed. Inputs are replayed as
they were recorded, that is masked: the report says when they were.
--token may be the admin token or a tenant API key with the bundles:write scope.
`,
    )
    .action(async (options: ReplayOptions) => {
      process.exitCode = await runReplay(
        { ...options },
        { ...processIO, progress: process.stderr },
      );
    });
}
