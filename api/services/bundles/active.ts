/**
 * The bundles a tenant runs: for each of its bundles with a stable version, that version's
 * policy.wasm, data and manifest, and the candidate version of the bundle's active rollout
 * when it has one. The engine pool loads engines from this, once per tenant load (never per
 * decision): one tenant-scoped transaction (api/db/tenant-scope.ts) for both reads.
 */
import type { Knex } from 'knex';
import { withTenant } from '../../db/tenant-scope';
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
  /** The bundle's active rollout: its candidate version and how traffic reaches it. */
  readonly rollout?: ActiveRollout;
}

export interface ActiveRollout {
  readonly id: string;
  readonly mode: 'canary' | 'shadow';
  /** Share of traffic the canary serves, in percent; 0 for a shadow. */
  readonly percent: number;
  /** Input path the canary split is sticky by; null: the caller. */
  readonly sticky: string | null;
  readonly candidate: ActiveBundle;
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

interface RolloutRow extends ActiveRow {
  rollout_id: string;
  mode: 'canary' | 'shadow';
  percent: string | null;
  sticky: string | null;
}

const versionColumns = [
  'v.id as version_id',
  'v.version',
  'v.revision',
  'v.engine',
  'v.manifest',
  'v.wasm',
  'v.data',
];

function activeBundle(row: ActiveRow): ActiveBundle {
  return {
    bundleId: row.bundle_id,
    name: row.name,
    versionId: row.version_id,
    version: row.version,
    revision: row.revision,
    engine: row.engine,
    manifest: row.manifest,
    wasm: new Uint8Array(row.wasm.buffer, row.wasm.byteOffset, row.wasm.byteLength),
    data: row.data,
  };
}

/** The candidate versions of the tenant's active rollouts, by bundle id. */
async function loadActiveRollouts(
  trx: Knex.Transaction,
  tenantId: string,
): Promise<Map<string, ActiveRollout>> {
  const rows = await trx('rollouts as r')
    .join('bundles as b', 'b.id', 'r.bundle_id')
    .join('bundle_versions as v', 'v.id', 'r.candidate_version_id')
    .where('r.tenant_id', tenantId)
    .where('r.status', 'active')
    .select<RolloutRow[]>(
      'r.id as rollout_id',
      'r.mode',
      'r.percent',
      'r.sticky',
      'b.id as bundle_id',
      'b.name',
      ...versionColumns,
    );
  return new Map(
    rows.map((row) => [
      row.bundle_id,
      {
        id: row.rollout_id,
        mode: row.mode,
        percent: row.percent === null ? 0 : Number(row.percent),
        sticky: row.sticky,
        candidate: activeBundle(row),
      },
    ]),
  );
}

/**
 * The stable version of every bundle of `tenantId` that has one, ordered by bundle name, each
 * with its active rollout's candidate.
 */
export async function loadActiveBundles(knex: Knex, tenantId: string): Promise<ActiveBundle[]> {
  return withTenant(knex, tenantId, (trx) => activeBundlesIn(trx, tenantId));
}

async function activeBundlesIn(trx: Knex.Transaction, tenantId: string): Promise<ActiveBundle[]> {
  const rows = await trx('tenant_bundles as tb')
    .join('bundles as b', function joinBundle() {
      this.on('b.id', '=', 'tb.bundle_id').andOn('b.tenant_id', '=', 'tb.tenant_id');
    })
    .join('bundle_versions as v', 'v.id', 'tb.stable_version_id')
    .where('tb.tenant_id', tenantId)
    .whereNotNull('tb.stable_version_id')
    .orderBy('b.name')
    .select<ActiveRow[]>('b.id as bundle_id', 'b.name', ...versionColumns);
  const rollouts = await loadActiveRollouts(trx, tenantId);
  return rows.map((row) => {
    const rollout = rollouts.get(row.bundle_id);
    return { ...activeBundle(row), ...(rollout === undefined ? {} : { rollout }) };
  });
}
