/**
 * One published version of a bundle: semver, content revision, the manifest and the tar.gz
 * bytes as uploaded. Immutable: the database refuses updates (a fix is a new version).
 */
import { Model, type JSONSchema, type Pojo } from 'objection';

export const bundleEngines = ['rego', 'casl'] as const;
export type BundleEngine = (typeof bundleEngines)[number];

export const signatureStatuses = ['verified', 'unsigned'] as const;
export type SignatureStatus = (typeof signatureStatuses)[number];

export class BundleVersion extends Model {
  static override tableName = 'bundle_versions';

  static override jsonAttributes: string[] = ['manifest'];

  static override jsonSchema: JSONSchema = {
    type: 'object',
    required: [
      'bundle_id',
      'version',
      'revision',
      'engine',
      'manifest',
      'signature_status',
      'uploaded_by',
    ],
    properties: {
      bundle_id: { type: 'string', format: 'uuid' },
      version: { type: 'string', minLength: 5, maxLength: 128 },
      revision: { type: 'string', minLength: 1, maxLength: 256 },
      engine: { type: 'string', enum: [...bundleEngines] },
      manifest: { type: 'object' },
      signature_status: { type: 'string', enum: [...signatureStatuses] },
      uploaded_by: { type: 'string', minLength: 1, maxLength: 256 },
    },
  };

  declare id: string;
  declare bundle_id: string;
  declare version: string;
  declare revision: string;
  declare engine: BundleEngine;
  declare manifest: Record<string, unknown>;
  declare tar: Buffer;
  declare signature_status: SignatureStatus;
  declare uploaded_by: string;
  declare created_at: Date;

  /** The tar bytes are downloaded on their own route, never inlined into JSON. */
  override $formatJson(json: Pojo): Pojo {
    const formatted = super.$formatJson(json);
    delete formatted.tar;
    return formatted;
  }
}
