/**
 * What the server needs to run a bundle version without unpacking its tar on every load: the
 * policy.wasm to evaluate (carried by the bundle, or compiled by the server from its sources),
 * its data (the merged data.json files) and the tar's size. Tenants gain the Ed25519 public key
 * that signed uploads are verified against.
 *
 * Versions stored before this migration get an empty module (zero bytes): they cannot run and
 * must be pushed again. New rows must always say which module to run.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // The immutability trigger refuses updates, and adding a column with a default rewrites no
  // row through it, so the defaults below fill existing rows without firing it.
  await knex.schema.alterTable('bundle_versions', (table) => {
    table.binary('wasm').notNullable().defaultTo(knex.raw("'\\x'::bytea"));
    table.jsonb('data').notNullable().defaultTo(knex.raw("'{}'::jsonb"));
    table.integer('size_bytes');
  });
  // New rows must say which module to run: no default for wasm from here on.
  await knex.raw('alter table bundle_versions alter column wasm drop default');
  await knex.schema.alterTable('tenants', (table) => {
    table.text('signing_public_key');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tenants', (table) => {
    table.dropColumn('signing_public_key');
  });
  await knex.schema.alterTable('bundle_versions', (table) => {
    table.dropColumn('size_bytes');
    table.dropColumn('data');
    table.dropColumn('wasm');
  });
}
