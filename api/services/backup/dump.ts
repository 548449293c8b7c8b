/**
 * `verdict backup`: a logical dump of the platform's state, read in one REPEATABLE READ,
 * read-only transaction (one snapshot: every table as of the same instant, while the servers
 * keep running) and streamed to the file a page of rows at a time, whatever the size of the
 * decision log. See format.ts for the file, tables.ts for what is in it and what is not, and
 * audit.ts for which decision-log rows.
 */
import type pg from 'pg';
import { monthLabel, partitionMonth } from '../audit/partitions';
import { encryptedColumns } from '../identity/re-encrypt';
import { verdictVersion } from '../../version';
import { planAudit, type AuditSelection } from './audit';
import {
  appliedMigrations,
  beginTransaction,
  connect,
  cursorRows,
  quoted,
  schemaTables,
  tableColumns,
} from './connection';
import { BackupFileWriter } from './file-writer';
import { BackupError, backupFormat, backupFormatVersion, type BackupHeader } from './format';
import { backedUpTables, excludedTables, type BackedUpTable } from './tables';

export interface BackupOptions {
  /** The file to write (replaced when it exists). */
  out: string;
  /** Tenants (slugs or ids) to limit the backup to; every tenant when absent or empty. */
  tenants?: readonly string[];
  audit: AuditSelection;
  /** Progress lines (stderr in the CLI). */
  progress?: (line: string) => void;
}

export interface BackupResult {
  file: string;
  header: BackupHeader;
  bytes: number;
  /** Things the operator should know: tables left out, chains that will not verify. */
  warnings: string[];
}

/** Rows between two progress lines of a large table. */
const progressEvery = 100_000;

async function resolveTenants(
  client: pg.Client,
  refs: readonly string[] | undefined,
): Promise<string[] | undefined> {
  if (refs === undefined || refs.length === 0) return undefined;
  const ids = new Set<string>();
  for (const ref of refs) {
    const result = await client.query<{ id: string }>(
      'select id from tenants where slug = $1 or id::text = lower($1)',
      [ref],
    );
    const id = result.rows[0]?.id;
    if (id === undefined) throw new BackupError(`no tenant ${JSON.stringify(ref)}`);
    ids.add(id);
  }
  return [...ids].sort();
}

async function partitionMonths(client: pg.Client): Promise<string[]> {
  const result = await client.query<{ name: string }>(
    `select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = to_regclass('decisions') order by c.relname`,
  );
  return result.rows.flatMap((row) => {
    const month = partitionMonth(row.name);
    return month === undefined ? [] : [monthLabel(month)];
  });
}

/** The condition a table is read with — its tenants' rows, or all of them — and its parameters. */
function scopeOf(
  table: BackedUpTable,
  tenantIds: readonly string[] | undefined,
): { where: string; params: unknown[] } {
  const where = tenantIds === undefined ? 'true' : (table.ofTenants ?? 'true');
  return { where, params: where.includes('$1') ? [[...(tenantIds ?? [])]] : [] };
}

/** Key ids the encrypted values of the backed-up rows name, and whether blind indexes are used. */
async function keysNeeded(
  client: pg.Client,
  tenantIds: readonly string[] | undefined,
): Promise<BackupHeader['keys']> {
  const ids = new Set<string>();
  for (const spec of encryptedColumns) {
    const table = backedUpTables.find((candidate) => candidate.name === spec.table);
    if (table === undefined) continue;
    const column = `t.${quoted(spec.column)}`;
    const scope = scopeOf(table, tenantIds);
    const result = await client.query<{ kid: string }>(
      `select distinct split_part(${column}, ':', 2) as kid from ${quoted(spec.table)} t
        where ${column} like 'v1:%' and (${scope.where})`,
      scope.params,
    );
    for (const row of result.rows) ids.add(row.kid);
  }
  const users = scopeOf(backedUpTables.find((t) => t.name === 'users') as BackedUpTable, tenantIds);
  const indexed = await client.query<{ used: string }>(
    `select exists (select 1 from users t where t.email_index is not null and (${users.where})) as used`,
    users.params,
  );
  return { data_key_ids: [...ids].sort(), blind_index: indexed.rows[0]?.used === 't' };
}

interface TableRead {
  from: string;
  where: string;
  params: readonly unknown[];
  /** Rows to write after the table's own (range anchors), by column name. */
  extra?: readonly Record<string, string>[];
}

