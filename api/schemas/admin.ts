/**
 * Bodies of the admin API (bootstrap token): creating tenants and tenant API keys. The
 * route handlers validate with these; docs/api.md describes the same shapes.
 */
import type { JSONSchemaType } from 'ajv';
import { apiKeyScopes, type ApiKeyScope } from '../models/api-key';
import { durationPattern } from './duration';

/** Longest decision-log retention a tenant may be given: a hundred years. */
export const maxAuditRetentionDays = 36_500;

const auditRetentionDays = {
  type: 'integer',
  minimum: 1,
  maximum: maxAuditRetentionDays,
  nullable: true,
} as const;

/** A data path such as `system/main` (OPA's `default_decision`, without the leading slash). */
export const defaultDecisionPattern = '^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$';

const defaultDecision = {
  type: 'string',
  pattern: defaultDecisionPattern,
  maxLength: 255,
  nullable: true,
} as const;

export interface CreateTenantBody {
  slug: string;
  name: string;
  /** Days decisions are kept before `verdict audit prune` may remove them; null: forever. */
  audit_retention_days?: number | null;
  /** The data path `POST /` evaluates; null or absent: `system/main`, as OPA. */
  default_decision?: string | null;
}

export const createTenantSchema: JSONSchemaType<CreateTenantBody> = {
  type: 'object',
  properties: {
    slug: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
    name: { type: 'string', minLength: 1, maxLength: 200 },
    audit_retention_days: auditRetentionDays,
    default_decision: defaultDecision,
  },
  required: ['slug', 'name'],
  additionalProperties: false,
};

export interface UpdateTenantBody {
  /** null passes the schema (ajv's typing asks optional members to be nullable); refused by the route. */
  name?: string | null;
  audit_retention_days?: number | null;
  /** null sets it back to `system/main`. */
  default_decision?: string | null;
}

export const updateTenantSchema: JSONSchemaType<UpdateTenantBody> = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200, nullable: true },
    audit_retention_days: auditRetentionDays,
    default_decision: defaultDecision,
  },
  required: [],
  minProperties: 1,
  additionalProperties: false,
};

export interface CreateApiKeyBody {
  name: string;
  scopes: ApiKeyScope[];
  expires_in?: string;
}

export const createApiKeySchema: JSONSchemaType<CreateApiKeyBody> = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    scopes: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { type: 'string', enum: [...apiKeyScopes] },
    },
    expires_in: { type: 'string', pattern: durationPattern, nullable: true },
  },
  required: ['name', 'scopes'],
  additionalProperties: false,
};
