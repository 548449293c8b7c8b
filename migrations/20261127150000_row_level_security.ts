/**
 * Row-level security on every tenant table (see docs/security.md, "Tenant isolation").
 *
 * Tenant-scoped service code runs in transactions that name their tenant in the setting
 * `verdict.tenant_id` and switch to the role `verdict_tenant` (api/db/tenant-scope.ts). For
 * that role each tenant table shows, and accepts, only the rows of that tenant: a query that
 * forgot its `where tenant_id = ...` still reaches nothing else, and without the setting it
 * reaches nothing at all.
 *
 * - The role is NOLOGIN and holds only what the scoped code needs. It is created when absent
 *   and granted to the user running the migrations, so that user may `set role` to it without
 *   being a superuser. Roles belong to the whole Postgres cluster, not to one database: the
 *   role may exist already (another Verdict database on the same server), and `down` leaves it.
 * - The table owner (the user that ran the migrations) and superusers bypass row security, so
 *   the code that must see every tenant — the migrations, the audit writer, retention prune,
 *   API-key verification by prefix, tenant administration — keeps working unchanged.
 * - `decisions` is partitioned: the policy sits on the parent, where every query goes. The role
 *   gets no privilege on the partitions themselves, so they cannot be read around the policy.
 * - `bundle_versions` has no tenant column: its rows are the tenant's when their bundle is.
 *
 * A later migration that adds a tenant table must do the same for it: grant the role what the
 * scoped code needs, enable row level security and add a `tenant_isolation` policy.
 */
import type { Knex } from 'knex';

const role = 'verdict_tenant';

/** The tenant of the current scoped transaction; null outside one, which matches no row. */
const currentTenant = "nullif(current_setting('verdict.tenant_id', true), '')::uuid";

interface TenantTable {
  readonly name: string;
  /** What the scoped code does with the table; nothing more is granted. */
  readonly privileges: string;
  /** Which rows are the current tenant's. */
  readonly owned: string;
}

const byTenantColumn = `tenant_id = ${currentTenant}`;

const tables: readonly TenantTable[] = [
  // A tenant sees its own row; it may change only its signing settings.
  {
    name: 'tenants',
    privileges: 'select, update (signing_public_key, require_signed_bundles, updated_at)',
    owned: `id = ${currentTenant}`,
  },
  { name: 'users', privileges: 'select, insert, update, delete', owned: byTenantColumn },
  { name: 'api_keys', privileges: 'select, insert, update', owned: byTenantColumn },
  { name: 'bundles', privileges: 'select, insert', owned: byTenantColumn },
  {
    name: 'bundle_versions',
    privileges: 'select, insert',
    owned: `exists (select 1 from bundles b where b.id = bundle_versions.bundle_id and b.tenant_id = ${currentTenant})`,
  },
  { name: 'tenant_bundles', privileges: 'select, insert, update', owned: byTenantColumn },
  { name: 'rollouts', privileges: 'select, insert, update', owned: byTenantColumn },
  { name: 'decisions', privileges: 'select', owned: byTenantColumn },
  { name: 'audit_chain_anchors', privileges: 'select', owned: byTenantColumn },
];

/** SQLSTATE of "permission denied" and of a refused role grant. */
const refusedCodes = new Set(['42501', '0LP01']);

function refused(err: unknown): boolean {
  return refusedCodes.has(String((err as { code?: unknown } | null)?.code));
}

/** Runs `statement`, ignoring the error of another database doing the same at this moment. */
function unlessRacing(statement: string): string {
  return `do $$ begin ${statement}; exception when duplicate_object or unique_violation then null; end $$`;
}

interface UserState {
  user: string;
  superuser: boolean;
  role_exists: boolean;
  server_version: number;
}

/**
 * Creates the tenant role unless it exists and lets the current user `set role` to it
 * (superusers may already). Refusals become an error that says what an administrator must
 * run; the migration's transaction is rolled back either way.
 */
async function ensureRole(knex: Knex): Promise<void> {
  const state = (
    await knex.raw<{ rows: UserState[] }>(
      `select current_user as user, rolsuper as superuser,
              exists (select 1 from pg_roles where rolname = ?) as role_exists,
              current_setting('server_version_num')::int as server_version
         from pg_roles where rolname = current_user`,
      [role],
    )
  ).rows[0] as UserState;
  const help = (what: string): Error =>
    new Error(
      `the database user ${state.user} ${what}: have an administrator run ` +
        `${state.role_exists ? '' : `CREATE ROLE ${role} NOLOGIN; `}GRANT ${role} TO ${state.user}; ` +
        'then migrate again (see docs/operations.md, "Embedded or external storage")',
    );
  if (!state.role_exists) {
    try {
      await knex.raw(unlessRacing(`create role ${role} nologin`));
    } catch (err) {
      if (refused(err)) throw help(`may not create the role ${role}`);
      throw err;
    }
  }
  if (state.superuser) return;
  // Postgres 16 separates membership from the right to `set role` (the SET option).
  const privilege = state.server_version >= 160000 ? 'SET' : 'MEMBER';
  const member = (
    await knex.raw<{ rows: { can: boolean }[] }>('select pg_has_role(current_user, ?, ?) as can', [
      role,
      privilege,
    ])
  ).rows[0]?.can;
  if (member === true) return;
  try {
    await knex.raw(unlessRacing(`execute format('grant ${role} to %I', current_user)`));
  } catch (err) {
    if (refused(err)) throw help(`may not grant itself the role ${role}`);
    throw err;
  }
}

/** `grant` or `revoke` of the role's usage of the schema the tables are in. */
function schemaUsage(action: 'grant usage on schema %I to' | 'revoke usage on schema %I from') {
  return `do $$ begin execute format('${action} ${role}', current_schema()); end $$`;
}

export async function up(knex: Knex): Promise<void> {
  await ensureRole(knex);
  await knex.raw(schemaUsage('grant usage on schema %I to'));
  for (const table of tables) {
    await knex.raw(`grant ${table.privileges} on ${table.name} to ${role}`);
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
    await knex.raw(`revoke all on ${table.name} from ${role}`);
  }
  await knex.raw(schemaUsage('revoke usage on schema %I from'));
}
