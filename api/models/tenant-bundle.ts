/**
 * A tenant's state for one of its bundles: which version is stable (null until one is
 * activated). Keyed by (tenant_id, bundle_id).
 */
import { Model, type RelationMappings } from 'objection';
import { Bundle } from './bundle';
import { BundleVersion } from './bundle-version';

export class TenantBundle extends Model {
  static override tableName = 'tenant_bundles';

  static override get idColumn(): string[] {
    return ['tenant_id', 'bundle_id'];
  }

  declare tenant_id: string;
  declare bundle_id: string;
  declare stable_version_id: string | null;
  declare updated_at: Date;
  declare bundle?: Bundle;
  declare stableVersion?: BundleVersion | null;

  static override get relationMappings(): RelationMappings {
    return {
      bundle: {
        relation: Model.BelongsToOneRelation,
        modelClass: Bundle,
        join: { from: 'tenant_bundles.bundle_id', to: 'bundles.id' },
      },
      stableVersion: {
        relation: Model.BelongsToOneRelation,
        modelClass: BundleVersion,
        join: { from: 'tenant_bundles.stable_version_id', to: 'bundle_versions.id' },
      },
    };
  }
}
