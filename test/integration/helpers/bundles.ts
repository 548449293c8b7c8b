/**
 * Bundles for decision tests: built from source with the real toolchain (buildBundle), and
 * stored as a tenant's active version straight through the models, as the registry stores
 * them after an upload and an activation.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { Bundle } from '../../../api/models/bundle';
import { BundleVersion } from '../../../api/models/bundle-version';
import { buildBundle, type BuiltBundle } from '../../../policies/bundle/build';
import { parseManifest, type ManifestSource } from '../../../policies/bundle/manifest';
import { loadSources } from '../../../policies/bundle/sources';
import { fromJS, toJSONText, type ObjectValue } from '../../../policies/ir/value';

export interface BuiltForTest {
  readonly bundle: BuiltBundle;
  /** The bundle's data as plain JSON. */
  readonly data: unknown;
}

async function build(request: Parameters<typeof buildBundle>[0]): Promise<BuiltForTest> {
  const { bundle, diagnostics } = await buildBundle(request);
  if (bundle === undefined) {
    throw new Error(`test bundle did not build: ${diagnostics.map((d) => d.message).join('; ')}`);
  }
  return { bundle, data: JSON.parse(toJSONText(request.data)) as unknown };
}

/**
 * Builds an example folder (examples/rbac) with its .manifest changed by `manifest`, and its
 * data changed by `editData` when given.
 */
export function buildExample(
  name: string,
  manifest: Partial<ManifestSource> = {},
  editData?: (data: Record<string, unknown>) => Record<string, unknown>,
): Promise<BuiltForTest> {
  const dir = path.resolve(__dirname, '../../../examples', name);
  const parsed = parseManifest(fs.readFileSync(path.join(dir, '.manifest'), 'utf8'));
  if (parsed.manifest === undefined) throw new Error(parsed.problems.join('; '));
  const sources = loadSources([dir]);
  const data =
    editData === undefined
      ? sources.data
      : (fromJS(
          editData(JSON.parse(toJSONText(sources.data)) as Record<string, unknown>),
        ) as ObjectValue);
  return build({
    modules: sources.modules,
    data,
    entrypoints: [],
    manifest: { ...parsed.manifest, ...manifest },
    root: dir,
  });
}

/** Builds Rego source text with the given data and manifest. */
export function buildRego(
  text: string,
  manifest: ManifestSource & { entrypoints: readonly string[] },
  data: Record<string, unknown> = {},
): Promise<BuiltForTest> {
  return build({
    modules: [{ file: 'policy.rego', text }],
    data: fromJS(data) as ObjectValue,
    entrypoints: [],
    manifest,
  });
}

export interface StoredVersion {
  readonly bundleId: string;
  readonly versionId: string;
  readonly revision: string;
}

/** Stores `built` as a version of the tenant's bundle `name` and makes it the stable one. */
export async function storeActiveVersion(
  knex: Knex,
  tenantId: string,
  name: string,
  version: string,
  built: BuiltForTest,
): Promise<StoredVersion> {
  const bundle =
    (await Bundle.query(knex).findOne({ tenant_id: tenantId, name })) ??
    (await Bundle.query(knex).insert({ tenant_id: tenantId, name }));
  const stored = await BundleVersion.query(knex).insert({
    bundle_id: bundle.id,
    version,
    revision: built.bundle.manifest.revision,
    engine: built.bundle.manifest.engine,
    manifest: { ...built.bundle.manifest },
    tar: built.bundle.tarGz,
    wasm: Buffer.from(built.bundle.wasm),
    data: built.data,
    size_bytes: built.bundle.tarGz.byteLength,
    signature_status: 'unsigned',
    uploaded_by: 'test',
  });
  await knex('tenant_bundles')
    .insert({ tenant_id: tenantId, bundle_id: bundle.id, stable_version_id: stored.id })
    .onConflict(['tenant_id', 'bundle_id'])
    .merge({ stable_version_id: stored.id, updated_at: knex.fn.now() });
  return { bundleId: bundle.id, versionId: stored.id, revision: stored.revision };
}
