/**
 * The bundle registry of each tenant: upload (check, compile when needed, store an immutable
 * version), list, read, download, and activate a version (it becomes stable, and every
 * instance hears of it on the `verdict:bundles` channel). Every call names the tenant and
 * reaches only that tenant's rows: its queries filter by tenant and run in a tenant-scoped
 * transaction (api/db/tenant-scope.ts), where row-level security enforces the same.
 */
import type { Knex } from 'knex';
import { withTenant } from '../../db/tenant-scope';
import { VerdictError } from '../../errors';
import { Bundle } from '../../models/bundle';
import {
  BundleVersion,
  type BundleEngine,
  type SignatureStatus,
} from '../../models/bundle-version';
import { Tenant } from '../../models/tenant';
import type { CacheStore } from '../cache';
import { prepareBundle, type PreparedBundle, type UploadOverrides } from './prepare';

/** The pub/sub channel that announces activations to every instance. */
export const bundleActivationChannel = 'verdict:bundles';

/** What is published on `verdict:bundles` when a version becomes stable. */
export interface BundleActivation {
  readonly tenantId: string;
  readonly bundleId: string;
  readonly versionId: string;
}

export interface VersionSummary {
  readonly id: string;
  readonly bundle: string;
  readonly version: string;
  readonly revision: string;
  readonly engine: BundleEngine;
  readonly signature_status: SignatureStatus;
  readonly size_bytes: number | null;
  readonly uploaded_by: string;
  readonly created_at: Date;
  /** Whether this is the bundle's stable version. */
  readonly stable: boolean;
  readonly manifest: Record<string, unknown>;
}

export interface BundleSummary {
  readonly id: string;
  readonly name: string;
  readonly created_at: Date;
  readonly versions: number;
  readonly latest_version: string | null;
  readonly stable_version: string | null;
}

export interface UploadResult {
  readonly version: VersionSummary;
  /** False when the same name, version and revision were stored already. */
  readonly created: boolean;
}

export interface SigningSettings {
  readonly public_key: string | null;
  readonly require_signed: boolean;
}

const versionColumns = [
  'v.id',
  'b.name as bundle',
  'v.version',
  'v.revision',
  'v.engine',
  'v.signature_status',
  'v.size_bytes',
  'v.uploaded_by',
  'v.created_at',
  'v.manifest',
] as const;

type VersionRow = Omit<VersionSummary, 'stable'> & { stable_version_id: string | null };

function summarize(row: VersionRow): VersionSummary {
  const { stable_version_id: stableId, ...rest } = row;
  return { ...rest, stable: stableId === row.id };
}

export function noBundle(name: string): VerdictError {
  return new VerdictError(
    'not_found',
    `No bundle "${name}" for this tenant: push it first, or list bundles with \`verdict bundles list\`.`,
  );
}

function noVersion(name: string, version: string): VerdictError {
  return new VerdictError(
    'not_found',
    `Bundle "${name}" has no version ${version}: list its versions with GET .../bundles/${name}/versions.`,
  );
}

export class BundleRegistry {
  private readonly knex: Knex;
  private readonly cache: CacheStore;

  constructor(options: { readonly knex: Knex; readonly cache: CacheStore }) {
    this.knex = options.knex;
    this.cache = options.cache;
  }

  /** Checks, compiles when needed and stores a version; see prepare.ts for what is refused. */
  async upload(
    tenantId: string,
    tarGz: Uint8Array,
    uploadedBy: string,
    overrides: UploadOverrides = {},
  ): Promise<UploadResult> {
    const tenant = await withTenant(this.knex, tenantId, (trx) =>
      Tenant.query(trx).findById(tenantId),
    );
    if (tenant === undefined) throw new VerdictError('not_found', 'No such tenant.');
    // Checking and compiling take a while: no transaction stays open meanwhile.
    const prepared = await prepareBundle(tarGz, {
      overrides,
      signing: {
        publicKey: tenant.signing_public_key,
        required: tenant.require_signed_bundles,
      },
    });
    const { name, version, revision } = prepared.manifest;
    const stored = await withTenant(this.knex, tenantId, (trx) =>
      this.store(trx, tenantId, tarGz, uploadedBy, prepared),
    );
    if ('version' in stored) return stored;
    const { existing } = stored;
    if (existing?.revision === revision) return { version: existing, created: false };
    throw new VerdictError(
      'conflict',
      `Bundle "${name}" already has version ${version} with revision ${existing?.revision ?? '?'}; versions are immutable: publish a new version (this upload has revision ${revision}).`,
      { extensions: { revision: existing?.revision } },
    );
  }

