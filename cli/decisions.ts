/**
 * `verdict decisions search|show|export|verify`: a tenant's decision log for auditors,
 * through the API (see cli/admin-client.ts for --server, --token and --json). The token may
 * be the admin token or a tenant API key with the `audit:read` scope. Filters are passed to
 * the server as they are; it checks them and names the one that is wrong.
 */
import { once } from 'node:events';
import * as fs from 'node:fs';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Option, type Command } from 'commander';
import { parseDuration } from '../api/schemas/duration';
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

export interface DecisionFilterOptions {
  /** A duration back from now (24h, 7d, 30m): the same as --from that long ago. */
  since?: string;
  from?: string;
  to?: string;
  path?: string;
  allowed?: string;
  bundleVersion?: string;
  caller?: string;
  decisionId?: string;
  input?: string;
}

export interface SearchOptions extends AdminOptions, DecisionFilterOptions {
  tenant: string;
  limit?: string;
  cursor?: string;
}

export interface ShowOptions extends AdminOptions {
  tenant: string;
}

export interface ExportOptions extends AdminOptions, DecisionFilterOptions {
  tenant: string;
  format?: string;
  output?: string;
}

export interface VerifyOptions extends AdminOptions {
  tenant: string;
  since?: string;
  from?: string;
  to?: string;
}

interface DecisionView {
  decision_id: string;
  seq: number;
  ts: string;
  path: string;
  bundle_name: string | null;
  bundle_version: string | null;
  bundle_revision: string | null;
  input?: unknown;
  result?: unknown;
  allowed: boolean | null;
  caller: string | null;
  cache: string;
  duration_us: number;
  trace_id?: string;
  prev_hash: string;
  hash: string;
}

interface VerifyAnswer {
  ok: boolean;
  rows: number;
  first_bad?: { decision_id: string; seq: number; reason: string };
  /** Set when the chain starts after pruned rows: the last pruned row. */
  anchor?: { seq: number; hash: string } | null;
  last_seq: number | null;
}

const filterParameters: readonly [keyof DecisionFilterOptions, string][] = [
  ['from', 'from'],
  ['to', 'to'],
  ['path', 'path'],
  ['allowed', 'allowed'],
  ['bundleVersion', 'bundle_version'],
  ['caller', 'caller'],
  ['decisionId', 'decision_id'],
  ['input', 'input'],
];

/** `--since 24h` as the ISO time it stands for: that long before `now`. */
export function sinceTime(since: string, now: Date = new Date()): string {
  const seconds = parseDuration(since);
  if (seconds === undefined) {
    throw new AdminCommandError(
      `--since must be a duration like 30m, 24h or 7d (got ${JSON.stringify(since)})`,
    );
  }
  return new Date(now.getTime() - seconds * 1000).toISOString();
}

/** The options with `--since` turned into `--from`; the two exclude each other. */
export function withSinceResolved<T extends { since?: string; from?: string }>(
  options: T,
  now: Date = new Date(),
): T {
  const { since, ...rest } = options;
  if (since === undefined) return options;
  if (options.from !== undefined) {
    throw new AdminCommandError('give either --since or --from, not both');
  }
  return { ...rest, from: sinceTime(since, now) } as T;
}

function filterQuery(options: DecisionFilterOptions): URLSearchParams {
  const query = new URLSearchParams();
  for (const [option, parameter] of filterParameters) {
    const value = options[option];
    if (value !== undefined) query.set(parameter, value);
  }
  return query;
}

function decisionsPath(tenant: string, rest = '', query?: URLSearchParams): string {
  const suffix = query === undefined || query.size === 0 ? '' : `?${query.toString()}`;
  return `/v1/tenants/${pathSegment(tenant)}/decisions${rest}${suffix}`;
}

function allowedText(allowed: boolean | null): string {
  return allowed === null ? '-' : allowed ? 'allow' : 'deny';
}

export async function runDecisionsSearch(
  options: SearchOptions,
  io: CliIO = processIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const client = new AdminClient(options, env);
  const query = filterQuery(withSinceResolved(options));
  if (options.limit !== undefined) query.set('limit', options.limit);
  if (options.cursor !== undefined) query.set('cursor', options.cursor);
  const page = (await client.request('GET', decisionsPath(options.tenant, '', query))) as {
    decisions: DecisionView[];
    next: string | null;
  };
  if (options.json === true) {
    printJson(io, page);
    return;
  }
  if (page.decisions.length === 0) {
    io.stdout('no decisions match\n');
    return;
  }
  io.stdout(
    formatTable(
      ['TIME', 'DECISION', 'PATH', 'ANSWER', 'VERSION', 'CALLER'],
      page.decisions.map((d) => [
        d.ts,
        d.decision_id,
        JSON.stringify(d.path).slice(1, -1),
        allowedText(d.allowed),
        d.bundle_version ?? '-',
        d.caller ?? '-',
      ]),
    ),
  );
  if (page.next !== null) io.stdout(`more: add --cursor ${page.next}\n`);
}

