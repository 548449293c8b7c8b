/**
 * The api_keys and bundle registry migration, on the real Postgres and on the embedded
 * database: the tables and their constraints (scopes, semver, engine, immutability, a bundle
 * and its stable version tied to their own tenant), cascades, the Objection models over them,
 * and a clean revert. The schema is the one this migration leaves (later migrations are not
 * applied); applying and reverting the whole list is migrations.test.ts's job.
 */
import type { Knex } from 'knex';
import { openDatabase, type Database } from '../../api/db/database';
import { ApiKey } from '../../api/models/api-key';
import { Bundle } from '../../api/models/bundle';
import { BundleVersion } from '../../api/models/bundle-version';
import { TenantBundle } from '../../api/models/tenant-bundle';
import { migrations } from '../../migrations';
import {
  createTestDatabase,
  silentLogger,
  tempDir,
  testConfig,
  type TestDatabase,
} from './helpers/services';

// Creating an embedded database takes several seconds, more on a busy machine.
jest.setTimeout(120_000);

const migrationName = '20261127100000_create_api_keys_and_bundles';
const ownTables = ['api_keys', 'bundle_versions', 'bundles', 'tenant_bundles'];
const ownIndex = migrations.findIndex((m) => m.name === migrationName);
const ownMigration = migrations[ownIndex] as (typeof migrations)[number];

/** Applies every migration up to and including this one, in order. */
async function upThroughOwn(knex: Knex): Promise<void> {
  for (const migration of migrations.slice(0, ownIndex + 1)) await migration.up(knex);
}

async function existingTables(knex: Knex): Promise<string[]> {
  const result = await knex.raw<{ rows: { table_name: string }[] }>(
    'select table_name from information_schema.tables where table_schema = current_schema() and table_name = any(?) order by table_name',
    [ownTables],
  );
  return result.rows.map((row) => row.table_name);
}

async function tenantColumns(knex: Knex): Promise<string[]> {
  const result = await knex.raw<{ rows: { column_name: string }[] }>(
    "select column_name from information_schema.columns where table_name = 'tenants' and column_name in ('require_signed_bundles', 'audit_strict') order by column_name",
  );
  return result.rows.map((row) => row.column_name);
}

const hash = 'ab'.repeat(32);

async function insertTenant(knex: Knex, slug: string): Promise<string> {
  const [row] = await knex('tenants')
    .insert({ slug, name: slug })
    .returning<{ id: string }[]>('id');
  return (row as { id: string }).id;
}

async function insertBundle(knex: Knex, tenantId: string, name: string): Promise<string> {
  const [row] = await knex('bundles')
    .insert({ tenant_id: tenantId, name })
    .returning<{ id: string }[]>('id');
  return (row as { id: string }).id;
}

function versionRow(bundleId: string, version: string): Record<string, unknown> {
  return {
    bundle_id: bundleId,
    version,
    revision: `rev-${version}`,
    engine: 'rego',
    manifest: JSON.stringify({ revision: `rev-${version}` }),
    tar: Buffer.from([0x1f, 0x8b, 0x08]),
    signature_status: 'unsigned',
    uploaded_by: 'test',
  };
}

async function insertVersion(knex: Knex, bundleId: string, version: string): Promise<string> {
  const [row] = await knex('bundle_versions')
    .insert(versionRow(bundleId, version))
    .returning<{ id: string }[]>('id');
  return (row as { id: string }).id;
}

