/**
 * Tenants: create, list, and find by slug or id. Plain values in and out; the admin routes
 * parse and format around these.
 */
import type { Knex } from 'knex';
import { UniqueViolationError } from 'objection';
import { VerdictError } from '../errors';
import { Tenant } from '../models/tenant';
import { isUuid } from '../uuid';

/** What `POST /` evaluates unless the tenant names another rule: OPA's `/system/main`. */
export const defaultDecisionPath = 'system/main';

export interface TenantSummary {
  readonly id: string;
  readonly slug: string;
  readonly name: string;
  readonly require_signed_bundles: boolean;
  readonly audit_strict: boolean;
  readonly audit_retention_days: number | null;
  readonly default_decision: string;
  readonly created_at: Date;
  readonly updated_at: Date;
}

function summarize(tenant: Tenant): TenantSummary {
  return {
    id: tenant.id,
    slug: tenant.slug,
    name: tenant.name,
    require_signed_bundles: tenant.require_signed_bundles,
    audit_strict: tenant.audit_strict,
    audit_retention_days: tenant.audit_retention_days,
    default_decision: tenant.default_decision,
    created_at: tenant.created_at,
    updated_at: tenant.updated_at,
  };
}

export class TenantService {
  constructor(private readonly knex: Knex) {}

  /** Creates a tenant; a `conflict` VerdictError when the slug is taken. */
  async create(input: {
    slug: string;
    name: string;
    audit_retention_days?: number | null;
    default_decision?: string;
  }): Promise<TenantSummary> {
    try {
      return summarize(await Tenant.query(this.knex).insertAndFetch(input));
    } catch (err) {
      if (err instanceof UniqueViolationError) {
        throw new VerdictError(
          'conflict',
          `A tenant with slug "${input.slug}" exists already; choose another slug.`,
          { extensions: { field: '/slug' } },
        );
      }
      throw err;
    }
  }

  /** Changes the name, retention or default decision of the tenant with this id. */
  async update(
    id: string,
    patch: { name?: string; audit_retention_days?: number | null; default_decision?: string },
  ): Promise<TenantSummary> {
    const tenant = await Tenant.query(this.knex).patchAndFetchById(id, {
      ...patch,
      updated_at: new Date(),
    });
    return summarize(tenant);
  }

  async list(): Promise<TenantSummary[]> {
    return (await Tenant.query(this.knex).orderBy('slug')).map(summarize);
  }

  /** The tenant named by `ref`, its slug or its id; undefined when there is none. */
  async find(ref: string): Promise<TenantSummary | undefined> {
    const column = isUuid(ref) ? 'id' : 'slug';
    const tenant = await Tenant.query(this.knex).findOne({ [column]: ref });
    return tenant === undefined ? undefined : summarize(tenant);
  }
}
