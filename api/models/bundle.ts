/** A named policy bundle of one tenant; its content lives in immutable `BundleVersion`s. */
import { Model, type JSONSchema, type RelationMappings } from 'objection';
import { BundleVersion } from './bundle-version';
import { Tenant } from './tenant';

export class Bundle extends Model {
  static override tableName = 'bundles';

  static override jsonSchema: JSONSchema = {
    type: 'object',
    required: ['tenant_id', 'name'],
    properties: {
      tenant_id: { type: 'string', format: 'uuid' },
      name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' },
    },
  };

  declare id: string;
  declare tenant_id: string;
  declare name: string;
  declare created_at: Date;
  declare tenant?: Tenant;
  declare versions?: BundleVersion[];

  static override get relationMappings(): RelationMappings {
    return {
      tenant: {
        relation: Model.BelongsToOneRelation,
        modelClass: Tenant,
        join: { from: 'bundles.tenant_id', to: 'tenants.id' },
      },
      versions: {
        relation: Model.HasManyRelation,
        modelClass: BundleVersion,
        join: { from: 'bundles.id', to: 'bundle_versions.bundle_id' },
      },
    };
  }
}