async function dumpTable(
  client: pg.Client,
  file: BackupFileWriter,
  table: BackedUpTable,
  read: TableRead,
  progress: (line: string) => void,
): Promise<number> {
  const columns = await tableColumns(client, table.name);
  if (columns.length === 0) {
    throw new BackupError(`the database has no ${table.name} table: migrate it first`);
  }
  const names = columns.map((column) => column.name);
  await file.line(
    JSON.stringify({ table: table.name, columns: names, types: columns.map((c) => c.type) }),
  );
  const select = names.map((name) => `t.${quoted(name)}`).join(', ');
  const order = table.orderBy
    .split(', ')
    .map((name) => `t.${quoted(name)}`)
    .join(', ');
  let rows = 0;
  const sql = `select ${select} from ${read.from} where ${read.where} order by ${order}`;
  for await (const row of cursorRows(client, sql, read.params, table.fetchRows)) {
    await file.line(JSON.stringify(row));
    rows += 1;
    if (rows % progressEvery === 0) progress(`${table.name}: ${String(rows)} rows so far`);
  }
  for (const record of read.extra ?? []) {
    await file.line(
      JSON.stringify(
        names.map((name) => {
          const value = record[name];
          if (value === undefined) {
            throw new BackupError(`cannot fill the ${table.name} column ${name} of a range anchor`);
          }
          return value;
        }),
      ),
    );
    rows += 1;
  }
  progress(`${table.name}: ${String(rows)} ${rows === 1 ? 'row' : 'rows'}`);
  return rows;
}

async function dumpSnapshot(
  client: pg.Client,
  file: BackupFileWriter,
  options: BackupOptions,
): Promise<BackupResult> {
  const progress = options.progress ?? (() => undefined);
  const migrations = await appliedMigrations(client);
  const migration = migrations[migrations.length - 1];
  if (migration === undefined) {
    throw new BackupError('the database holds no Verdict data (it was never migrated)');
  }
  const createdAt = (await client.query<{ now: string }>("select to_json(now())#>>'{}' as now"))
    .rows[0]?.now as string;
  const tenantIds = await resolveTenants(client, options.tenants);
  const known = new Set([...backedUpTables.map((t) => t.name), ...Object.keys(excludedTables)]);
  const unknown = (await schemaTables(client)).filter((name) => !known.has(name));
  const plan = await planAudit(client, options.audit, tenantIds, createdAt);
  const tables: Record<string, number> = {};
  for (const table of backedUpTables) {
    let read: TableRead;
    if (table.name === 'audit_chain_anchors') {
      read = { from: 'audit_chain_anchors t', ...plan.anchors, extra: plan.rangeAnchors };
    } else if (table.name === 'decisions') {
      read = plan.decisions;
    } else {
      read = { from: `${quoted(table.name)} t`, ...scopeOf(table, tenantIds) };
    }
    tables[table.name] = await dumpTable(client, file, table, read, progress);
  }
  const warnings = [
    ...unknown.map((name) => `table ${name} is not Verdict's: it is not in the backup`),
    ...plan.broken.map(
      (tenant) =>
        `the decision chain of tenant ${tenant} misses the row before the range: it will not verify after a restore`,
    ),
  ];
  const header: Omit<BackupHeader, 'content_sha256'> = {
    format: backupFormat,
    format_version: backupFormatVersion,
    verdict_version: verdictVersion(),
    created_at: createdAt,
    migration,
    migrations,
    tenants: tenantIds ?? null,
    audit: {
      mode: options.audit.mode,
      from: options.audit.mode === 'range' ? (options.audit.from?.toISOString() ?? null) : null,
      to: options.audit.mode === 'range' ? (options.audit.to?.toISOString() ?? null) : null,
      range_anchors: plan.rangeAnchors.length,
    },
    partitions: await partitionMonths(client),
    tables,
    excluded: { ...excludedTables },
    unknown_tables: unknown,
    keys: await keysNeeded(client, tenantIds),
  };
  const { sha256, bytes } = await file.commit(header);
  return { file: file.file, header: { ...header, content_sha256: sha256 }, bytes, warnings };
}

/** Writes a backup of the database at `connectionString` to `options.out`. */
export async function createBackup(
  connectionString: string,
  options: BackupOptions,
): Promise<BackupResult> {
  const client = await connect(connectionString);
  let file: BackupFileWriter;
  try {
    file = await BackupFileWriter.open(options.out);
  } catch (err) {
    await client.end();
    throw new BackupError(`cannot write ${options.out}: ${(err as Error).message}`);
  }
  try {
    await beginTransaction(client, 'begin isolation level repeatable read, read only');
    const result = await dumpSnapshot(client, file, options);
    await client.query('commit');
    return result;
  } catch (err) {
    await file.abort();
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    await client.end();
  }
}
