/**
 * `verdict compliance access-review|decisions-report`: reports for periodic access reviews
 * and audits, run against the database like `verdict audit prune` (DATABASE_URL, or the
 * embedded one in VERDICT_DATA_DIR, with the server's VERDICT_DATA_KEYS to read e-mail
 * addresses). Whoever can run them holds the database credentials: no API token reaches them.
 * CSV (RFC 4180) or JSON on stdout; logs on stderr.
 */
import { Option, type Command } from 'commander';
import {
  accessReview,
  accessReviewCsv,
  type AccessReview,
} from '../api/services/compliance/access-review';
import {
  decisionsReport,
  decisionsReportCsv,
  type DecisionsReport,
} from '../api/services/compliance/decisions-report';
import { resolveTenant } from '../api/services/compliance/tenant-ref';
import { openFieldCipher } from '../api/services/identity';
import { AdminCommandError } from './admin-client';
import { runAgainstDatabase, type DatabaseCommandOptions } from './database-command';

export type ReportFormat = 'csv' | 'json';

export interface AccessReviewOptions extends Pick<DatabaseCommandOptions, 'env'> {
  tenant: string;
  format?: ReportFormat;
  /** Where the report's text goes; stdout unless given. */
  out?: (text: string) => void;
}

export interface DecisionsReportOptions extends AccessReviewOptions {
  from: string;
  to: string;
}

/** Writes the report as it is: CSV keeps its CRLF line ends, JSON ends with a newline. */
function emit<T>(options: AccessReviewOptions, report: T, csv: (report: T) => string): void {
  const text = options.format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : csv(report);
  (options.out ?? ((t: string) => process.stdout.write(t)))(text);
}

/** Prints the access review of `options.tenant`; returns it. */
export async function runAccessReview(options: AccessReviewOptions): Promise<AccessReview> {
  let review: AccessReview | undefined;
  await runAgainstDatabase(options, async ({ config, logger, db }) => {
    const tenant = await resolveTenant(db.knex, options.tenant);
    review = await accessReview(db.knex, openFieldCipher(config, logger), tenant);
  });
  emit(options, review as AccessReview, accessReviewCsv);
  return review as AccessReview;
}

export function parseTime(option: string, text: string): Date {
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/u.test(text) || Number.isNaN(ms)) {
    throw new AdminCommandError(
      `${option} must be an ISO 8601 time like 2026-11-01T00:00:00Z (got ${JSON.stringify(text)})`,
    );
  }
  return new Date(ms);
}

/** Prints the decisions report of `options.tenant` for [from, to); returns it. */
export async function runDecisionsReport(
  options: DecisionsReportOptions,
): Promise<DecisionsReport> {
  const from = parseTime('--from', options.from);
  const to = parseTime('--to', options.to);
  if (from.getTime() >= to.getTime()) throw new AdminCommandError('--from must be before --to');
  let report: DecisionsReport | undefined;
  await runAgainstDatabase(options, async ({ db }) => {
    const tenant = await resolveTenant(db.knex, options.tenant);
    report = await decisionsReport(db.knex, tenant, from, to);
  });
  emit(options, report as DecisionsReport, decisionsReportCsv);
  return report as DecisionsReport;
}

const formatOption = (): Option =>
  new Option('--format <format>', 'output format').choices(['csv', 'json']).default('csv');

export function register(program: Command): void {
  const compliance = program
    .command('compliance')
    .description('Compliance reports: access reviews and decision counts (against the database).')
    .addHelpText(
      'after',
      '\nExamples:\n  $ verdict compliance access-review --tenant acme > acme-access.csv\n  $ verdict compliance decisions-report --tenant acme --from 2026-10-01T00:00:00Z --to 2026-11-01T00:00:00Z\n',
    );
  compliance
    .command('access-review')
    .description(
      'Who holds which role and which API key in a tenant: users (role, MFA, last login, state) and keys (scopes, expiry, last use, revocation).',
    )
    .requiredOption('--tenant <tenant>', 'tenant slug or id, or `platform` for platform admins')
    .addOption(formatOption())
    .addHelpText(
      'after',
      '\nExample:\n  $ verdict compliance access-review --tenant acme --format json\n\nColumns are described in docs/compliance.md.\n',
    )
    .action(async (opts: { tenant: string; format: ReportFormat }) => {
      await runAccessReview(opts);
    });
  compliance
    .command('decisions-report')
    .description(
      "Counts of a tenant's decisions in [from, to) by bundle version, path and caller, split by outcome.",
    )
    .requiredOption('--tenant <tenant>', 'tenant slug or id, or `platform` for the admin API log')
    .requiredOption('--from <time>', 'first instant counted (ISO 8601)')
    .requiredOption('--to <time>', 'end of the range, not counted (ISO 8601)')
    .addOption(formatOption())
    .addHelpText(
      'after',
      '\nExample:\n  $ verdict compliance decisions-report --tenant acme --from 2026-10-01T00:00:00Z --to 2026-11-01T00:00:00Z --format csv\n',
    )
    .action(async (opts: { tenant: string; from: string; to: string; format: ReportFormat }) => {
      await runDecisionsReport(opts);
    });
}
