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

/** The first instant of the UTC month `at` is in. */
export function monthStart(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
}

/** The UTC month `months` after the one starting at `month`. */
export function addMonths(month: Date, months: number): Date {
  return new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + months, 1));
}

/** A month as people write it: `2026-05`. */
export function monthLabel(month: Date): string {
  return month.toISOString().slice(0, 7);
}

/** The month a monthly partition holds, from its name; undefined for any other name. */
export function partitionMonth(name: string): Date | undefined {
  const match = /^decisions_p(\d{4})_(\d{2})$/u.exec(name);
  if (match === null) return undefined;
  const month = Number(match[2]);
  if (month < 1 || month > 12) return undefined;
  return new Date(Date.UTC(Number(match[1]), month - 1, 1));
}
