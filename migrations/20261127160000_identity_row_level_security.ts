/**
 * Row-level security on the identity tables that hold a tenant's data (see docs/security.md,
 * "Tenant isolation"): MFA enrolments, recovery codes, one-time tokens, sessions and their
 * refresh tokens. A row is the current tenant's when its user (or its session) is; platform
 * admins belong to no tenant, so theirs are never a tenant's.
 *
 * The tenant role gets no privilege on these tables: the identity service runs as the table
 * owner, because a login finds the account (by e-mail, token or session) before it knows the
 * tenant. The policies make sure that a privilege granted later still reaches one tenant only.
 * `login_throttles` (keyed by an HMAC of the account name) and `signing_keys` (the platform's
 * own) hold no tenant data and stay as they are.
 */
import type { Knex } from 'knex';

const role = 'verdict_tenant';

/** The tenant of the current scoped transaction; null outside one, which matches no row. */
const currentTenant = "nullif(current_setting('verdict.tenant_id', true), '')::uuid";

const byUser = (table: string): string =>
  `exists (select 1 from users u where u.id = ${table}.user_id and u.tenant_id = ${currentTenant})`;

const tables: readonly { name: string; owned: string }[] = [
  { name: 'user_mfa', owned: byUser('user_mfa') },
  { name: 'mfa_recovery_codes', owned: byUser('mfa_recovery_codes') },
  { name: 'one_time_tokens', owned: byUser('one_time_tokens') },
  { name: 'sessions', owned: `tenant_id = ${currentTenant}` },
  {
    name: 'refresh_tokens',
    owned: `exists (select 1 from sessions s where s.id = refresh_tokens.session_id and s.tenant_id = ${currentTenant})`,
  },
];

export async function up(knex: Knex): Promise<void> {
  for (const table of tables) {
    await knex.raw(`alter table ${table.name} enable row level security`);
    await knex.raw(
      `create policy tenant_isolation on ${table.name} to ${role} using (${table.owned}) with check (${table.owned})`,
    );
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [...tables].reverse()) {
    await knex.raw(`drop policy tenant_isolation on ${table.name}`);
    await knex.raw(`alter table ${table.name} disable row level security`);
  }
}