  /** Stores the version; finds the one stored already under its name and version instead. */
  private async store(
    trx: Knex.Transaction,
    tenantId: string,
    tarGz: Uint8Array,
    uploadedBy: string,
    prepared: PreparedBundle,
  ): Promise<UploadResult | { existing: VersionSummary | undefined }> {
    const { name, version } = prepared.manifest;
    const bundleId = await this.ensureBundle(trx, tenantId, name);
    // A conflict would abort the transaction; skipping the row keeps it usable for the lookup.
    const [inserted] = await trx('bundle_versions')
      .insert(this.versionRow(bundleId, tarGz, uploadedBy, prepared))
      .onConflict(['bundle_id', 'version'])
      .ignore()
      .returning<{ id: string }[]>('id');
    if (inserted !== undefined) {
      return { version: await this.versionById(trx, tenantId, inserted.id), created: true };
    }
    return { existing: await this.findVersion(trx, tenantId, name, version) };
  }

  private versionRow(
    bundleId: string,
    tarGz: Uint8Array,
    uploadedBy: string,
    prepared: PreparedBundle,
  ): Record<string, unknown> {
    return {
      bundle_id: bundleId,
      version: prepared.manifest.version,
      revision: prepared.manifest.revision,
      engine: prepared.manifest.engine,
      manifest: JSON.stringify(prepared.manifest),
      tar: Buffer.from(tarGz),
      wasm: Buffer.from(prepared.wasm),
      data: JSON.stringify(prepared.data),
      size_bytes: tarGz.byteLength,
      signature_status: prepared.signatureStatus,
      uploaded_by: uploadedBy,
    };
  }

  /** The bundle's id, creating the bundle (and its tenant state) on first upload. */
  private async ensureBundle(
    trx: Knex.Transaction,
    tenantId: string,
    name: string,
  ): Promise<string> {
    await trx('bundles')
      .insert({ tenant_id: tenantId, name })
      .onConflict(['tenant_id', 'name'])
      .ignore();
    const bundle = await Bundle.query(trx).findOne({ tenant_id: tenantId, name });
    if (bundle === undefined) throw noBundle(name); // deleted between the two statements
    await trx('tenant_bundles')
      .insert({ tenant_id: tenantId, bundle_id: bundle.id })
      .onConflict(['tenant_id', 'bundle_id'])
      .ignore();
    return bundle.id;
  }

  private versionsQuery(trx: Knex.Transaction, tenantId: string): Knex.QueryBuilder {
    return trx('bundle_versions as v')
      .join('bundles as b', 'b.id', 'v.bundle_id')
      .leftJoin('tenant_bundles as tb', function joinState() {
        this.on('tb.bundle_id', '=', 'b.id').andOn('tb.tenant_id', '=', 'b.tenant_id');
      })
      .where('b.tenant_id', tenantId)
      .select<VersionRow[]>(...versionColumns, 'tb.stable_version_id');
  }

  private async versionById(
    trx: Knex.Transaction,
    tenantId: string,
    id: string,
  ): Promise<VersionSummary> {
    const rows = (await this.versionsQuery(trx, tenantId).where('v.id', id)) as VersionRow[];
    const [row] = rows;
    if (row === undefined) throw new VerdictError('not_found', 'The version was removed.');
    return summarize(row);
  }

  private async findVersion(
    trx: Knex.Transaction,
    tenantId: string,
    name: string,
    version: string,
  ): Promise<VersionSummary | undefined> {
    const rows = (await this.versionsQuery(trx, tenantId)
      .where('b.name', name)
      .where('v.version', version)) as VersionRow[];
    const [row] = rows;
    return row === undefined ? undefined : summarize(row);
  }

  async listBundles(tenantId: string): Promise<BundleSummary[]> {
    return withTenant(this.knex, tenantId, (trx) => this.bundleSummaries(trx, tenantId));
  }

  private async bundleSummaries(trx: Knex.Transaction, tenantId: string): Promise<BundleSummary[]> {
    const rows = await trx('bundles as b')
      .leftJoin('tenant_bundles as tb', function joinState() {
        this.on('tb.bundle_id', '=', 'b.id').andOn('tb.tenant_id', '=', 'b.tenant_id');
      })
      .leftJoin('bundle_versions as s', 's.id', 'tb.stable_version_id')
      .where('b.tenant_id', tenantId)
      .orderBy('b.name')
      .select<BundleSummary[]>(
        'b.id',
        'b.name',
        'b.created_at',
        trx.raw(
          '(select count(*)::int from bundle_versions c where c.bundle_id = b.id) as versions',
        ),
        trx.raw(
          '(select l.version from bundle_versions l where l.bundle_id = b.id order by l.created_at desc, l.id limit 1) as latest_version',
        ),
        's.version as stable_version',
      );
    return rows;
  }

