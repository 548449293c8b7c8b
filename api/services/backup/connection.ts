/**
 * The one connection a backup or a restore works on: every value comes back as the text
 * Postgres writes for it (no parsing into JavaScript numbers or dates, which would lose
 * microseconds and big integers), and the session writes values the same way everywhere
 * (UTC, ISO dates, hex bytea), so text read by a backup goes back in unchanged.
 */
import pg from 'pg';

/** Values as text, whatever their type. */
const asText = { getTypeParser: () => (value: string) => value };

/** Settings that decide how values are written as text; local to the transaction. */
const textSettings = [
  "set local timezone = 'UTC'",
  "set local datestyle = 'ISO, YMD'",
  "set local intervalstyle = 'iso_8601'",
  "set local bytea_output = 'hex'",
  'set local extra_float_digits = 3',
];

export async function connect(connectionString: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString, types: asText });
  await client.connect();
  return client;
}

/** Starts a transaction (`begin ...`) and fixes how it writes values as text. */
export async function beginTransaction(client: pg.Client, begin: string): Promise<void> {
  await client.query(begin);
  for (const setting of textSettings) await client.query(setting);
}

/** Rows of `sql` as arrays of text, `fetchRows` at a time, through a cursor of the transaction. */
export async function* cursorRows(
  client: pg.Client,
  sql: string,
  params: readonly unknown[],
  fetchRows: number,
): AsyncGenerator<(string | null)[]> {
  await client.query(`declare backup_rows no scroll cursor for ${sql}`, [...params]);
  try {
    for (;;) {
      const page = await client.query<(string | null)[]>({
        text: `fetch forward ${String(fetchRows)} from backup_rows`,
        rowMode: 'array',
      });
      for (const row of page.rows) yield row;
      if (page.rows.length < fetchRows) return;
    }
  } finally {
    await client.query('close backup_rows');
  }
}

export interface ColumnInfo {
  name: string;
  type: string;
}

/** A table's columns in their order, with their types as Postgres names them. */
export async function tableColumns(client: pg.Client, table: string): Promise<ColumnInfo[]> {
  const result = await client.query<ColumnInfo>(
    `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type
       from pg_attribute a
      where a.attrelid = to_regclass($1) and a.attnum > 0 and not a.attisdropped
        and a.attgenerated = ''
      order by a.attnum`,
    [table],
  );
  return result.rows;
}

/** The tables of the current schema (partitions aside), by name. */
export async function schemaTables(client: pg.Client): Promise<string[]> {
  const result = await client.query<{ name: string }>(
    `select c.relname as name from pg_class c
       join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relkind in ('r', 'p') and not c.relispartition
      order by c.relname`,
  );
  return result.rows.map((row) => row.name);
}

/** Migrations applied to the database, in order; empty when it has never been migrated. */
export async function appliedMigrations(client: pg.Client): Promise<string[]> {
  const exists = await client.query<{ present: string | null }>(
    "select to_regclass('knex_migrations')::text as present",
  );
  if (exists.rows[0]?.present === null) return [];
  const result = await client.query<{ name: string }>(
    'select name from knex_migrations order by id',
  );
  return result.rows.map((row) => row.name);
}

/** Double-quoted identifier. */
export function quoted(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
