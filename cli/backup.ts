/**
 * `verdict backup` and `verdict restore`: a logical backup of the platform's state to one file,
 * and its restore into an empty database, run against the configured database like `verdict
 * migrate` (DATABASE_URL, or the embedded one in VERDICT_DATA_DIR). Results go to stdout,
 * progress and warnings to stderr. See api/services/backup and docs/operations.md, "Backups
 * and restore".
 */
import { Option, type Command } from 'commander';
import {
  checkBackup,
  checkDataKeys,
  createBackup,
  keyAdvice,
  restoreBackup,
  verifyRestoredChains,
  type AuditSelection,
  type BackupHeader,
  type ChainCheck,
} from '../api/services/backup';
import { platformTenantId } from '../api/auth/access';
import { AdminCommandError } from './admin-client';
import { runAgainstDatabase, type DatabaseCommandOptions } from './database-command';

export interface BackupCommandOptions extends DatabaseCommandOptions {
  out?: string;
  tenant?: string[];
  audit?: string;
  auditFrom?: string;
  auditTo?: string;
  /** Progress and warning lines; stderr unless given. */
  progress?: (line: string) => void;
}

export interface RestoreCommandOptions extends DatabaseCommandOptions {
  in?: string;
  /** false: skip verifying the restored decision chains. */
  verify?: boolean;
  progress?: (line: string) => void;
}

const stderrLine = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function parseTime(text: string | undefined, option: string): Date | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/u.test(text) || Number.isNaN(ms)) {
    throw new AdminCommandError(
      `${option} must be an ISO 8601 time like 2026-11-01T00:00:00Z (got ${JSON.stringify(text)})`,
    );
  }
  return new Date(ms);
}

/** The audit rows asked for: `--audit all|none`, or a range with --audit-from/--audit-to. */
export function auditSelection(options: BackupCommandOptions): AuditSelection {
  const audit = options.audit ?? 'all';
  if (audit !== 'all' && audit !== 'none') {
    throw new AdminCommandError(`--audit must be all or none, not ${JSON.stringify(audit)}`);
  }
  const from = parseTime(options.auditFrom, '--audit-from');
  const to = parseTime(options.auditTo, '--audit-to');
  if (from === undefined && to === undefined) return { mode: audit };
  if (audit === 'none') {
    throw new AdminCommandError('--audit none takes no --audit-from or --audit-to');
  }
  if (from !== undefined && to !== undefined && from.getTime() >= to.getTime()) {
    throw new AdminCommandError('--audit-from must be before --audit-to');
  }
  return { mode: 'range', from, to };
}

function tableCounts(tables: Record<string, number>): string {
  return Object.entries(tables)
    .map(([table, rows]) => `${table} ${String(rows)}`)
    .join(', ');
}