  /** Versions of a bundle, newest first. */
  async listVersions(tenantId: string, name: string): Promise<VersionSummary[]> {
    return withTenant(this.knex, tenantId, async (trx) => {
      const bundle = await Bundle.query(trx).findOne({ tenant_id: tenantId, name });
      if (bundle === undefined) throw noBundle(name);
      const rows = (await this.versionsQuery(trx, tenantId)
        .where('v.bundle_id', bundle.id)
        .orderBy([
          { column: 'v.created_at', order: 'desc' },
          { column: 'v.id', order: 'asc' },
        ])) as VersionRow[];
      return rows.map(summarize);
    });
  }

  async getVersion(tenantId: string, name: string, version: string): Promise<VersionSummary> {
    return withTenant(this.knex, tenantId, (trx) => this.versionIn(trx, tenantId, name, version));
  }

  private async versionIn(
    trx: Knex.Transaction,
    tenantId: string,
    name: string,
    version: string,
  ): Promise<VersionSummary> {
    const found = await this.findVersion(trx, tenantId, name, version);
    if (found === undefined) {
      if ((await Bundle.query(trx).findOne({ tenant_id: tenantId, name })) === undefined) {
        throw noBundle(name);
      }
      throw noVersion(name, version);
    }
    return found;
  }

  /** The tar.gz as uploaded. */
  async download(tenantId: string, name: string, version: string): Promise<Buffer> {
    return withTenant(this.knex, tenantId, async (trx) => {
      const found = await this.versionIn(trx, tenantId, name, version);
      const row = await BundleVersion.query(trx).findById(found.id).select('tar');
      if (row === undefined) throw noVersion(name, version);
      return row.tar;
    });
  }

  /** Makes `version` the stable version of bundle `name`, then tells every instance. */
  async activate(tenantId: string, name: string, version: string): Promise<VersionSummary> {
    const { found, bundleId } = await withTenant(this.knex, tenantId, async (trx) => {
      const stable = await this.versionIn(trx, tenantId, name, version);
      const bundle = (await Bundle.query(trx).findOne({ tenant_id: tenantId, name })) as Bundle;
      const rollout = await trx('rollouts')
        .where({ tenant_id: tenantId, bundle_id: bundle.id, status: 'active' })
        .first<{ id: string } | undefined>('id');
      if (rollout !== undefined) {
        throw new VerdictError(
          'conflict',
          `Bundle "${name}" has an active rollout: promote, roll back or abort it (\`verdict rollout\`) before activating a version directly.`,
          { extensions: { rollout: rollout.id } },
        );
      }
      await trx('tenant_bundles')
        .insert({
          tenant_id: tenantId,
          bundle_id: bundle.id,
          stable_version_id: stable.id,
          updated_at: trx.fn.now(),
        })
        .onConflict(['tenant_id', 'bundle_id'])
        .merge(['stable_version_id', 'updated_at']);
      return { found: stable, bundleId: bundle.id };
    });
    // Announced once committed, so every instance that reloads reads the new stable version.
    const activation: BundleActivation = { tenantId, bundleId, versionId: found.id };
    try {
      await this.cache.publish(bundleActivationChannel, JSON.stringify(activation));
    } catch (err) {
      throw new VerdictError(
        'cache_unavailable',
        `Version ${version} of "${name}" is stable in the database, but other instances could not be told (the cache is unavailable); activate it again once the cache is back.`,
        { cause: err },
      );
    }
    return { ...found, stable: true };
  }

  /** The tenant's signing key and whether it requires signed bundles. */
  async setSigning(
    tenantId: string,
    publicKey: string | null,
    requireSigned: boolean,
  ): Promise<SigningSettings> {
    const updated = await withTenant(this.knex, tenantId, (trx) =>
      Tenant.query(trx).patchAndFetchById(tenantId, {
        signing_public_key: publicKey,
        require_signed_bundles: requireSigned,
        updated_at: new Date(),
      }),
    );
    return {
      public_key: updated.signing_public_key,
      require_signed: updated.require_signed_bundles,
    };
  }
}

/** A Postgres unique violation (SQLSTATE 23505) from a plain knex query. */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';
}
