/**
 * Monthly partitions of the `decisions` table (UTC months), created ahead of time by the
 * database function the migration installs. Rows with no monthly partition still land in
 * `decisions_default`, but a month can only get its own partition while the default
 * partition holds none of its rows, so the writer keeps the current and next month ready.
 */
import type { Knex } from 'knex';

/** Creates the partitions for `months` months from the month of `at`; returns how many were new. */
export async function ensureDecisionPartitions(
  knex: Knex,
  at: Date = new Date(),
  months = 2,
): Promise<number> {
  const result = await knex.raw<{ rows: { created: number }[] }>(
    'select decisions_ensure_partitions(?, ?) as created',
    [at, months],
  );
  return result.rows[0]?.created ?? 0;
}

/** The monthly partitions that exist, oldest first (e.g. `decisions_p2026_11`). */
export async function listDecisionPartitions(knex: Knex): Promise<string[]> {
  const result = await knex.raw<{ rows: { name: string }[] }>(
    `select c.relname as name from pg_inherits i
       join pg_class c on c.oid = i.inhrelid
       join pg_class p on p.oid = i.inhparent
      where p.relname = 'decisions' and c.relname <> 'decisions_default'
      order by c.relname`,
  );
  return result.rows.map((row) => row.name);
}
