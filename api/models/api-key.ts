/**
 * A tenant API key: how an app backend authenticates. Only the SHA-256 of the secret is
 * stored; the key itself (`vdk_<prefix>_<secret>`) is shown once, when it is created.
 */
import { Model, type JSONSchema, type Pojo, type RelationMappings } from 'objection';
import { Tenant } from './tenant';

/** What a key may be used for; the migration's check constraint lists the same scopes. */
export const apiKeyScopes = ['decide', 'bundles:write', 'audit:read'] as const;
export type ApiKeyScope = (typeof apiKeyScopes)[number];

export function isApiKeyScope(value: string): value is ApiKeyScope {
  return (apiKeyScopes as readonly string[]).includes(value);
}

export class ApiKey extends Model {
  static override tableName = 'api_keys';

  // `scopes` is a Postgres text[] that the driver converts; Objection must not JSON-encode it.
  static override jsonAttributes: string[] = [];

  static override jsonSchema: JSONSchema = {
    type: 'object',
    required: ['tenant_id', 'name', 'prefix', 'secret_hash', 'scopes'],
    properties: {
      tenant_id: { type: 'string', format: 'uuid' },
      name: { type: 'string', minLength: 1, maxLength: 200 },
      prefix: { type: 'string', pattern: '^[0-9a-f]{12}$' },
      secret_hash: { type: 'string', pattern: '^[0-9a-f]{64}$' },
      scopes: {
        type: 'array',
        minItems: 1,
        uniqueItems: true,
        items: { type: 'string', enum: [...apiKeyScopes] },
      },
    },
  };

  declare id: string;
  declare tenant_id: string;
  declare name: string;
  declare prefix: string;
  declare secret_hash: string;
  declare scopes: ApiKeyScope[];
  declare expires_at: Date | null;
  declare last_used_at: Date | null;
  declare revoked_at: Date | null;
  declare created_at: Date;
  declare tenant?: Tenant;

  /** The secret's hash never leaves the model, not even in JSON for an admin. */
  override $formatJson(json: Pojo): Pojo {
    const formatted = super.$formatJson(json);
    delete formatted.secret_hash;
    return formatted;
  }

  static override get relationMappings(): RelationMappings {
    return {
      tenant: {
        relation: Model.BelongsToOneRelation,
        modelClass: Tenant,
        join: { from: 'api_keys.tenant_id', to: 'tenants.id' },
      },
    };
  }
}
