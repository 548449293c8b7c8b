/**
 * Finding a data subject: a platform user named by id, or by e-mail address through its
 * blind index (an address may belong to users of several tenants; `tenant` then picks one).
 */
import type { Knex } from 'knex';
import { VerdictError } from '../../errors';
import { isUuid } from '../../uuid';
import type { TenantRef } from '../compliance/tenant-ref';
import type { UserDirectory, UserRow } from '../identity/users';

export async function findSubject(
  knex: Knex,
  users: UserDirectory,
  user: string,
  tenant?: TenantRef,
): Promise<UserRow> {
  const query = knex<UserRow>('users');
  if (isUuid(user)) void query.where({ id: user.toLowerCase() });
  else void query.where({ email_index: users.emailIndex(user) });
  if (tenant !== undefined) {
    if (tenant.isTenant) void query.where({ tenant_id: tenant.id });
    else void query.whereNull('tenant_id');
  }
  const rows = await query.orderBy('id');
  const [first] = rows;
  if (first === undefined) {
    throw new VerdictError(
      'not_found',
      `No user ${JSON.stringify(user)}${tenant === undefined ? '' : ` in ${tenant.slug}`}: give the user's id or e-mail address (an erased user is found by id only).`,
    );
  }
  if (rows.length > 1) {
    throw new VerdictError(
      'conflict',
      `${String(rows.length)} users have this e-mail address (ids ${rows.map((row) => row.id).join(', ')}): pass --tenant <tenant> (or platform), or the user's id.`,
    );
  }
  return first;
}
