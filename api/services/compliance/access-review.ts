/**
 * The access review (SOX-style periodic review of who can do what): a tenant's users with
 * their role, MFA, last login and state, and its API keys with their scopes, expiry, last
 * use and revocation. For `platform`, the platform admins (who hold no API keys). Read as the
 * table owner: MFA enrolments are not readable in a tenant-scoped transaction.
 *
 * Keys' `last_used_at` is written at most once a minute per key (api/services/api-keys.ts),
 * so it is exact to the minute. Who created a key is not recorded on the key.
 */
import type { Knex } from 'knex';
import type { ApiKeyScope } from '../../models/api-key';
import { UserDirectory, type UserRow } from '../identity/users';
import type { FieldCipher } from '../identity/data-keys';
import { toCsv, type CsvValue } from './csv';
import type { TenantRef } from './tenant-ref';

export interface ReviewedUser {
  readonly id: string;
  readonly email: string;
  readonly display_name: string;
  readonly role: string;
  readonly status: 'active' | 'invited' | 'disabled';
  readonly mfa_enabled: boolean;
  readonly last_login_at: string | null;
  readonly disabled_at: string | null;
  readonly created_at: string;
}

export interface ReviewedApiKey {
  readonly id: string;
  readonly name: string;
  readonly prefix: string;
  readonly scopes: readonly ApiKeyScope[];
  readonly status: 'active' | 'revoked' | 'expired';
  readonly created_at: string;
  readonly expires_at: string | null;
  readonly last_used_at: string | null;
  readonly revoked_at: string | null;
}

export interface AccessReview {
  readonly tenant: { readonly id: string; readonly slug: string };
  readonly generated_at: string;
  readonly users: readonly ReviewedUser[];
  readonly api_keys: readonly ReviewedApiKey[];
}

interface KeyRow {
  id: string;
  name: string;
  prefix: string;
  scopes: ApiKeyScope[];
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}

function keyStatus(row: KeyRow, now: Date): ReviewedApiKey['status'] {
  if (row.revoked_at !== null) return 'revoked';
  if (row.expires_at !== null && row.expires_at.getTime() <= now.getTime()) return 'expired';
  return 'active';
}

export async function accessReview(
  knex: Knex,
  cipher: FieldCipher,
  tenant: TenantRef,
  now: Date = new Date(),
): Promise<AccessReview> {
  const users = new UserDirectory(knex, cipher);
  const userQuery = knex<UserRow>('users').orderBy([
    { column: 'created_at', order: 'asc' },
    { column: 'id', order: 'asc' },
  ]);
  if (tenant.isTenant) void userQuery.where({ tenant_id: tenant.id });
  else void userQuery.whereNull('tenant_id');
  const userRows = await userQuery;
  const enrolled = new Set(
    (
      await knex('user_mfa')
        .whereIn(
          'user_id',
          userRows.map((row) => row.id),
        )
        .whereNotNull('confirmed_at')
        .select<{ user_id: string }[]>('user_id')
    ).map((row) => row.user_id),
  );
  const keyRows: KeyRow[] = tenant.isTenant
    ? await knex('api_keys')
        .where({ tenant_id: tenant.id })
        .orderBy([
          { column: 'created_at', order: 'asc' },
          { column: 'id', order: 'asc' },
        ])
        .select<KeyRow[]>(
          'id',
          'name',
          'prefix',
          'scopes',
          'created_at',
          'expires_at',
          'last_used_at',
          'revoked_at',
        )
    : [];
  return {
    tenant: { id: tenant.id, slug: tenant.slug },
    generated_at: now.toISOString(),
    users: userRows.map((row) => {
      const view = users.view(row, enrolled.has(row.id));
      return {
        id: view.id,
        email: view.email,
        display_name: view.display_name,
        role: view.role,
        status: view.status,
        mfa_enabled: view.mfa_enabled,
        last_login_at: iso(view.last_login_at),
        disabled_at: iso(view.disabled_at),
        created_at: view.created_at.toISOString(),
      };
    }),
    api_keys: keyRows.map((row) => ({
      id: row.id,
      name: row.name,
      prefix: row.prefix,
      scopes: [...row.scopes].sort(),
      status: keyStatus(row, now),
      created_at: row.created_at.toISOString(),
      expires_at: iso(row.expires_at),
      last_used_at: iso(row.last_used_at),
      revoked_at: iso(row.revoked_at),
    })),
  };
}

/** The CSV's columns: users and keys share one table; a column a kind lacks is empty. */
export const accessReviewColumns = [
  'kind',
  'id',
  'name',
  'email',
  'role',
  'scopes',
  'status',
  'mfa_enabled',
  'created_at',
  'last_login_at',
  'disabled_at',
  'key_prefix',
  'expires_at',
  'last_used_at',
  'revoked_at',
] as const;

export function accessReviewCsv(review: AccessReview): string {
  const rows: CsvValue[][] = [
    ...review.users.map((user) => [
      'user',
      user.id,
      user.display_name,
      user.email,
      user.role,
      '',
      user.status,
      user.mfa_enabled,
      user.created_at,
      user.last_login_at,
      user.disabled_at,
      '',
      '',
      '',
      '',
    ]),
    ...review.api_keys.map((key) => [
      'api-key',
      key.id,
      key.name,
      '',
      'app',
      key.scopes.join(' '),
      key.status,
      '',
      key.created_at,
      '',
      '',
      key.prefix,
      key.expires_at,
      key.last_used_at,
      key.revoked_at,
    ]),
  ];
  return toCsv(accessReviewColumns, rows);
}
