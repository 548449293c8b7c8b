/**
 * Rollouts: a bundle's candidate version served to a share of traffic (canary) or evaluated
 * beside every decision and never returned (shadow), until it is promoted, rolled back or
 * aborted. At most one rollout per bundle is active; ended ones stay as history.
 *
 * Decision-log rows learn which rollout they belong to: `rollout_id` and `rollout_arm` (the
 * version that produced the row: stable, canary or shadow). A comparison row — the version
 * that was evaluated but not served — names the served decision in `compared_with` and says
 * whether both answers were the same in `agrees`. Rows written before this migration have
 * none of these, and their hashes do not change (see api/services/audit/chain.ts).
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('rollouts', (table) => {
    table.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    table.uuid('tenant_id').notNullable().references('id').inTable('tenants').onDelete('CASCADE');
    table.uuid('bundle_id').notNullable();
    table.text('mode').notNullable();
    // The version on trial, and the version that was stable when the rollout started.
    table.uuid('candidate_version_id').notNullable();
    table.uuid('baseline_version_id').notNullable();
    // Share of traffic the canary serves, in percent; null for a shadow.
    table.decimal('percent', 5, 2);
    // Input path the canary split is sticky by (`input.user.id`); null: the caller (API key).
    table.text('sticky');
    table.text('status').notNullable().defaultTo('active');
    table.text('started_by').notNullable();
    table.timestamp('started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.text('ended_by');
    table.timestamp('ended_at', { useTz: true });
    table
      .foreign(['bundle_id', 'tenant_id'])
      .references(['id', 'tenant_id'])
      .inTable('bundles')
      .onDelete('CASCADE');
    table
      .foreign(['candidate_version_id', 'bundle_id'])
      .references(['id', 'bundle_id'])
      .inTable('bundle_versions');
    table
      .foreign(['baseline_version_id', 'bundle_id'])
      .references(['id', 'bundle_id'])
      .inTable('bundle_versions');
    table.index(['tenant_id', 'bundle_id', 'started_at']);
  });
  await knex.raw(
    "alter table rollouts add constraint rollouts_mode_known check (mode in ('canary', 'shadow'))",
  );
  await knex.raw(
    "alter table rollouts add constraint rollouts_status_known check (status in ('active', 'promoted', 'rolled_back', 'aborted'))",
  );
  await knex.raw(`
    alter table rollouts add constraint rollouts_percent_fits check (
      (mode = 'canary' and percent > 0 and percent <= 100) or (mode = 'shadow' and percent is null))`);
  await knex.raw(
    'alter table rollouts add constraint rollouts_candidate_differs check (candidate_version_id <> baseline_version_id)',
  );
  await knex.raw(
    "alter table rollouts add constraint rollouts_ended check ((status = 'active') = (ended_at is null))",
  );
  // One active rollout per bundle.
  await knex.raw(
    "create unique index rollouts_one_active on rollouts (tenant_id, bundle_id) where status = 'active'",
  );

  await knex.raw(`
    alter table decisions
      add column rollout_id uuid,
      add column rollout_arm text check (rollout_arm in ('stable', 'canary', 'shadow')),
      add column compared_with uuid,
      add column agrees boolean`);
  await knex.raw(
    'create index decisions_rollout on decisions (tenant_id, rollout_id, ts) where rollout_id is not null',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index decisions_rollout');
  await knex.raw(`
    alter table decisions
      drop column agrees,
      drop column compared_with,
      drop column rollout_arm,
      drop column rollout_id`);
  await knex.schema.dropTable('rollouts');
}
