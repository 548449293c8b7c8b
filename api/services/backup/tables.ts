/**
 * Which tables a backup holds, in the order a restore inserts them (every foreign key points
 * to a table earlier in the list), and which it deliberately leaves out, with why. Every table
 * a migration creates must be in one of the two lists; the backup names any other table it
 * finds in the header (`unknown_tables`) and leaves it out.
 *
 * `ofTenants` is the condition a tenant-limited backup (`--tenant`) reads the table with: SQL
 * on the table's alias `t`, where `$1` is the chosen tenants' ids (uuid[]). Platform rows —
 * platform admins, their MFA, the token signing keys — belong to no tenant and are in every
 * backup. The audit tables are read by the audit selection (audit.ts) instead.
 */

export interface BackedUpTable {
  readonly name: string;
  /** Columns the rows are read in, so a backup of the same data is the same file. */
  readonly orderBy: string;
  /** The rows of the chosen tenants (see above); absent for the audit tables. */
  readonly ofTenants?: string;
  /** Rows per fetch: few for tables with large rows (bundle artifacts). */
  readonly fetchRows: number;
}

const ofUsersOfTenants =
  'exists (select 1 from users u where u.id = t.user_id and (u.tenant_id = any($1) or u.tenant_id is null))';

export const backedUpTables: readonly BackedUpTable[] = [
  { name: 'tenants', orderBy: 'id', ofTenants: 't.id = any($1)', fetchRows: 1000 },
  {
    name: 'users',
    orderBy: 'id',
    ofTenants: 't.tenant_id = any($1) or t.tenant_id is null',
    fetchRows: 1000,
  },
  { name: 'user_mfa', orderBy: 'user_id', ofTenants: ofUsersOfTenants, fetchRows: 1000 },
  { name: 'mfa_recovery_codes', orderBy: 'id', ofTenants: ofUsersOfTenants, fetchRows: 1000 },
  { name: 'api_keys', orderBy: 'id', ofTenants: 't.tenant_id = any($1)', fetchRows: 1000 },
  { name: 'bundles', orderBy: 'id', ofTenants: 't.tenant_id = any($1)', fetchRows: 1000 },
  {
    name: 'bundle_versions',
    orderBy: 'id',
    ofTenants:
      'exists (select 1 from bundles b where b.id = t.bundle_id and b.tenant_id = any($1))',
    fetchRows: 8,
  },
  {
    name: 'tenant_bundles',
    orderBy: 'tenant_id, bundle_id',
    ofTenants: 't.tenant_id = any($1)',
    fetchRows: 1000,
  },
  { name: 'rollouts', orderBy: 'id', ofTenants: 't.tenant_id = any($1)', fetchRows: 1000 },
  { name: 'signing_keys', orderBy: 'kid', ofTenants: 'true', fetchRows: 1000 },
  { name: 'audit_chain_anchors', orderBy: 'tenant_id, last_seq', fetchRows: 1000 },
  { name: 'decisions', orderBy: 'tenant_id, seq', fetchRows: 1000 },
];

/** Tables left out of every backup, and why (the header repeats this). */
export const excludedTables: Readonly<Record<string, string>> = {
  sessions: 'login sessions: everyone signs in again after a restore',
  refresh_tokens: 'the refresh tokens of those sessions',
  one_time_tokens:
    'MFA challenges and password set-up links (short-lived): pending invitations are issued again',
  login_throttles: 'failed-login counters and lockouts: they start afresh',
  knex_migrations: 'migration bookkeeping: the header names the migration level instead',
  knex_migrations_lock: 'migration bookkeeping',
};
