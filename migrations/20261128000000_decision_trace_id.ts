/**
 * Decision-log rows learn the W3C trace id of the request that made them (`trace_id`, 32
 * lowercase hex digits), so a decision can be found from a trace and a trace from a
 * decision. Rows written before this migration, and decisions made without a trace, have
 * none; their hashes do not change (see api/services/audit/chain.ts).
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    "alter table decisions add column trace_id text check (trace_id ~ '^[0-9a-f]{32}$')",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table decisions drop column trace_id');
}
