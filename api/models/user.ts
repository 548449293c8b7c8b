/** A human who administers a tenant: an admin, a policy author or an auditor. */
import { Model, type JSONSchema, type Pojo, type RelationMappings } from 'objection';
import { Tenant } from './tenant';

export const userRoles = ['admin', 'author', 'auditor'] as const;
export type UserRole = (typeof userRoles)[number];

export class User extends Model {
  static override tableName = 'users';

  declare id: string;
  declare tenant_id: string;
  declare email: string;
  declare display_name: string;
  declare role: UserRole;
  declare password_hash: string | null;
  declare disabled_at: Date | null;
  declare created_at: Date;
  declare updated_at: Date;
  declare tenant?: Tenant;

  /** Inserts and updates through the model are checked against this before the database. */
  static override jsonSchema: JSONSchema = {
    type: 'object',
    required: ['tenant_id', 'email', 'role'],
    properties: {
      tenant_id: { type: 'string', format: 'uuid' },
      email: { type: 'string', minLength: 3, maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+$' },
      display_name: { type: 'string', maxLength: 200 },
      role: { type: 'string', enum: [...userRoles] },
    },
  };

  /** The password hash never leaves the model, not even in JSON for an admin. */
  override $formatJson(json: Pojo): Pojo {
    const formatted = super.$formatJson(json);
    delete formatted.password_hash;
    return formatted;
  }

  static override get relationMappings(): RelationMappings {
    return {
      tenant: {
        relation: Model.BelongsToOneRelation,
        modelClass: Tenant,
        join: { from: 'users.tenant_id', to: 'tenants.id' },
      },
    };
  }
}
