/**
 * Which tenant a compliance command means: a slug, a tenant id, or `platform` (the platform's
 * own users and its decision-log chain). Unknown names are an error that says what to do.
 */
import type { Knex } from 'knex';
import { platformTenantId, platformTenantRef } from '../../auth/access';
import { VerdictError } from '../../errors';
import { isUuid } from '../../uuid';

export interface TenantRef {
  /** The tenant's id; the platform chain's id for `platform`. */
  readonly id: string;
  readonly slug: string;
  /** False for `platform`. */
  readonly isTenant: boolean;
}

export async function resolveTenant(knex: Knex, ref: string): Promise<TenantRef> {
  if (ref === platformTenantRef) return { id: platformTenantId, slug: ref, isTenant: false };
  const query = knex('tenants').where({ slug: ref });
  if (isUuid(ref)) void query.orWhere({ id: ref.toLowerCase() });
  const row = await query.first<{ id: string; slug: string } | undefined>('id', 'slug');
  if (row === undefined) {
    throw new VerdictError(
      'not_found',
      `No tenant "${ref}": give a tenant's slug or id (list them with \`verdict tenants list\`), or \`platform\`.`,
    );
  }
  return { id: row.id, slug: row.slug, isTenant: true };
}
