/**
 * The bundle registry of each tenant: upload (check, compile when needed, store an immutable
 * version), list, read, download, and activate a version (it becomes stable, and every
 * instance hears of it on the `verdict:bundles` channel). Every call names the tenant and
 * reaches only that tenant's rows.
 */
import type { Knex } from 'knex';
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
    const tenant = await Tenant.query(this.knex).findById(tenantId);
    if (tenant === undefined) throw new VerdictError('not_found', 'No such tenant.');
    const prepared = await prepareBundle(tarGz, {
      overrides,
      signing: {
        publicKey: tenant.signing_public_key,
        required: tenant.require_signed_bundles,
      },
    });
    const bundleId = await this.ensureBundle(tenantId, prepared.manifest.name);
    try {
      const [inserted] = await this.knex('bundle_versions')
        .insert(this.versionRow(bundleId, tarGz, uploadedBy, prepared))
        .returning<{ id: string }[]>('id');
      const id = (inserted as { id: string }).id;
      return { version: await this.versionById(tenantId, id), created: true };
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
    const existing = await this.findVersion(
      tenantId,
      prepared.manifest.name,
      prepared.manifest.version,
    );
    if (existing?.revision === prepared.manifest.revision)
      return { version: existing, created: false };
    throw new VerdictError(
      'conflict',
      `Bundle "${prepared.manifest.name}" already has version ${prepared.manifest.version} with revision ${existing?.revision ?? '?'}; versions are immutable: publish a new version (this upload has revision ${prepared.manifest.revision}).`,
      { extensions: { revision: existing?.revision } },
    );
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
  private async ensureBundle(tenantId: string, name: string): Promise<string> {
    await this.knex('bundles')
      .insert({ tenant_id: tenantId, name })
      .onConflict(['tenant_id', 'name'])
      .ignore();
    const bundle = await Bundle.query(this.knex).findOne({ tenant_id: tenantId, name });
    if (bundle === undefined) throw noBundle(name); // deleted between the two statements
    await this.knex('tenant_bundles')
      .insert({ tenant_id: tenantId, bundle_id: bundle.id })
      .onConflict(['tenant_id', 'bundle_id'])
      .ignore();
    return bundle.id;
  }

  private versionsQuery(tenantId: string): Knex.QueryBuilder {
    return this.knex('bundle_versions as v')
      .join('bundles as b', 'b.id', 'v.bundle_id')
      .leftJoin('tenant_bundles as tb', function joinState() {
        this.on('tb.bundle_id', '=', 'b.id').andOn('tb.tenant_id', '=', 'b.tenant_id');
      })
      .where('b.tenant_id', tenantId)
      .select<VersionRow[]>(...versionColumns, 'tb.stable_version_id');
  }

  private async versionById(tenantId: string, id: string): Promise<VersionSummary> {
    const rows = (await this.versionsQuery(tenantId).where('v.id', id)) as VersionRow[];
    const [row] = rows;
    if (row === undefined) throw new VerdictError('not_found', 'The version was removed.');
    return summarize(row);
  }

  private async findVersion(
    tenantId: string,
    name: string,
    version: string,
  ): Promise<VersionSummary | undefined> {
    const rows = (await this.versionsQuery(tenantId)
      .where('b.name', name)
      .where('v.version', version)) as VersionRow[];
    const [row] = rows;
    return row === undefined ? undefined : summarize(row);
  }

  async listBundles(tenantId: string): Promise<BundleSummary[]> {
    const rows = await this.knex('bundles as b')
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
        this.knex.raw(
          '(select count(*)::int from bundle_versions c where c.bundle_id = b.id) as versions',
        ),
        this.knex.raw(
          '(select l.version from bundle_versions l where l.bundle_id = b.id order by l.created_at desc, l.id limit 1) as latest_version',
        ),
        's.version as stable_version',
      );
    return rows;
  }

  /** Versions of a bundle, newest first. */
  async listVersions(tenantId: string, name: string): Promise<VersionSummary[]> {
    const bundle = await Bundle.query(this.knex).findOne({ tenant_id: tenantId, name });
    if (bundle === undefined) throw noBundle(name);
    const rows = (await this.versionsQuery(tenantId)
      .where('v.bundle_id', bundle.id)
      .orderBy([
        { column: 'v.created_at', order: 'desc' },
        { column: 'v.id', order: 'asc' },
      ])) as VersionRow[];
    return rows.map(summarize);
  }

  async getVersion(tenantId: string, name: string, version: string): Promise<VersionSummary> {
    const found = await this.findVersion(tenantId, name, version);
    if (found === undefined) {
      if ((await Bundle.query(this.knex).findOne({ tenant_id: tenantId, name })) === undefined) {
        throw noBundle(name);
      }
      throw noVersion(name, version);
    }
    return found;
  }

  /** The tar.gz as uploaded. */
  async download(tenantId: string, name: string, version: string): Promise<Buffer> {
    const found = await this.getVersion(tenantId, name, version);
    const row = await BundleVersion.query(this.knex).findById(found.id).select('tar');
    if (row === undefined) throw noVersion(name, version);
    return row.tar;
  }

  /** Makes `version` the stable version of bundle `name`, then tells every instance. */
  async activate(tenantId: string, name: string, version: string): Promise<VersionSummary> {
    const found = await this.getVersion(tenantId, name, version);
    const bundle = (await Bundle.query(this.knex).findOne({ tenant_id: tenantId, name })) as Bundle;
    const rollout = await this.knex('rollouts')
      .where({ tenant_id: tenantId, bundle_id: bundle.id, status: 'active' })
      .first<{ id: string } | undefined>('id');
    if (rollout !== undefined) {
      throw new VerdictError(
        'conflict',
        `Bundle "${name}" has an active rollout: promote, roll back or abort it (\`verdict rollout\`) before activating a version directly.`,
        { extensions: { rollout: rollout.id } },
      );
    }
    await this.knex('tenant_bundles')
      .insert({
        tenant_id: tenantId,
        bundle_id: bundle.id,
        stable_version_id: found.id,
        updated_at: this.knex.fn.now(),
      })
      .onConflict(['tenant_id', 'bundle_id'])
      .merge(['stable_version_id', 'updated_at']);
    const activation: BundleActivation = { tenantId, bundleId: bundle.id, versionId: found.id };
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
    const updated = await Tenant.query(this.knex).patchAndFetchById(tenantId, {
      signing_public_key: publicKey,
      require_signed_bundles: requireSigned,
      updated_at: new Date(),
    });
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