function describeMigration(open: () => Promise<Database>): void {
  let db: Database;
  beforeAll(async () => {
    db = await open();
  });
  afterAll(async () => {
    await db.close();
  });

  it('creates the tables and tenant columns', async () => {
    expect(await existingTables(db.knex)).toEqual([]);
    await upThroughOwn(db.knex);
    expect(await existingTables(db.knex)).toEqual(ownTables);
    expect(await tenantColumns(db.knex)).toEqual(['audit_strict', 'require_signed_bundles']);
    const id = await insertTenant(db.knex, 'defaults');
    expect(
      await db.knex('tenants').where({ id }).first('require_signed_bundles', 'audit_strict'),
    ).toEqual({ require_signed_bundles: false, audit_strict: false });
  });

  it('keeps api key scopes, prefixes and hashes to their known forms', async () => {
    const tenantId = await insertTenant(db.knex, 'keys');
    const key = (prefix: string, scopes: string[]): Record<string, unknown> => ({
      tenant_id: tenantId,
      name: 'k',
      prefix,
      secret_hash: hash,
      scopes,
    });
    await db.knex('api_keys').insert(key('0123456789ab', ['decide', 'audit:read']));
    const row = (await db.knex('api_keys').where({ prefix: '0123456789ab' }).first()) as {
      scopes: string[];
      created_at: Date;
      expires_at: Date | null;
    };
    expect(row.scopes).toEqual(['decide', 'audit:read']);
    expect(row.created_at).toBeInstanceOf(Date);
    expect(row.expires_at).toBeNull();
    await expect(db.knex('api_keys').insert(key('0123456789ab', ['decide']))).rejects.toThrow(
      /api_keys_prefix_unique/,
    );
    await expect(db.knex('api_keys').insert(key('111111111111', ['root']))).rejects.toThrow(
      /api_keys_scopes_known/,
    );
    await expect(db.knex('api_keys').insert(key('222222222222', []))).rejects.toThrow(
      /api_keys_scopes_known/,
    );
    await expect(db.knex('api_keys').insert(key('NOT-A-PREFIX', ['decide']))).rejects.toThrow(
      /api_keys_prefix_format/,
    );
    await expect(
      db.knex('api_keys').insert({ ...key('333333333333', ['decide']), secret_hash: 'plain' }),
    ).rejects.toThrow(/api_keys_secret_hash_format/);
  });

  it('keeps bundle versions unique, well-formed and immutable', async () => {
    const tenantId = await insertTenant(db.knex, 'registry');
    const bundleId = await insertBundle(db.knex, tenantId, 'rbac');
    await expect(insertBundle(db.knex, tenantId, 'rbac')).rejects.toThrow(
      /bundles_tenant_id_name_unique/,
    );
    await expect(insertBundle(db.knex, tenantId, '../etc')).rejects.toThrow(/bundles_name_format/);
    const versionId = await insertVersion(db.knex, bundleId, '1.0.0');
    await insertVersion(db.knex, bundleId, '1.1.0-rc.1+build.5');
    await expect(insertVersion(db.knex, bundleId, '1.0.0')).rejects.toThrow(
      /bundle_versions_bundle_id_version_unique/,
    );
    await expect(insertVersion(db.knex, bundleId, '1.0')).rejects.toThrow(
      /bundle_versions_version_semver/,
    );
    await expect(insertVersion(db.knex, bundleId, '01.0.0')).rejects.toThrow(
      /bundle_versions_version_semver/,
    );
    await expect(
      db.knex('bundle_versions').insert({ ...versionRow(bundleId, '2.0.0'), engine: 'cedar' }),
    ).rejects.toThrow(/bundle_versions_engine_known/);
    await expect(
      db
        .knex('bundle_versions')
        .insert({ ...versionRow(bundleId, '2.0.0'), signature_status: 'maybe' }),
    ).rejects.toThrow(/bundle_versions_signature_status_known/);
    await expect(
      db.knex('bundle_versions').where({ id: versionId }).update({ revision: 'tampered' }),
    ).rejects.toThrow(/immutable/);
    const stored = (await db.knex('bundle_versions').where({ id: versionId }).first()) as {
      revision: string;
      manifest: unknown;
      tar: Buffer;
    };
    expect(stored.revision).toBe('rev-1.0.0');
    expect(stored.manifest).toEqual({ revision: 'rev-1.0.0' });
    expect(stored.tar).toEqual(Buffer.from([0x1f, 0x8b, 0x08]));
  });

  it("ties a tenant's bundle state to its own bundle and that bundle's versions", async () => {
    const acme = await insertTenant(db.knex, 'acme');
    const globex = await insertTenant(db.knex, 'globex');
    const acmeBundle = await insertBundle(db.knex, acme, 'rbac');
    const globexBundle = await insertBundle(db.knex, globex, 'rbac');
    const acmeVersion = await insertVersion(db.knex, acmeBundle, '1.0.0');
    const globexVersion = await insertVersion(db.knex, globexBundle, '1.0.0');

    await db.knex('tenant_bundles').insert({ tenant_id: acme, bundle_id: acmeBundle });
    await db
      .knex('tenant_bundles')
      .where({ tenant_id: acme, bundle_id: acmeBundle })
      .update({ stable_version_id: acmeVersion });
    // Another tenant's bundle, or another bundle's version, is refused.
    await expect(
      db.knex('tenant_bundles').insert({ tenant_id: acme, bundle_id: globexBundle }),
    ).rejects.toThrow(/foreign key/);
    await expect(
      db
        .knex('tenant_bundles')
        .where({ tenant_id: acme, bundle_id: acmeBundle })
        .update({ stable_version_id: globexVersion }),
    ).rejects.toThrow(/foreign key/);
    // The stable version cannot be deleted from under the tenant...
    await expect(db.knex('bundle_versions').where({ id: acmeVersion }).delete()).rejects.toThrow(
      /foreign key/,
    );
    // ...but deleting the tenant takes everything it owns with it.
    await db.knex('api_keys').insert({
      tenant_id: acme,
      name: 'k',
      prefix: 'aaaaaaaaaaaa',
      secret_hash: hash,
      scopes: ['decide'],
    });
    await db.knex('tenants').where({ id: acme }).delete();
    expect(await db.knex('api_keys').where({ tenant_id: acme }).first()).toBeUndefined();
    expect(await db.knex('bundles').where({ tenant_id: acme }).first()).toBeUndefined();
    expect(await db.knex('tenant_bundles').where({ tenant_id: acme }).first()).toBeUndefined();
    expect(await db.knex('bundle_versions').where({ id: acmeVersion }).first()).toBeUndefined();
    expect(await db.knex('bundle_versions').where({ id: globexVersion }).first('id')).toEqual({
      id: globexVersion,
    });
  });

  it('maps the tables to working Objection models', async () => {
    const tenantId = await insertTenant(db.knex, 'models');
    const bundle = await Bundle.query(db.knex).insertAndFetch({
      tenant_id: tenantId,
      name: 'rbac',
    });
    const version = await BundleVersion.query(db.knex).insertAndFetch({
      bundle_id: bundle.id,
      version: '1.2.3',
      revision: 'abc',
      engine: 'rego',
      manifest: { revision: 'abc', roots: ['rbac'] },
      tar: Buffer.from('tar bytes'),
      signature_status: 'unsigned',
      uploaded_by: 'admin',
    });
    expect(version.toJSON()).not.toHaveProperty('tar');
    await TenantBundle.query(db.knex).insert({
      tenant_id: tenantId,
      bundle_id: bundle.id,
      stable_version_id: version.id,
    });
    const state = await TenantBundle.query(db.knex)
      .findById([tenantId, bundle.id])
      .withGraphFetched('[bundle.[tenant, versions], stableVersion]');
    expect(state?.bundle?.tenant?.slug).toBe('models');
    expect(state?.bundle?.versions?.map((v) => v.version)).toEqual(['1.2.3']);
    expect(state?.stableVersion?.manifest).toEqual({ revision: 'abc', roots: ['rbac'] });
    expect(state?.stableVersion?.tar).toEqual(Buffer.from('tar bytes'));
    await expect(
      BundleVersion.query(db.knex).findById(version.id).patch({ revision: 'changed' }),
    ).rejects.toThrow(/immutable/);

    const key = await ApiKey.query(db.knex)
      .insertAndFetch({
        tenant_id: tenantId,
        name: 'k',
        prefix: 'bbbbbbbbbbbb',
        secret_hash: hash,
        scopes: ['decide', 'bundles:write'],
      })
      .withGraphFetched('tenant');
    expect(key.scopes).toEqual(['decide', 'bundles:write']);
    expect(key.tenant?.id).toBe(tenantId);
    expect(key.toJSON()).not.toHaveProperty('secret_hash');
  });

  it('reverts to the schema before it', async () => {
    await ownMigration.down(db.knex);
    expect(await existingTables(db.knex)).toEqual([]);
    expect(await tenantColumns(db.knex)).toEqual([]);
    const functions = await db.knex.raw<{ rows: unknown[] }>(
      "select 1 from pg_proc where proname = 'bundle_versions_refuse_update'",
    );
    expect(functions.rows).toEqual([]);
    // The tables of earlier migrations are untouched.
    expect(await db.knex('tenants').where({ slug: 'globex' }).first('slug')).toEqual({
      slug: 'globex',
    });
    // And it applies again.
    await ownMigration.up(db.knex);
    expect(await existingTables(db.knex)).toEqual(ownTables);
  });
}

describe('api keys and bundles migration on the real Postgres', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('apikeys_mig');
  });
  afterAll(async () => {
    await database.drop();
  });

  describeMigration(() => openDatabase(testConfig({ DATABASE_URL: database.url }), silentLogger));
});

describe('api keys and bundles migration on the embedded database', () => {
  const dataDir = tempDir('apikeys-mig');
  afterAll(() => {
    dataDir.remove();
  });

  describeMigration(() =>
    openDatabase(testConfig({ VERDICT_DATA_DIR: dataDir.path }), silentLogger),
  );
});
