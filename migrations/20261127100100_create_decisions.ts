/**
 * The decision log: one row per decision answered (cache hits and shadow evaluations too),
 * hash-chained per tenant (see docs/auditing.md). The table is partitioned by month on `ts`
 * so old months can be detached or dropped without touching recent ones.
 *
 * - No foreign key to tenants: an audit row must never be refused, not even for a tenant
 *   deleted while its decisions were still queued; `tenant_id` is indexed instead.
 * - The primary key includes `ts`, as Postgres requires of keys on a partitioned table.
 *   `(decision_id, ts)` is also what makes replay from the spool idempotent: both are fixed
 *   when the decision is queued, so a row written twice conflicts and is skipped.
 * - `decisions_ensure_partitions(at, months)` creates the monthly partitions (UTC months)
 *   from the month of `at` for `months` months; the audit service calls it on start and
 *   periodically. Rows outside every monthly partition land in `decisions_default`.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table decisions (
      decision_id uuid not null,
      tenant_id uuid not null,
      seq bigint not null check (seq > 0),
      ts timestamptz not null,
      path text not null,
      bundle_name text,
      bundle_version text,
      bundle_revision text,
      input jsonb,
      result jsonb,
      allowed boolean,
      caller text,
      cache text not null check (cache in ('hit', 'miss', 'bypass')),
      duration_us integer not null check (duration_us >= 0),
      prev_hash text not null check (prev_hash ~ '^[0-9a-f]{64}$'),
      hash text not null check (hash ~ '^[0-9a-f]{64}$'),
      primary key (decision_id, ts),
      unique (tenant_id, seq, ts)
    ) partition by range (ts)
  `);
  await knex.raw('create index decisions_tenant_ts on decisions (tenant_id, ts)');
  await knex.raw('create table decisions_default partition of decisions default');
  await knex.raw(`
    create function decisions_ensure_partitions(at timestamptz, months integer)
    returns integer
    language plpgsql
    as $$
    declare
      first_month timestamptz := date_trunc('month', at, 'UTC');
      month_start timestamptz;
      created integer := 0;
    begin
      for i in 0 .. months - 1 loop
        month_start := first_month + make_interval(months => i);
        if to_regclass(format('decisions_p%s', to_char(month_start at time zone 'UTC', 'YYYY_MM'))) is null then
          execute format(
            'create table %I partition of decisions for values from (%L) to (%L)',
            format('decisions_p%s', to_char(month_start at time zone 'UTC', 'YYYY_MM')),
            month_start,
            month_start + interval '1 month'
          );
          created := created + 1;
        end if;
      end loop;
      return created;
    end
    $$
  `);
  await knex.raw('select decisions_ensure_partitions(now(), 2)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop function decisions_ensure_partitions(timestamptz, integer)');
  // Dropping the partitioned table drops every partition with it.
  await knex.raw('drop table decisions');
}
