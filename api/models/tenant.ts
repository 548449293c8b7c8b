/** A tenant: one customer organisation, the scope of every other record. */
import { Model, type JSONSchema } from 'objection';

export class Tenant extends Model {
  static override tableName = 'tenants';

  static override jsonSchema: JSONSchema = {
    type: 'object',
    required: ['slug', 'name'],
    properties: {
      slug: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
      name: { type: 'string', minLength: 1, maxLength: 200 },
      require_signed_bundles: { type: 'boolean' },
      audit_strict: { type: 'boolean' },
      signing_public_key: { type: ['string', 'null'] },
      audit_retention_days: { type: ['integer', 'null'], minimum: 1, maximum: 36500 },
      default_decision: { type: 'string', maxLength: 255 },
    },
  };

  declare id: string;
  declare slug: string;
  declare name: string;
  /** Bundles pushed for this tenant must carry a valid signature. */
  declare require_signed_bundles: boolean;
  /** Decisions are answered only once their audit row is written. */
  declare audit_strict: boolean;
  /** PEM Ed25519 public key that signed bundles are verified against; null when none is set. */
  declare signing_public_key: string | null;
  /** Days decisions are kept before `verdict audit prune` may remove them; null: forever. */
  declare audit_retention_days: number | null;
  /** The data path `POST /` evaluates, like OPA's `default_decision` (`system/main`). */
  declare default_decision: string;
  declare created_at: Date;
  declare updated_at: Date;
}
