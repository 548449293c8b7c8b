/**
 * Tenants, and the humans who administer them (admins, policy authors, auditors).
 * Every other table hangs off `tenants`; deleting a tenant deletes what it owns.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('tenants', (table) => {
    table.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    // URL- and CLI-friendly identifier, e.g. `acme`.
    table.text('slug').notNullable().unique();
    table.text('name').notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(
    "alter table tenants add constraint tenants_slug_format check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$')",
  );

  await knex.schema.createTable('users', (table) => {
    table.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    table.uuid('tenant_id').notNullable().references('id').inTable('tenants').onDelete('CASCADE');
    table.text('email').notNullable();
    table.text('display_name').notNullable().defaultTo('');
    table.text('role').notNullable();
    // Null until the user sets a password (invitation pending).
    table.text('password_hash');
    table.timestamp('disabled_at', { useTz: true });
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(
    "alter table users add constraint users_role_known check (role in ('admin', 'author', 'auditor'))",
  );
  // One account per e-mail address per tenant, whatever its letter case.
  await knex.raw(
    'create unique index users_tenant_email_unique on users (tenant_id, lower(email))',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('users');
  await knex.schema.dropTable('tenants');
}
