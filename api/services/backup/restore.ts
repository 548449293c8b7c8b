/**
 * `verdict restore`: a backup file into an EMPTY database, never merged into one that holds
 * data. The file is read through once to check it (format, checksum, counts) before anything
 * is written; the database is then migrated to the backup's migration level and the rows go in
 * in one transaction, table by table in foreign-key order, in batches, checked once more as
 * they are read. Any failure rolls the transaction back: the database holds all of the backup
 * or none of it (only the migrations stay applied).
 */
import type pg from 'pg';
import { migrateTo, type MigrationTarget } from '../../db/migrator';
import { migrations as knownMigrations } from '../../../migrations';
import { verifyChain, type VerifyResult } from '../audit/verify';
import { verdictVersion } from '../../version';
import {
  appliedMigrations,
  beginTransaction,
  connect,
  quoted,
  schemaTables,
  tableColumns,
} from './connection';
import { checkBackup, readBackup } from './file-reader';
import { BackupError, type BackupHeader } from './format';
import { backedUpTables } from './tables';

export interface RestoreOptions {
  file: string;
  /** Progress lines (stderr in the CLI). */
  progress?: (line: string) => void;
}

export interface RestoreResult {
  header: BackupHeader;
  /** Migrations applied to bring the database to the backup's level. */
  migrated: string[];
  /** Rows restored per table. */
  tables: Record<string, number>;
  /** Tenant slugs by id, as restored. */
  tenants: Map<string, string>;
  /** Tenants with decision-log rows or anchors: the chains to verify. */
  chains: string[];
}

/** A batch is sent once it holds this many rows or bytes. */
const batchRows = 1000;
const batchBytes = 8 * 1024 * 1024;
const progressEvery = 100_000;

/** Names the tables of the database that hold rows; knex's bookkeeping aside. */
async function tablesWithRows(client: pg.Client): Promise<string[]> {
  const found: string[] = [];
  for (const name of await schemaTables(client)) {
    if (name.startsWith('knex_migrations')) continue;
    const result = await client.query<{ any: string }>(
      `select exists (select 1 from ${quoted(name)}) as any`,
    );
    if (result.rows[0]?.any === 't') found.push(name);
  }
  return found;
}

async function refuseNonEmpty(client: pg.Client): Promise<void> {
  const full = await tablesWithRows(client);
  if (full.length > 0) {
    throw new BackupError(
      `the database is not empty (rows in ${full.join(', ')}): a backup is restored only into an ` +
        'empty database, never merged; create a new database (or use a new VERDICT_DATA_DIR) and restore into it',
    );
  }
}

/** Throws unless the backup's migrations are known here and the database is not past them. */
function checkMigrationLevel(header: BackupHeader, applied: readonly string[]): void {
  const known = knownMigrations.map((migration) => migration.name);
  if (header.migrations.some((name, index) => known[index] !== name)) {
    throw new BackupError(
      `the backup is at migration ${header.migration}, which this Verdict (${verdictVersion()}) ` +
        `does not know: restore it with Verdict ${header.verdict_version} or later`,
    );
  }
  if (applied.some((name, index) => header.migrations[index] !== name)) {
    throw new BackupError(
      `the database is migrated past the backup (to ${applied[applied.length - 1] ?? '?'}; the backup is at ` +
        `${header.migration}): restore into a new database`,
    );
  }
}

/** Rows of one table on their way in. */
class TableInsert {
  private rows: (string | null)[][] = [];
  private bytes = 0;
  inserted = 0;

  constructor(
    private readonly client: pg.Client,
    readonly table: string,
    private readonly sql: string,
    private readonly progress: (line: string) => void,
  ) {}

  async add(values: (string | null)[], bytes: number): Promise<void> {
    this.rows.push(values);
    this.bytes += bytes;
    if (this.rows.length >= batchRows || this.bytes >= batchBytes) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.rows.length === 0) return;
    const before = this.inserted;
    const result = await this.client.query(this.sql, [JSON.stringify(this.rows)]);
    this.inserted += result.rowCount ?? 0;
    this.rows = [];
    this.bytes = 0;
    if (Math.floor(this.inserted / progressEvery) > Math.floor(before / progressEvery)) {
      this.progress(`${this.table}: ${String(this.inserted)} rows so far`);
    }
  }
}

async function prepareInsert(
  client: pg.Client,
  table: string,
  columns: readonly string[],
  types: readonly string[],
  progress: (line: string) => void,
): Promise<TableInsert> {
  const target = await tableColumns(client, table);
  const same =
    target.length === columns.length &&
    target.every((column, i) => column.name === columns[i] && column.type === types[i]);
  if (!same) {
    throw new BackupError(
      `the backup's ${table} table (${columns.join(', ')}) does not match the database's ` +
        `(${target.map((column) => column.name).join(', ')}): the database is not at the backup's migration level`,
    );
  }
  const values = target.map((column, i) => `(r->>${String(i)})::${column.type}`).join(', ');
  const sql = `insert into ${quoted(table)} (${columns.map(quoted).join(', ')})
    select ${values} from json_array_elements($1::json) r`;
  return new TableInsert(client, table, sql, progress);
}