export async function runDecisionsShow(
  decisionId: string,
  options: ShowOptions,
  io: CliIO = processIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const client = new AdminClient(options, env);
  const decision = (await client.request(
    'GET',
    decisionsPath(options.tenant, `/${pathSegment(decisionId)}`),
  )) as DecisionView;
  if (options.json === true) {
    printJson(io, decision);
    return;
  }
  const bundle =
    decision.bundle_name === null
      ? '-'
      : `${decision.bundle_name} ${decision.bundle_version ?? '?'} (revision ${decision.bundle_revision ?? '?'})`;
  const lines = [
    `decision  ${decision.decision_id}`,
    `time      ${decision.ts}`,
    `seq       ${decision.seq}`,
    `path      ${decision.path}`,
    `answer    ${allowedText(decision.allowed)}`,
    `bundle    ${bundle}`,
    `caller    ${decision.caller ?? '-'}`,
    `cache     ${decision.cache}, ${decision.duration_us} µs`,
    `trace     ${decision.trace_id ?? '-'}`,
    `hash      ${decision.hash}`,
    `prev      ${decision.prev_hash}`,
    `input     ${decision.input === undefined ? '(none)' : JSON.stringify(decision.input, null, 2)}`,
    `result    ${decision.result === undefined ? '(undefined)' : JSON.stringify(decision.result, null, 2)}`,
  ];
  io.stdout(`${lines.join('\n')}\n`);
}

/** A short reason: the error's code, its cause's (a broken socket under fetch), or its message. */
function errorCode(err: unknown): string {
  const record = (typeof err === 'object' && err !== null ? err : {}) as {
    code?: unknown;
    cause?: { code?: unknown } | null;
    message?: unknown;
  };
  if (typeof record.code === 'string') return record.code;
  if (typeof record.cause?.code === 'string') return record.cause.code;
  return typeof record.message === 'string' ? record.message : String(err);
}

/** A failed export: the destination refused a write, or the transfer broke off. */
function cutShort(err: unknown, destination: string): AdminCommandError {
  if ((err as { syscall?: unknown } | null)?.syscall === 'write') {
    return new AdminCommandError(`cannot write ${destination} (${errorCode(err)})`);
  }
  const removed = destination === 'stdout' ? '' : `; ${destination} removed`;
  return new AdminCommandError(
    `the export was cut short (${errorCode(err)})${removed}: run the command again`,
  );
}

/**
 * Streams the export to `-o file` (written whole or removed) or to `stdout`, holding one
 * chunk at a time whatever the size.
 */
export async function runDecisionsExport(
  options: ExportOptions,
  io: CliIO = processIO,
  env: NodeJS.ProcessEnv = process.env,
  stdout: Writable = process.stdout,
): Promise<void> {
  const format = options.format ?? 'ndjson';
  if (format !== 'ndjson' && format !== 'csv') {
    throw new AdminCommandError(`--format must be ndjson or csv, not ${JSON.stringify(format)}`);
  }
  const client = new AdminClient(options, env);
  const query = filterQuery(withSinceResolved(options));
  query.set('format', format);
  const exportPath = decisionsPath(options.tenant, '/export', query);
  if (options.output === undefined) {
    const body = await client.stream(exportPath);
    try {
      await pipeline(body, stdout, { end: false });
    } catch (err) {
      throw cutShort(err, 'stdout');
    }
    return;
  }
  const file = options.output;
  // The file is opened first, so a path that cannot be written costs no export.
  const out = fs.createWriteStream(file);
  try {
    await once(out, 'open');
  } catch (err) {
    throw new AdminCommandError(`cannot write ${file} (${errorCode(err)})`);
  }
  try {
    const body = await client.stream(exportPath).catch((err: unknown) => {
      out.destroy();
      throw err;
    });
    await pipeline(body, out).catch((err: unknown) => {
      throw cutShort(err, file);
    });
  } catch (err) {
    fs.rmSync(file, { force: true });
    throw err;
  }
  io.stderr(`exported to ${file}\n`);
}

/** Prints the result; throws (exit code 1) when the chain is broken, naming the row. */
export async function runDecisionsVerify(
  options: VerifyOptions,
  io: CliIO = processIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const client = new AdminClient(options, env);
  const { from, to } = withSinceResolved(options);
  const query = new URLSearchParams();
  if (from !== undefined) query.set('from', from);
  if (to !== undefined) query.set('to', to);
  const answer = (await client.request(
    'GET',
    decisionsPath(options.tenant, '/verify', query),
  )) as VerifyAnswer;
  if (options.json === true) printJson(io, answer);
  if (answer.ok) {
    if (options.json !== true) {
      const end = answer.last_seq === null ? '' : ` up to seq ${answer.last_seq}`;
      const start =
        answer.anchor === undefined || answer.anchor === null
          ? ''
          : ` (from the retention anchor at seq ${answer.anchor.seq}: older rows were pruned)`;
      io.stdout(`chain intact: ${answer.rows} rows verified${end}${start}\n`);
    }
    return;
  }
  const bad = answer.first_bad as NonNullable<VerifyAnswer['first_bad']>;
  throw new AdminCommandError(
    `chain broken at decision ${bad.decision_id} (seq ${bad.seq}): ${bad.reason}; ${answer.rows} rows before it verified`,
  );
}

