/**
 * A human who uses the platform: a tenant's admin, policy author or auditor, or a platform
 * admin (no tenant). The e-mail address is stored encrypted (`email`) with a blind index
 * (`email_index`) to find it by; api/services/identity/users.ts reads and writes both.
 */
import { Model, type JSONSchema, type Pojo, type RelationMappings } from 'objection';
import { userRoles, type UserRole } from '../auth/principal';
import { Tenant } from './tenant';

export { userRoles, type UserRole };

export class User extends Model {
  static override tableName = 'users';

  declare id: string;
  /** Null for a platform admin, and only for one. */
  declare tenant_id: string | null;
  /** Encrypted (`v1:<kid>:...`); never the address itself. */
  declare email: string;
  declare email_index: string | null;
  declare display_name: string;
  declare role: UserRole;
  declare password_hash: string | null;
  declare password_changed_at: Date | null;
  declare last_login_at: Date | null;
  declare disabled_at: Date | null;
  declare created_at: Date;
  declare updated_at: Date;
  declare tenant?: Tenant;

  /** Inserts and updates through the model are checked against this before the database. */
  static override jsonSchema: JSONSchema = {
    type: 'object',
    required: ['email', 'role'],
    properties: {
      tenant_id: { type: ['string', 'null'], format: 'uuid' },
      email: { type: 'string', minLength: 1 },
      display_name: { type: 'string', maxLength: 200 },
      role: { type: 'string', enum: [...userRoles] },
    },
  };

  /** Secrets never leave the model, not even in JSON for an admin. */
  override $formatJson(json: Pojo): Pojo {
    const formatted = super.$formatJson(json);
    delete formatted.password_hash;
    delete formatted.email;
    delete formatted.email_index;
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
