/**
 * Retention of the decision log (see docs/auditing.md, "Retention"). Tenants gain
 * `audit_retention_days`: how long their decisions are kept; null keeps them forever.
 *
 * `audit_chain_anchors` records every prune, one row per tenant and month removed: the last
 * removed row's `seq`, `hash` and `ts` (where the rest of the chain now starts), and the file
 * the rows were exported to with its SHA-256. Verification starts from a tenant's latest
 * anchor instead of the genesis hash. No foreign key to tenants, as for `decisions`: the
 * record of what was removed outlives the tenant.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tenants', (table) => {
    table.integer('audit_retention_days');
  });
  await knex.raw(
    'alter table tenants add constraint tenants_audit_retention_days_range check (audit_retention_days between 1 and 36500)',
  );
  await knex.raw(`
    create table audit_chain_anchors (
      tenant_id uuid not null,
      month date not null,
      first_seq bigint not null check (first_seq > 0),
      last_seq bigint not null check (last_seq >= first_seq),
      last_hash text not null check (last_hash ~ '^[0-9a-f]{64}$'),
      last_ts timestamptz not null,
      rows bigint not null check (rows = last_seq - first_seq + 1),
      export_file text not null,
      export_sha256 text not null check (export_sha256 ~ '^[0-9a-f]{64}$'),
      pruned_at timestamptz not null default now(),
      primary key (tenant_id, last_seq)
    )
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table audit_chain_anchors');
  await knex.schema.alterTable('tenants', (table) => {
    table.dropColumn('audit_retention_days');
  });
}