function sizeText(bytes: number): string {
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function auditText(header: BackupHeader): string {
  const { audit } = header;
  const anchors =
    audit.range_anchors === 0
      ? ''
      : `; ${String(audit.range_anchors)} ${audit.range_anchors === 1 ? 'chain continues' : 'chains continue'} from an anchor the backup added`;
  switch (audit.mode) {
    case 'all':
      return 'every decision-log row';
    case 'none':
      return `no decision-log rows${anchors}`;
    case 'range':
      return `decision-log rows from ${audit.from ?? 'the start'} to ${audit.to ?? 'the end'}${anchors}`;
  }
}

function keysText(header: BackupHeader): string {
  const { data_key_ids: ids, blind_index: index } = header.keys;
  if (ids.length === 0 && !index) return 'no encrypted field: no key is needed to use it';
  const data = ids.length === 0 ? '' : `data keys ${ids.join(', ')} (VERDICT_DATA_KEYS)`;
  const blind = index ? 'the blind index key (VERDICT_BLIND_INDEX_KEY)' : '';
  return `keep separately, the backup is useless without them: ${[data, blind].filter((s) => s !== '').join(' and ')}`;
}

/** What a header says, as lines for people. */
export function describeBackup(header: BackupHeader): string[] {
  const tenants =
    header.tenants === null ? 'every tenant' : `tenants ${header.tenants.join(', ')} only`;
  return [
    `made ${header.created_at} by Verdict ${header.verdict_version}, migration ${header.migration}`,
    `${tenants}; ${auditText(header)}`,
    `rows: ${tableCounts(header.tables)}`,
    keysText(header),
  ];
}

/** `verdict backup`; returns the lines printed. */
export async function runBackup(options: BackupCommandOptions): Promise<string[]> {
  const out = options.out;
  if (out === undefined || out === '') throw new AdminCommandError('pass --out <file>');
  const audit = auditSelection(options);
  const progress = options.progress ?? stderrLine;
  return runAgainstDatabase(options, async ({ db, print }) => {
    const result = await createBackup(db.connectionString, {
      out,
      audit,
      ...(options.tenant === undefined ? {} : { tenants: options.tenant }),
      progress,
    });
    for (const warning of result.warnings) progress(`warning: ${warning}`);
    print(
      `backup written to ${result.file} (${sizeText(result.bytes)}), sha256 ${result.header.content_sha256}`,
    );
    for (const line of describeBackup(result.header)) print(`  ${line}`);
  });
}

function chainLine(check: ChainCheck, tenants: ReadonlyMap<string, string>): string {
  const who =
    check.tenantId === platformTenantId
      ? 'the platform (admin API authorizations)'
      : (tenants.get(check.tenantId) ?? `${check.tenantId} (no such tenant)`);
  const { result } = check;
  if (!result.ok) {
    return `chain of ${who}: BROKEN at seq ${String(result.firstBadSeq)}: ${result.reason ?? ''}`;
  }
  const from =
    result.anchor === undefined ? '' : ` from the anchor at seq ${String(result.anchor.seq)}`;
  return `chain of ${who}: intact, ${String(result.rows)} ${result.rows === 1 ? 'row' : 'rows'} verified${from}`;
}

/** `verdict restore`; resolves with the exit code (1 when a restored chain does not verify). */
export async function runRestore(options: RestoreCommandOptions): Promise<number> {
  const file = options.in;
  if (file === undefined || file === '') throw new AdminCommandError('pass --in <file>');
  const progress = options.progress ?? stderrLine;
  let broken = 0;
  await runAgainstDatabase(options, async ({ config, logger, db, print }) => {
    const restored = await restoreBackup(db, { file, progress });
    print(`restored ${file} (backup of ${restored.header.created_at})`);
    print(`  rows: ${tableCounts(restored.tables)}`);
    for (const line of keyAdvice(restored.header, checkDataKeys(restored.header, config, logger))) {
      if (line.startsWith('warning:')) progress(line);
      else print(`  ${line}`);
    }
    if (options.verify === false) return;
    for (const check of await verifyRestoredChains(db, restored.chains)) {
      if (!check.result.ok) broken += 1;
      print(chainLine(check, restored.tenants));
    }
  });
  return broken > 0 ? 1 : 0;
}

/** `verdict restore --check`: reads the file through and says what it holds; no database. */
export async function runRestoreCheck(
  file: string,
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<void> {
  const header = await checkBackup(file);
  write(
    `${file}: a whole Verdict backup (format ${String(header.format_version)}), sha256 verified`,
  );
  for (const line of describeBackup(header)) write(`  ${line}`);
}

const collect = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  value,
];

export function register(program: Command): void {
  program
    .command('backup')
    .description(
      "Write a logical backup of the platform's state to one file (DATABASE_URL or the embedded database).",
    )
    .requiredOption('-o, --out <file>', 'the file to write (gzipped JSON lines)')
    .option('--tenant <tenant>', 'only this tenant (slug or id); repeat for several', collect)
    .addOption(
      new Option('--audit <which>', 'decision-log rows: all or none').choices(['all', 'none']),
    )
    .option('--audit-from <time>', 'only decision-log rows at or after this ISO time')
    .option('--audit-to <time>', 'only decision-log rows before this ISO time')
    .addHelpText(
      'after',
      `
Examples:
  $ verdict backup --out /var/backups/verdict/verdict-$(date +%F).vbk
  $ verdict backup --out acme.vbk --tenant acme --audit-from 2026-11-01T00:00:00Z
  $ verdict backup --out config-only.vbk --audit none

One consistent snapshot, taken while the servers run. Not in it: sessions and refresh tokens
(everyone signs in again), one-time tokens, failed-login counters. Keep the data keys and the
blind index key separately: the backup names the key ids its encrypted fields need.
`,
    )
    .action(async (opts: BackupCommandOptions) => {
      await runBackup(opts);
    });

  program
    .command('restore')
    .description('Restore a backup into an EMPTY database (DATABASE_URL or the embedded database).')
    .requiredOption('-i, --in <file>', 'the backup file')
    .option('--no-verify', "skip verifying each tenant's restored decision chain")
    .option('--check', 'only read the file through and check it; touch no database')
    .addHelpText(
      'after',
      `
Examples:
  $ verdict restore --check --in verdict-2026-11-27.vbk
  $ DATABASE_URL=postgres://verdict@db/verdict_new verdict restore --in verdict-2026-11-27.vbk

The file is checked whole (format, checksum, row counts) before anything is written. The
database must be empty: it is migrated to the backup's migration level, the rows go in in one
transaction, and each tenant's decision chain is verified. Run \`verdict migrate up\` (or start
the server) afterwards when this Verdict is newer than the backup.
`,
    )
    .action(async (opts: { in: string; verify: boolean; check?: boolean }) => {
      if (opts.check === true) {
        await runRestoreCheck(opts.in);
        return;
      }
      process.exitCode = await runRestore({ in: opts.in, verify: opts.verify });
    });
}
