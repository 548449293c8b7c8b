/**
 * Platform identity: user roles as the platform policy names them, platform admins (no
 * tenant), e-mail addresses encrypted with a blind index for look-ups, TOTP enrolments and
 * recovery codes, one-time tokens (MFA challenges, password set-up), login throttles,
 * database-backed sessions with their refresh tokens, and the keys access tokens are
 * signed with.
 *
 * E-mail addresses of existing users stay readable until the identity service seals them
 * (it encrypts every row without a blind index when it starts); the migration itself holds
 * no key.
 */
import type { Knex } from 'knex';

const roleRenames: readonly [string, string][] = [
  ['admin', 'tenant-admin'],
  ['author', 'policy-author'],
];

export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table users drop constraint users_role_known');
  for (const [from, to] of roleRenames) {
    await knex('users').where({ role: from }).update({ role: to });
  }
  await knex.raw(
    "alter table users add constraint users_role_known check (role in ('platform-admin', 'tenant-admin', 'policy-author', 'auditor'))",
  );
  await knex.raw('alter table users alter column tenant_id drop not null');
  // A platform admin belongs to no tenant; everyone else to exactly one.
  await knex.raw(
    "alter table users add constraint users_platform_admin_tenantless check ((role = 'platform-admin') = (tenant_id is null))",
  );
  await knex.raw('drop index users_tenant_email_unique');
  await knex.schema.alterTable('users', (table) => {
    // HMAC of the normalized address (see api/services/identity/data-keys.ts).
    table.text('email_index');
    table.timestamp('password_changed_at', { useTz: true });
    table.timestamp('last_login_at', { useTz: true });
  });
  await knex.raw(
    'create unique index users_tenant_email_index_unique on users (tenant_id, email_index) where tenant_id is not null',
  );
  await knex.raw(
    'create unique index users_platform_email_index_unique on users (email_index) where tenant_id is null',
  );

  await knex.schema.createTable('user_mfa', (table) => {
    table.uuid('user_id').primary().references('id').inTable('users').onDelete('CASCADE');
    // The TOTP secret, encrypted.
    table.text('secret').notNullable();
    // Null while enrolment awaits its first code.
    table.timestamp('confirmed_at', { useTz: true });
    // The TOTP step of the last accepted code: a code is never taken twice.
    table.bigInteger('last_used_step');
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('mfa_recovery_codes', (table) => {
    table.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    table.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    table.text('code_hash').notNullable().unique();
    table.timestamp('used_at', { useTz: true });
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.index(['user_id']);
  });

  // Short-lived single-use tokens: the MFA step of a login, and password set-up links.
  await knex.schema.createTable('one_time_tokens', (table) => {
    table.text('token_hash').primary();
    table.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    table.text('purpose').notNullable();
    table.integer('attempts').notNullable().defaultTo(0);
    table.timestamp('expires_at', { useTz: true }).notNullable();
    table.timestamp('used_at', { useTz: true });
    table.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    table.index(['user_id']);
  });
  await knex.raw(
    "alter table one_time_tokens add constraint one_time_tokens_purpose_known check (purpose in ('mfa', 'password-setup'))",
  );

  // Failed logins per account name (an HMAC of tenant and e-mail, whether or not the account
  // exists), so lockout says nothing about which accounts exist.
  await knex.schema.createTable('login_throttles', (table) => {
    table.text('subject').primary();
    table.integer('failures').notNullable().defaultTo(0);
    table.timestamp('locked_until', { useTz: true });
    table.timestamp('last_failure_at', { useTz: true }).notNullable();
  });

  await knex.schema.createTable('sessions', (table) => {
    table.uuid('id').primary();
    table.uuid('user_id').notNullable().references('id').inTable('users').onDelete('CASCADE');
    table.uuid('tenant_id').references('id').inTable('tenants').onDelete('CASCADE');
    table.boolean('mfa').notNullable();
    table.text('user_agent');
    table.text('ip');
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('last_seen_at', { useTz: true }).notNullable();
    table.timestamp('expires_at', { useTz: true }).notNullable();
    table.timestamp('revoked_at', { useTz: true });
    table.text('revoked_reason');
    table.index(['user_id']);
  });

  // Every refresh token a session was given; all but the newest are used, and presenting a
  // used one again revokes the session.
  await knex.schema.createTable('refresh_tokens', (table) => {
    table.text('token_hash').primary();
    table.uuid('session_id').notNullable().references('id').inTable('sessions').onDelete('CASCADE');
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('used_at', { useTz: true });
    table.index(['session_id']);
  });

  await knex.schema.createTable('signing_keys', (table) => {
    table.text('kid').primary();
    table.text('algorithm').notNullable();
    // SPKI PEM; the private key is PKCS#8 PEM, encrypted with the data key.
    table.text('public_key').notNullable();
    table.text('private_key').notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    // Set when a newer key takes over signing; the key still verifies until `verify_until`.
    table.timestamp('retired_at', { useTz: true });
    table.timestamp('verify_until', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const name of [
    'signing_keys',
    'refresh_tokens',
    'sessions',
    'login_throttles',
    'one_time_tokens',
    'mfa_recovery_codes',
    'user_mfa',
  ]) {
    await knex.schema.dropTable(name);
  }
  await knex.raw('drop index users_platform_email_index_unique');
  await knex.raw('drop index users_tenant_email_index_unique');
  await knex.schema.alterTable('users', (table) => {
    table.dropColumns('email_index', 'password_changed_at', 'last_login_at');
  });
  // Platform admins have no tenant to go back to.
  await knex('users').whereNull('tenant_id').delete();
  await knex.raw('alter table users drop constraint users_platform_admin_tenantless');
  await knex.raw('alter table users alter column tenant_id set not null');
  await knex.raw('alter table users drop constraint users_role_known');
  for (const [from, to] of roleRenames) {
    await knex('users').where({ role: to }).update({ role: from });
  }
  await knex.raw(
    "alter table users add constraint users_role_known check (role in ('admin', 'author', 'auditor'))",
  );
  await knex.raw(
    'create unique index users_tenant_email_unique on users (tenant_id, lower(email))',
  );
}