function withFilters(command: Command): Command {
  return command
    .option('--since <duration>', 'only decisions of this long back from now: 30m, 24h, 7d')
    .option('--from <time>', 'only decisions at or after this ISO time, e.g. 2026-11-27T00:00:00Z')
    .option('--to <time>', 'only decisions before this ISO time')
    .option('--path <path>', 'only this decision path, e.g. rbac/allow')
    .addOption(
      new Option('--allowed <answer>', 'only allowed or denied').choices(['true', 'false']),
    )
    .option('--bundle-version <version>', 'only decisions made by this bundle version')
    .option('--caller <key-id>', 'only decisions asked by this API key id')
    .option('--decision-id <id>', 'only this decision')
    .option('--input <path=value>', 'only inputs with this value, e.g. input.subject.id=bob');
}

const tokenHelp =
  '\n--token may be the admin token or a tenant API key with the audit:read scope.\n';

export function register(program: Command): void {
  const decisions = program
    .command('decisions')
    .description("Search, show, export and verify a tenant's decision log (auditors).")
    .addHelpText(
      'after',
      '\nExamples:\n  $ verdict decisions search --tenant acme --allowed false --from 2026-11-27T00:00:00Z\n  $ verdict decisions verify --tenant acme\n',
    );

  withAdminOptions(
    withFilters(
      decisions
        .command('search')
        .description('List decisions, newest first, a page at a time.')
        .requiredOption('--tenant <tenant>', 'tenant slug or id')
        .option('--limit <n>', 'decisions per page, 1 to 1000 (default 100)')
        .option('--cursor <cursor>', 'the next page, as the previous page printed it'),
    ),
  )
    .addHelpText(
      'after',
      `\nExamples:\n  $ verdict decisions search --tenant acme --allowed false --path rbac/allow\n  $ verdict decisions search --tenant acme --since 24h --input input.subject.id=bob --limit 20\n${tokenHelp}`,
    )
    .action(async (options: SearchOptions) => {
      await runDecisionsSearch(options);
    });

  withAdminOptions(
    decisions
      .command('show')
      .description("Show one decision's full record: input, result, bundle, hashes.")
      .argument('<decision-id>', 'the decision id (the API answers it as decision_id)')
      .requiredOption('--tenant <tenant>', 'tenant slug or id'),
  )
    .addHelpText(
      'after',
      `\nExample:\n  $ verdict decisions show 6f1c2e0a-8a4b-4c1e-9d0f-2b7a1c3d4e5f --tenant acme\n${tokenHelp}`,
    )
    .action(async (decisionId: string, options: ShowOptions) => {
      await runDecisionsShow(decisionId, options);
    });

  withAdminOptions(
    withFilters(
      decisions
        .command('export')
        .description('Export matching decisions as NDJSON or CSV, streamed (any number of rows).')
        .requiredOption('--tenant <tenant>', 'tenant slug or id')
        .addOption(
          new Option('--format <format>', 'ndjson or csv')
            .choices(['ndjson', 'csv'])
            .default('ndjson'),
        )
        .option('-o, --output <file>', 'write to this file instead of stdout'),
    ),
  )
    .addHelpText(
      'after',
      `\nExamples:\n  $ verdict decisions export --tenant acme --format csv -o november.csv --from 2026-11-01T00:00:00Z\n  $ verdict decisions export --tenant acme --allowed false | jq .input\n${tokenHelp}`,
    )
    .action(async (options: ExportOptions) => {
      await runDecisionsExport(options);
    });

  withAdminOptions(
    decisions
      .command('verify')
      .description(
        "Recompute the tenant's hash chain; exit code 1 and the first broken row if it is broken.",
      )
      .requiredOption('--tenant <tenant>', 'tenant slug or id')
      .option('--since <duration>', 'verify the rows of this long back from now: 30m, 24h, 7d')
      .option('--from <time>', 'verify from this ISO time (its link to the row before is checked)')
      .option('--to <time>', 'verify up to this ISO time'),
  )
    .addHelpText(
      'after',
      `\nExamples:\n  $ verdict decisions verify --tenant acme\n  $ verdict decisions verify --tenant acme --since 7d\n  $ verdict decisions verify --tenant acme --from 2026-11-01T00:00:00Z --to 2026-12-01T00:00:00Z\n${tokenHelp}`,
    )
    .action(async (options: VerifyOptions) => {
      await runDecisionsVerify(options);
    });
}
