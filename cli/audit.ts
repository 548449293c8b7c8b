/**
 * `verdict audit prune`: the operator's side of decision-log retention, run against the
 * configured database as `verdict migrate` is (DATABASE_URL, or the embedded one in
 * VERDICT_DATA_DIR). It exports each tenant's months past its retention to files, then drops
 * or deletes them (see api/services/audit/retention.ts). Results go to stdout, one line per
 * month and per tenant; logs go to stderr.
 */
import type { Command } from 'commander';
import pino from 'pino';
import { loadConfig } from '../api/config';
import { openDatabase } from '../api/db/database';
import { createLogger } from '../api/logger';
import {
  pruneDecisions,
  type KeptRows,
  type MonthOutcome,
  type PruneReport,
  type TenantMonthRows,
} from '../api/services/audit/retention';
import { AdminCommandError } from './admin-client';

export interface PruneCommandOptions {
  dryRun?: boolean;
  exportDir?: string;
  /** ISO 8601 time retention counts back from (default: now). */
  now?: string;
  env?: NodeJS.ProcessEnv;
  /** Where result lines go; stdout unless given. */
  write?: (line: string) => void;
}

function who(rows: TenantMonthRows): string {
  return rows.slug ?? `tenant ${rows.tenantId} (no longer exists)`;
}

function rowsText(rows: TenantMonthRows): string {
  const n = String(rows.rows);
  return `${n} ${rows.rows === 1 ? 'row' : 'rows'} (seq ${String(rows.firstSeq)}-${String(rows.lastSeq)})`;
}

function keptBecause(kept: KeptRows): string {
  switch (kept.reason) {
    case 'kept_forever':
      return 'the tenant keeps its decisions forever';
    case 'within_retention':
      return `within its retention (${kept.detail ?? ''})`;
    case 'unknown_tenant':
      return 'no retention is known for it';
    case 'newest_month':
      return "the tenant's newest decisions are in this month (its chain continues from them)";
    case 'chain_broken':
      return `its chain does not verify (${kept.detail ?? ''}): nothing of it is removed; see \`verdict decisions verify\``;
    case 'changed':
      return 'rows were written or removed while it was exported: run the prune again';
    case 'earlier_month_kept':
      return 'an earlier month of the tenant was kept';
  }
}

function monthHeading(outcome: MonthOutcome, dryRun: boolean): string {
  const head = `${outcome.month} (${outcome.table}): `;
  if (outcome.action === 'none') return `${head}nothing removed`;
  const n = outcome.pruned.length;
  const what =
    outcome.action === 'delete'
      ? `the rows of ${String(n)} ${n === 1 ? 'tenant' : 'tenants'}`
      : n === 0
        ? 'the empty partition'
        : 'the partition';
  const done = outcome.action === 'drop' ? 'dropped' : 'deleted';
  return `${head}${dryRun ? `would ${outcome.action}` : done} ${what}`;
}

/** The report as lines for people. */
export function formatPruneReport(report: PruneReport): string[] {
  const lines: string[] = [];
  if (report.dryRun) lines.push('dry run: nothing is exported or removed');
  if (report.months.length === 0) {
    lines.push("nothing to prune: no month is past a tenant's retention");
    return lines;
  }
  for (const outcome of report.months) {
    lines.push(monthHeading(outcome, report.dryRun));
    for (const pruned of outcome.pruned) {
      const verb = report.dryRun ? 'would export' : 'exported';
      const to = pruned.file === undefined ? '' : ` to ${pruned.file}`;
      const sha = pruned.sha256 === undefined ? '' : `, sha256 ${pruned.sha256}`;
      lines.push(`  ${verb} ${who(pruned)} ${rowsText(pruned)}${to}${sha}`);
    }
    for (const kept of outcome.kept) {
      lines.push(`  kept ${who(kept)} ${rowsText(kept)}: ${keptBecause(kept)}`);
    }
  }
  if (report.problems > 0) {
    lines.push(
      `${String(report.problems)} tenant ${report.problems === 1 ? 'month was' : 'months were'} not pruned (see above)`,
    );
  }
  return lines;
}

function parseNow(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/u.test(text) || Number.isNaN(ms)) {
    throw new AdminCommandError(
      `--now must be an ISO 8601 time like 2026-11-27T00:00:00Z (got ${JSON.stringify(text)})`,
    );
  }
  return new Date(ms);
}

/** Postgres error codes for a missing table or column: the retention migration is not applied. */
const notMigrated = new Set(['42P01', '42703']);

/** Runs the prune; resolves with the exit code (1 when a tenant month could not be pruned). */
export async function runAuditPrune(options: PruneCommandOptions = {}): Promise<number> {
  const now = parseNow(options.now);
  if (options.dryRun !== true && options.exportDir === undefined) {
    throw new AdminCommandError(
      'pass --export-dir <dir>: the rows are exported there before they are removed (or try --dry-run)',
    );
  }
  const print = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const config = loadConfig(options.env);
  const logger = createLogger({
    level: config.logLevel,
    destination: pino.destination({ fd: 2, sync: true }),
  });
  const db = await openDatabase(config, logger);
  let report: PruneReport;
  try {
    report = await pruneDecisions(db.knex, {
      dryRun: options.dryRun === true,
      ...(now === undefined ? {} : { now }),
      ...(options.exportDir === undefined ? {} : { exportDir: options.exportDir }),
    });
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && notMigrated.has(code)) {
      throw new AdminCommandError(
        'the database has no retention settings yet: run `verdict migrate up` first',
      );
    }
    throw err;
  } finally {
    await db.close();
  }
  for (const line of formatPruneReport(report)) print(line);
  return report.problems > 0 ? 1 : 0;
}

export function register(program: Command): void {
  const audit = program
    .command('audit')
    .description('Maintain the decision log (operators; runs against the database).')
    .addHelpText(
      'after',
      '\nExamples:\n  $ verdict audit prune --dry-run\n  $ verdict audit prune --export-dir /var/backups/verdict-decisions\n',
    );
  audit
    .command('prune')
    .description("Export, then remove, each tenant's months of decisions older than its retention.")
    .option('--dry-run', 'only print what would be exported and removed')
    .option('--export-dir <dir>', 'folder the rows are exported to before they are removed')
    .option('--now <time>', 'count retention back from this ISO time instead of now (not later)')
    .addHelpText(
      'after',
      `
Examples:
  $ verdict audit prune --dry-run
  $ verdict audit prune --export-dir /var/backups/verdict-decisions

Set a tenant's retention with \`verdict tenants update acme --audit-retention-days 400\`.
Each tenant's month is written to <dir>/<tenant id>/decisions-YYYY-MM-seqA-B.ndjson (the
lines of \`verdict decisions export\`) and fsynced before anything is removed; the file's
SHA-256 is printed and recorded with the chain anchor. Running it again is safe.
`,
    )
    .action(async (opts: { dryRun?: boolean; exportDir?: string; now?: string }) => {
      process.exitCode = await runAuditPrune(opts);
    });
}
