/**
 * One published version of a bundle: semver, content revision, the manifest and the tar.gz
 * bytes as uploaded, plus what the server runs: the policy.wasm (carried by the bundle or
 * compiled from its sources) and its data. Immutable: the database refuses updates (a fix is
 * a new version).
 */
import { Model, type JSONSchema, type Pojo } from 'objection';

export const bundleEngines = ['rego', 'casl'] as const;
export type BundleEngine = (typeof bundleEngines)[number];

export const signatureStatuses = ['verified', 'unsigned'] as const;
export type SignatureStatus = (typeof signatureStatuses)[number];

export class BundleVersion extends Model {
  static override tableName = 'bundle_versions';

  static override jsonAttributes: string[] = ['manifest', 'data'];

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
      size_bytes: { type: ['integer', 'null'], minimum: 0 },
    },
  };

  declare id: string;
  declare bundle_id: string;
  declare version: string;
  declare revision: string;
  declare engine: BundleEngine;
  declare manifest: Record<string, unknown>;
  declare tar: Buffer;
  /** The policy.wasm the engine loads. */
  declare wasm: Buffer;
  /** The bundle's data (its data.json files merged), the engine's `data`. */
  declare data: unknown;
  /** Size of the uploaded .tar.gz in bytes. */
  declare size_bytes: number | null;
  declare signature_status: SignatureStatus;
  declare uploaded_by: string;
  declare created_at: Date;

  /** Tar, wasm and data are bulky: never inlined into JSON (the tar downloads on its own route). */
  override $formatJson(json: Pojo): Pojo {
    const formatted = super.$formatJson(json);
    delete formatted.tar;
    delete formatted.wasm;
    delete formatted.data;
    return formatted;
  }
}
