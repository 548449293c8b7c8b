/**
 * The bundles a tenant runs: for each of its bundles with a stable version, that version's
 * policy.wasm, data and manifest. The engine pool loads engines from this.
 */
import type { Knex } from 'knex';
import type { BundleEngine } from '../../models/bundle-version';

/** The manifest keys the decision path reads; a stored manifest carries the others too. */
export interface ActiveManifest {
  readonly roots: readonly string[];
  readonly entrypoints: readonly string[];
  /** JSON pointers under /input removed before a decision is logged. */
  readonly mask?: readonly string[];
  /** The bundle's decision-cache switch. */
  readonly cache?: 'auto' | 'on' | 'off';
  readonly [key: string]: unknown;
}

export interface ActiveBundle {
  readonly bundleId: string;
  readonly name: string;
  readonly versionId: string;
  readonly version: string;
  readonly revision: string;
  readonly engine: BundleEngine;
  readonly manifest: ActiveManifest;
  readonly wasm: Uint8Array;
  readonly data: unknown;
}

interface ActiveRow {
  bundle_id: string;
  name: string;
  version_id: string;
  version: string;
  revision: string;
  engine: BundleEngine;
  manifest: ActiveManifest;
  wasm: Buffer;
  data: unknown;
}

/** The stable version of every bundle of `tenantId` that has one, ordered by bundle name. */
export async function loadActiveBundles(knex: Knex, tenantId: string): Promise<ActiveBundle[]> {
  const rows = await knex('tenant_bundles as tb')
    .join('bundles as b', function joinBundle() {
      this.on('b.id', '=', 'tb.bundle_id').andOn('b.tenant_id', '=', 'tb.tenant_id');
    })
    .join('bundle_versions as v', 'v.id', 'tb.stable_version_id')
    .where('tb.tenant_id', tenantId)
    .whereNotNull('tb.stable_version_id')
    .orderBy('b.name')
    .select<ActiveRow[]>(
      'b.id as bundle_id',
      'b.name',
      'v.id as version_id',
      'v.version',
      'v.revision',
      'v.engine',
      'v.manifest',
      'v.wasm',
      'v.data',
    );
  return rows.map((row) => ({
    bundleId: row.bundle_id,
    name: row.name,
    versionId: row.version_id,
    version: row.version,
    revision: row.revision,
    engine: row.engine,
    manifest: row.manifest,
    wasm: new Uint8Array(row.wasm.buffer, row.wasm.byteOffset, row.wasm.byteLength),
    data: row.data,
  }));
}