/** Sets every sequence owned by a restored column past the column's largest value. */
async function resetSequences(client: pg.Client): Promise<void> {
  const tables = backedUpTables.map((table) => `'${table.name}'`).join(', ');
  await client.query(`do $$
    declare owned record;
    begin
      for owned in
        select s.oid::regclass::text as seq, t.relname as tbl, a.attname as col
          from pg_class s
          join pg_depend d on d.objid = s.oid and d.classid = 'pg_class'::regclass
                          and d.refclassid = 'pg_class'::regclass
          join pg_class t on t.oid = d.refobjid
          join pg_attribute a on a.attrelid = t.oid and a.attnum = d.refobjsubid
         where s.relkind = 'S' and t.relnamespace = current_schema()::regnamespace
           and t.relname = any (array[${tables}])
      loop
        execute format('select setval(%L, coalesce((select max(%I) from %I), 0) + 1, false)',
                       owned.seq, owned.col, owned.tbl);
      end loop;
    end $$`);
}

async function createPartitions(client: pg.Client, months: readonly string[]): Promise<void> {
  for (const month of months) {
    await client.query('select decisions_ensure_partitions($1::timestamptz, 1)', [
      `${month}-01T00:00:00Z`,
    ]);
  }
}

/** Inserts the file's rows inside the open transaction. */
async function insertAll(
  client: pg.Client,
  options: RestoreOptions,
  progress: (line: string) => void,
): Promise<Omit<RestoreResult, 'header' | 'migrated'>> {
  const tables: Record<string, number> = {};
  const tenants = new Map<string, string>();
  const chains = new Set<string>();
  let current: TableInsert | undefined;
  let pick: ((values: (string | null)[]) => void) | undefined;
  const finish = async (): Promise<void> => {
    if (current === undefined) return;
    await current.flush();
    tables[current.table] = current.inserted;
    progress(
      `${current.table}: ${String(current.inserted)} ${current.inserted === 1 ? 'row' : 'rows'} restored`,
    );
  };
  for await (const entry of readBackup(options.file, (header) =>
    createPartitions(client, header.partitions),
  )) {
    if (entry.kind === 'section') {
      await finish();
      current = await prepareInsert(client, entry.table, entry.columns, entry.types, progress);
      const id = entry.columns.indexOf('id');
      const slug = entry.columns.indexOf('slug');
      const tenant = entry.columns.indexOf('tenant_id');
      pick =
        entry.table === 'tenants'
          ? (values) => tenants.set(values[id] as string, values[slug] as string)
          : entry.table === 'decisions' || entry.table === 'audit_chain_anchors'
            ? (values) => chains.add(values[tenant] as string)
            : undefined;
      continue;
    }
    pick?.(entry.values);
    await (current as TableInsert).add(entry.values, entry.bytes);
  }
  await finish();
  return { tables, tenants, chains: [...chains].sort() };
}

function failed(err: unknown): Error {
  if (err instanceof BackupError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new BackupError(
    `the restore failed and was rolled back (nothing was restored): ${message}`,
  );
}

/**
 * Restores `options.file` into the database of `target` (its knex runs the migrations; the
 * rows go through a connection of their own).
 */
export async function restoreBackup(
  target: MigrationTarget,
  options: RestoreOptions,
): Promise<RestoreResult> {
  const progress = options.progress ?? (() => undefined);
  progress(`checking ${options.file}`);
  const header = await checkBackup(options.file);
  progress(
    `backup of ${header.created_at} by Verdict ${header.verdict_version} at migration ${header.migration}: checksum and counts verified`,
  );
  const client = await connect(target.connectionString);
  try {
    await refuseNonEmpty(client);
    checkMigrationLevel(header, await appliedMigrations(client));
    const migrated = await migrateTo(target, header.migration);
    for (const name of migrated) progress(`applied migration ${name}`);
    await beginTransaction(client, 'begin');
    try {
      await refuseNonEmpty(client);
      const restored = await insertAll(client, options, progress);
      await resetSequences(client);
      await client.query('commit');
      return { header, migrated, ...restored };
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw failed(err);
    }
  } finally {
    await client.end();
  }
}

export interface ChainCheck {
  tenantId: string;
  result: VerifyResult;
}

/** Verifies the restored decision chains, as `verdict decisions verify` does. */
export async function verifyRestoredChains(
  target: MigrationTarget,
  tenantIds: readonly string[],
): Promise<ChainCheck[]> {
  const checks: ChainCheck[] = [];
  for (const tenantId of tenantIds) {
    checks.push({ tenantId, result: await verifyChain(target.knex, tenantId) });
  }
  return checks;
}
