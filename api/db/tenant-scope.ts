/**
 * Tenant-scoped transactions: the second wall of tenant isolation (see docs/security.md).
 *
 * Service code that works on one tenant's rows runs its queries through `withTenant`: one
 * transaction that names the tenant in the setting `verdict.tenant_id` and switches to the
 * role `verdict_tenant`. Row-level security policies on every tenant table (migration
 * 20261127150000_row_level_security) then show and accept that tenant's rows only, so a
 * query that forgot its tenant filter still reaches no other tenant's data. Both settings
 * are transaction-local: they end with the transaction, and a pooled connection goes back
 * to the pool as the owner again.
 *
 * The switch of role is what makes the policies apply: the connection's own user owns the
 * tables (or is a superuser), and owners and superusers bypass row security.
 */
import type { Knex } from 'knex';
import { isUuid } from '../uuid';

/** The NOLOGIN role scoped transactions run as. */
export const tenantRole = 'verdict_tenant';

/** The transaction-local setting the policies read the tenant from. */
export const tenantSetting = 'verdict.tenant_id';

/**
 * Runs `work` in a transaction of its own that can see and change only `tenantId`'s rows of
 * the tenant tables. It takes the root knex only: inside another transaction the role and the
 * setting would outlive this call (a released savepoint keeps them) and scope the rest of it.
 */
export async function withTenant<T>(
  knex: Knex,
  tenantId: string,
  work: (trx: Knex.Transaction) => PromiseLike<T>,
): Promise<T> {
  // Tenant ids come from the database; anything else is a bug in the caller.
  if (!isUuid(tenantId)) {
    throw new TypeError(`withTenant needs a tenant id (a UUID), got ${JSON.stringify(tenantId)}`);
  }
  if (knex.isTransaction === true) {
    throw new TypeError(
      'withTenant starts its own transaction: pass the root knex, not a transaction',
    );
  }
  return knex.transaction(async (trx) => {
    // `set_config('role', ..., true)` is `set local role`; one statement sets both.
    await trx.raw("select set_config('role', ?, true), set_config(?, ?, true)", [
      tenantRole,
      tenantSetting,
      tenantId.toLowerCase(),
    ]);
    return await work(trx);
  });
}
