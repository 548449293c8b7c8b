/**
 * A tenant's default decision: the data path `POST /` evaluates (OPA's `default_decision`,
 * whose default is `/system/main`). Stored without the leading slash, as `system/main`.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tenants', (table) => {
    table.text('default_decision').notNullable().defaultTo('system/main');
  });
  await knex.raw(
    "alter table tenants add constraint tenants_default_decision_format check (default_decision ~ '^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$' and length(default_decision) <= 255)",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tenants', (table) => {
    table.dropColumn('default_decision');
  });
}
