/**
 * loadActiveBundles on the real Postgres: each bundle's stable version with its wasm (which
 * loads and evaluates), data and manifest; bundles without a stable version and other
 * tenants' bundles are left out.
 */
import type { Knex } from 'knex';
import { openDatabase, type Database } from '../../../api/db/database';
import { migrateUp } from '../../../api/db/migrator';
import { loadActiveBundles } from '../../../api/services/bundles';
import { buildBundle } from '../../../policies/bundle/build';
import { loadSources } from '../../../policies/bundle/sources';
import { PolicyEngine } from '../../../policies/engine';
import {
  createTestDatabase,
  silentLogger,
  testConfig,
  type TestDatabase,
} from '../helpers/services';

let database: TestDatabase;
let db: Database;
let wasm: Uint8Array;

beforeAll(async () => {
  database = await createTestDatabase('bundles_active');
  db = await openDatabase(testConfig({ DATABASE_URL: database.url }), silentLogger);
  await migrateUp(db);
  const sources = loadSources(['examples/rbac']);
  const built = await buildBundle({
    modules: sources.modules,
    data: sources.data,
    entrypoints: ['rbac/allow'],
  });
  if (!built.bundle) throw new Error(JSON.stringify(built.diagnostics));
  wasm = built.bundle.wasm;
});
afterAll(async () => {
  await db.close();
  await database.drop();
});

async function insertReturningId(knex: Knex, table: string, row: object): Promise<string> {
  const [inserted] = await knex(table).insert(row).returning<{ id: string }[]>('id');
  return (inserted as { id: string }).id;
}

function versionRow(bundleId: string, version: string, data: unknown): object {
  return {
    bundle_id: bundleId,
    version,
    revision: `rev-${version}`,
    engine: 'rego',
    manifest: JSON.stringify({
      revision: `rev-${version}`,
      roots: ['rbac'],
      entrypoints: ['rbac/allow'],
      mask: ['/input/password'],
      cache: 'off',
    }),
    tar: Buffer.from([0x1f, 0x8b]),
    wasm: Buffer.from(wasm),
    data: JSON.stringify(data),
    size_bytes: 2,
    signature_status: 'unsigned',
    uploaded_by: 'test',
  };
}

it('returns the stable version of each bundle of the tenant, and nothing else', async () => {
  const knex = db.knex;
  const acme = await insertReturningId(knex, 'tenants', { slug: 'acme', name: 'Acme' });
  const globex = await insertReturningId(knex, 'tenants', { slug: 'globex', name: 'Globex' });
  const rbac = await insertReturningId(knex, 'bundles', { tenant_id: acme, name: 'rbac' });
  const idle = await insertReturningId(knex, 'bundles', { tenant_id: acme, name: 'idle' });
  const other = await insertReturningId(knex, 'bundles', { tenant_id: globex, name: 'rbac' });
  const data = { rbac: { roles: { viewer: ['read'] } } };
  await insertReturningId(knex, 'bundle_versions', versionRow(rbac, '1.0.0', {}));
  const v2 = await insertReturningId(knex, 'bundle_versions', versionRow(rbac, '2.0.0', data));
  await insertReturningId(knex, 'bundle_versions', versionRow(idle, '1.0.0', {}));
  const otherVersion = await insertReturningId(
    knex,
    'bundle_versions',
    versionRow(other, '9.0.0', {}),
  );
  await knex('tenant_bundles').insert([
    { tenant_id: acme, bundle_id: rbac, stable_version_id: v2 },
    { tenant_id: acme, bundle_id: idle, stable_version_id: null },
    { tenant_id: globex, bundle_id: other, stable_version_id: otherVersion },
  ]);

  const active = await loadActiveBundles(knex, acme);
  expect(active).toHaveLength(1);
  const [bundle] = active;
  expect(bundle).toMatchObject({
    bundleId: rbac,
    name: 'rbac',
    versionId: v2,
    version: '2.0.0',
    revision: 'rev-2.0.0',
    engine: 'rego',
    manifest: { roots: ['rbac'], entrypoints: ['rbac/allow'], mask: ['/input/password'] },
    data,
  });
  expect(bundle?.manifest.cache).toBe('off');
  expect(bundle?.wasm).toBeInstanceOf(Uint8Array);
  expect(Buffer.from(bundle?.wasm ?? []).equals(Buffer.from(wasm))).toBe(true);
  const engine = await PolicyEngine.load(bundle?.wasm ?? new Uint8Array());
  expect(Object.keys(engine.entrypoints)).toContain('rbac/allow');

  expect((await loadActiveBundles(knex, globex)).map((b) => b.versionId)).toEqual([otherVersion]);
  const nobody = await insertReturningId(knex, 'tenants', { slug: 'nobody', name: 'Nobody' });
  expect(await loadActiveBundles(knex, nobody)).toEqual([]);
});
