/**
 * The bundle registry over real HTTP on the real Postgres: pushing built Rego and CASL
 * bundles and OPA-style source bundles (the server compiles), refusing what is broken
 * (corrupt archives, path traversal, bad manifests, compile errors with their position,
 * bad or missing signatures), immutable versions, listing and downloading, activation (the
 * database, the `verdict:bundles` channel, loadActiveBundles), and tenant isolation.
 */
import { PlatformAccess } from '../../../api/auth/access';
import { generateKeyPairSync } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { createApp, type VerdictApp } from '../../../api/app';
import { openDatabase, type Database } from '../../../api/db/database';
import { migrateUp } from '../../../api/db/migrator';
import { problemHandler } from '../../../api/middleware/problem';
import { bundlesRouter } from '../../../api/routes/bundles';
import { ApiKeyService } from '../../../api/services/api-keys';
import { loadActiveBundles } from '../../../api/services/bundles';
import { BundleRegistry } from '../../../api/services/bundles/registry';
import { MemoryCache } from '../../../api/services/cache/memory';
import { RedisCache } from '../../../api/services/cache/redis';
import { TenantService } from '../../../api/services/tenants';
import { generateKeys, signBundle } from '../../../policies/bundle/sign';
import { readTarGz, writeTarGz } from '../../../policies/bundle/tar';
import { PolicyEngine } from '../../../policies/engine';
import {
  createTestDatabase,
  redisUrl,
  silentLogger,
  testConfig,
  uniqueName,
  type TestDatabase,
} from '../helpers/services';
import {
  caslBundle,
  corruptHeaderTarGz,
  file,
  jsonFile,
  rawTarGz,
  rbacBundle,
  rbacSources,
  withEntries,
} from './fixtures';

jest.setTimeout(60_000);

const adminToken = 'admin-token-for-bundle-tests-0123';
const admin = { Authorization: `Bearer ${adminToken}` };

interface Problem {
  code: string;
  status: number;
  detail: string;
  problems?: string[];
  errors?: { file?: string; line?: number; col?: number; code: string; message: string }[];
  field?: string;
}

interface Version {
  id: string;
  bundle: string;
  version: string;
  revision: string;
  engine: string;
  signature_status: string;
  size_bytes: number;
  uploaded_by: string;
  stable: boolean;
  manifest: { entrypoints: string[]; roots: string[]; revision: string; mask?: string[] };
}

let database: TestDatabase;
let db: Database;
let cache: MemoryCache;
let app: VerdictApp;

beforeAll(async () => {
  database = await createTestDatabase('bundles_api');
  db = await openDatabase(testConfig({ DATABASE_URL: database.url }), silentLogger);
  await migrateUp(db);
  cache = new MemoryCache({ logger: silentLogger });
  app = createApp({ logger: silentLogger, db, cache, isShuttingDown: () => false, adminToken });
});
afterAll(async () => {
  await cache.close();
  await db.close();
  await database.drop();
});

function expectProblem(res: request.Response, status: number, code: string): Problem {
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect({ status: res.status, code: (res.body as Problem).code }).toEqual({ status, code });
  return res.body as Problem;
}

async function createTenant(slug: string): Promise<{ id: string; slug: string }> {
  const res = await request(app)
    .post('/v1/tenants')
    .set(admin)
    .send({ slug, name: slug })
    .expect(201);
  return res.body as { id: string; slug: string };
}

async function createKey(tenant: string, scopes: string[]): Promise<{ id: string; key: string }> {
  const res = await request(app)
    .post(`/v1/tenants/${tenant}/keys`)
    .set(admin)
    .send({ name: 'ci', scopes })
    .expect(201);
  return res.body as { id: string; key: string };
}

function push(
  tenant: string,
  body: Uint8Array,
  auth: Record<string, string> = admin,
  query = '',
): request.Test {
  return request(app)
    .post(`/v1/tenants/${tenant}/bundles${query}`)
    .set(auth)
    .set('Content-Type', 'application/gzip')
    .send(Buffer.from(body));
}

interface StoredVersion {
  wasm: Buffer;
  data: unknown;
  tar: Buffer;
}

/** What the registry stored for a version, read straight from the table. */
async function stored(id: string): Promise<StoredVersion> {
  const row = await db
    .knex('bundle_versions')
    .where({ id })
    .first<StoredVersion | undefined>('wasm', 'data', 'tar');
  if (row === undefined) throw new Error(`no bundle version ${id}`);
  return row;
}

async function idOf(table: string, where: Record<string, string>): Promise<string> {
  const row = await db.knex(table).where(where).first<{ id: string } | undefined>('id');
  if (row === undefined) throw new Error(`no row in ${table}`);
  return row.id;
}

const allowInput = {
  subject: { id: 'alice', tenant: 'acme' },
  action: 'delete',
  resource: { type: 'document', id: 'd1', tenant: 'acme', owner: 'bob' },
};
const denyInput = { ...allowInput, subject: { id: 'carol', tenant: 'acme' } };

/** rbac/allow for both inputs, through the wasm and data as stored. */
async function decide(wasm: Uint8Array, data: unknown): Promise<unknown[]> {
  const engine = await PolicyEngine.load(wasm);
  engine.setData(data);
  return [allowInput, denyInput].map((input) => engine.evaluate('rbac/allow', input)[0]?.result);
}

describe('pushing bundles', () => {
  beforeAll(async () => {
    await createTenant('acme');
  });

  it('stores a built Rego bundle as uploaded, with its wasm and data', async () => {
    const built = await rbacBundle();
    const res = await push('acme', built.tarGz).expect(201);
    const version = res.body as Version;
    expect(res.headers.location).toBe('/v1/tenants/acme/bundles/rbac/versions/1.0.0');
    expect(version).toMatchObject({
      bundle: 'rbac',
      version: '1.0.0',
      revision: built.manifest.revision,
      engine: 'rego',
      signature_status: 'unsigned',
      size_bytes: built.tarGz.byteLength,
      uploaded_by: 'admin-token',
      stable: false,
      manifest: { entrypoints: ['rbac/allow', 'rbac/reasons'], roots: ['rbac', 'rbac_test'] },
    });
    const row = await stored(version.id);
    expect(row.wasm.equals(Buffer.from(built.wasm))).toBe(true);
    expect(row.tar.equals(built.tarGz)).toBe(true);
    expect(await decide(row.wasm, row.data)).toEqual([true, false]);
  });

  it('answers 200 with the stored version when the same revision is pushed again', async () => {
    const built = await rbacBundle();
    const first = await request(app)
      .get('/v1/tenants/acme/bundles/rbac/versions/1.0.0')
      .set(admin)
      .expect(200);
    const again = await push('acme', built.tarGz).expect(200);
    expect(again.body).toEqual(first.body);
  });

  it('refuses another revision under a version that exists with 409', async () => {
    const built = await rbacBundle();
    const changed = withEntries(built.tarGz, [
      file('extra.rego', 'package extra\n'),
      jsonFile('.manifest', { ...built.manifest, revision: 'rebuilt' }),
    ]);
    const body = expectProblem(await push('acme', changed), 409, 'conflict');
    expect(body.detail).toContain('already has version 1.0.0');
    expect(body.detail).toContain('this upload has revision rebuilt');
  });

  it('stores a built CASL bundle', async () => {
    const built = await caslBundle();
    const res = await push('acme', built.tarGz).expect(201);
    expect(res.body).toMatchObject({
      bundle: 'documents',
      engine: 'casl',
      manifest: { entrypoints: ['casl/decision'], roots: ['casl'] },
    });
  });

  it('compiles an OPA-style bundle of Rego sources, named by query parameters', async () => {
    const tarGz = writeTarGz([
      jsonFile('.manifest', { revision: '', roots: ['rbac'], entrypoints: ['rbac/allow'] }),
      ...rbacSources(),
    ]);
    const res = await push('acme', tarGz, admin, '?name=opa-src&version=0.1.0').expect(201);
    const version = res.body as Version;
    expect(version).toMatchObject({ bundle: 'opa-src', version: '0.1.0', engine: 'rego' });
    expect(version.revision).toMatch(/^[0-9a-f]{16}$/);
    const row = await stored(version.id);
    expect(await decide(row.wasm, row.data)).toEqual([true, false]);
  });

  it('mounts data files at their folder, as OPA does', async () => {
    const tarGz = writeTarGz([
      jsonFile('.manifest', { name: 'mounted', version: '1.0.0', entrypoints: ['app/who'] }),
      file('app/policy.rego', 'package app\n\nwho := data.app.people.lead\n'),
      jsonFile('app/people/data.json', { lead: 'ann' }),
      file('settings/data.yaml', 'mode: strict\n'),
    ]);
    const res = await push('acme', tarGz).expect(201);
    const row = await stored((res.body as Version).id);
    expect(row.data).toEqual({ app: { people: { lead: 'ann' } }, settings: { mode: 'strict' } });
    const engine = await PolicyEngine.load(row.wasm);
    engine.setData(row.data);
    expect(engine.evaluate('app/who')).toEqual([{ result: 'ann' }]);
  });

  it('compiles a CASL rule set sent without policy.wasm', async () => {
    const built = await caslBundle({ name: 'casl-src', version: '2.0.0' });
    const tarGz = withEntries(built.tarGz, []);
    const withoutWasm = writeTarGz(readTarGz(tarGz).filter((e) => e.path !== 'policy.wasm'));
    const res = await push('acme', withoutWasm).expect(201);
    expect(res.body).toMatchObject({ bundle: 'casl-src', engine: 'casl' });
  });

  it('refuses what is not a tar.gz', async () => {
    const body = expectProblem(
      await push('acme', Buffer.from('certainly not a bundle, but long enough '.repeat(20))),
      422,
      'invalid_bundle',
    );
    expect(body.problems?.[0]).toMatch(/^not a valid bundle archive/);
    const gzipped = expectProblem(await push('acme', corruptHeaderTarGz()), 422, 'invalid_bundle');
    expect(gzipped.problems?.[0]).toContain('corrupt tar header');
    const truncated = (await rbacBundle()).tarGz.subarray(0, 200);
    expectProblem(await push('acme', truncated), 422, 'invalid_bundle');
  });

  it('refuses a path that climbs out of the bundle', async () => {
    for (const name of ['../evil.rego', 'a/../../evil.rego', '..']) {
      const body = expectProblem(
        await push('acme', rawTarGz(name, 'package evil\n')),
        422,
        'invalid_bundle',
      );
      expect(body.problems?.[0]).toContain('unsafe path in bundle');
    }
  });

  it('refuses bad manifests, each problem named', async () => {
    const sources = rbacSources();
    const cases: [unknown, RegExp][] = [
      [{ name: 'x', version: 'one' }, /version: not a semantic version/],
      [{ name: 'Bad Name', version: '1.0.0' }, /name: lower-case/],
      [{ name: 'x', version: '1.0.0', colour: 'red' }, /colour: unknown manifest field/],
      [[1, 2], /must be a JSON object/],
      [{ version: '1.0.0', entrypoints: ['rbac/allow'] }, /no bundle name: add "name"/],
    ];
    for (const [manifest, expected] of cases) {
      const body = expectProblem(
        await push('acme', writeTarGz([jsonFile('.manifest', manifest), ...sources])),
        422,
        'invalid_bundle',
      );
      expect(body.problems?.join('\n')).toMatch(expected);
    }
    const notJson = expectProblem(
      await push('acme', writeTarGz([file('.manifest', '{name:'), ...sources])),
      422,
      'invalid_bundle',
    );
    expect(notJson.problems?.[0]).toMatch(/^\.manifest: not JSON/);
    const disagree = expectProblem(
      await push(
        'acme',
        writeTarGz([jsonFile('.manifest', { name: 'a', version: '1.0.0' }), ...sources]),
        admin,
        '?name=b',
      ),
      422,
      'invalid_bundle',
    );
    expect(disagree.detail).toContain('?name= says "b"');
    const noEntrypoints = expectProblem(
      await push('acme', writeTarGz(sources), admin, '?name=plain&version=1.0.0'),
      422,
      'invalid_bundle',
    );
    expect(noEntrypoints.detail).toContain('lists no entrypoints');
  });

  it('reports compile errors with file, line and column', async () => {
    const tarGz = writeTarGz([
      jsonFile('.manifest', { name: 'broken', version: '1.0.0', entrypoints: ['app/allow'] }),
      file('app/policy.rego', 'package app\n\nallow if {\n  input.x ==\n}\n'),
    ]);
    const body = expectProblem(await push('acme', tarGz), 422, 'invalid_bundle');
    expect(body.problems?.[0]).toMatch(/^app\/policy\.rego:\d+:\d+: rego_parse_error: /);
    expect(body.errors?.[0]).toMatchObject({ file: 'app/policy.rego', code: 'rego_parse_error' });
    expect(body.errors?.[0]?.line).toBeGreaterThanOrEqual(4);
    const badRules = writeTarGz([
      jsonFile('.manifest', { name: 'badcasl', version: '1.0.0', engine: 'casl' }),
      file(
        'rules.json',
        '{"rules": [{"action": "read", "subject": "Doc", "conditions": {"a": {"$bogus": 1}}}]}',
      ),
    ]);
    const casl = expectProblem(await push('acme', badRules), 422, 'invalid_bundle');
    expect(casl.errors?.[0]).toMatchObject({ file: 'rules.json', code: 'casl_rule_error' });
  });

  it('checks a carried policy.wasm: it must load and have the entrypoints', async () => {
    const built = await rbacBundle({ name: 'carried', version: '1.0.0' });
    const manifest = { ...built.manifest, entrypoints: ['rbac/allow', 'rbac/nope'] };
    const missing = expectProblem(
      await push('acme', withEntries(built.tarGz, [jsonFile('.manifest', manifest)])),
      422,
      'invalid_bundle',
    );
    expect(missing.problems).toEqual([
      expect.stringContaining('entrypoint rbac/nope is not in policy.wasm'),
    ]);
    const garbage = expectProblem(
      await push('acme', withEntries(built.tarGz, [file('policy.wasm', 'not wasm')])),
      422,
      'invalid_bundle',
    );
    expect(garbage.detail).toContain('policy.wasm does not load');
  });

  it('answers 415, 400 and 413 for bodies it cannot take', async () => {
    const json = await request(app)
      .post('/v1/tenants/acme/bundles')
      .set(admin)
      .send({ bundle: 'x' });
    expectProblem(json, 415, 'unsupported_media_type');
    const empty = await request(app)
      .post('/v1/tenants/acme/bundles')
      .set(admin)
      .set('Content-Type', 'application/octet-stream')
      .send(Buffer.alloc(0));
    expectProblem(empty, 400, 'bad_request');
    const twice = await push('acme', (await rbacBundle()).tarGz, admin, '?name=a&name=b');
    expect(expectProblem(twice, 400, 'bad_request').field).toBe('?name');

    const small = express();
    small.use(
      bundlesRouter({
        access: new PlatformAccess({
          adminToken,
          apiKeys: new ApiKeyService({ knex: db.knex, logger: silentLogger }),
          tenants: new TenantService(db.knex),
          logger: silentLogger,
        }),
        tenants: new TenantService(db.knex),
        registry: new BundleRegistry({ knex: db.knex, cache }),
        maxBundleBytes: 1024,
      }),
    );
    small.use(problemHandler(silentLogger));
    const tooLarge = await request(small)
      .post('/v1/tenants/acme/bundles')
      .set(admin)
      .set('Content-Type', 'application/gzip')
      .send(Buffer.alloc(2048));
    expect(expectProblem(tooLarge, 413, 'payload_too_large').detail).toContain('MiB');
  });
});

describe('reading bundles', () => {
  beforeAll(async () => {
    await createTenant('reader');
    await push('reader', (await rbacBundle()).tarGz).expect(201);
    await push('reader', (await rbacBundle({ version: '1.1.0' })).tarGz).expect(201);
  });

  it('lists bundles with their counts, and versions newest first', async () => {
    const list = await request(app).get('/v1/tenants/reader/bundles').set(admin).expect(200);
    expect(list.body).toEqual({
      bundles: [
        expect.objectContaining({
          name: 'rbac',
          versions: 2,
          latest_version: '1.1.0',
          stable_version: null,
        }),
      ],
    });
    const versions = await request(app)
      .get('/v1/tenants/reader/bundles/rbac/versions')
      .set(admin)
      .expect(200);
    expect((versions.body as { versions: Version[] }).versions.map((v) => v.version)).toEqual([
      '1.1.0',
      '1.0.0',
    ]);
    for (const version of (versions.body as { versions: Record<string, unknown>[] }).versions) {
      expect(Object.keys(version)).not.toEqual(expect.arrayContaining(['tar']));
      expect(version).not.toHaveProperty('data');
      expect(version).not.toHaveProperty('tar');
      expect(typeof version.manifest).toBe('object');
      expect(version).not.toHaveProperty('wasm');
    }
  });

  it('downloads the tar.gz as uploaded', async () => {
    const built = await rbacBundle({ version: '1.1.0' });
    const res = await request(app)
      .get('/v1/tenants/reader/bundles/rbac/versions/1.1.0/download')
      .set(admin)
      .buffer(true)
      .parse((response, callback) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          callback(null, Buffer.concat(chunks));
        });
      })
      .expect(200);
    expect(res.headers['content-type']).toBe('application/gzip');
    expect(res.headers['content-disposition']).toContain('rbac-1.1.0.tar.gz');
    expect((res.body as Buffer).equals(built.tarGz)).toBe(true);
  });

  it('answers 404 for unknown tenants, bundles and versions', async () => {
    expectProblem(
      await request(app).get('/v1/tenants/nobody/bundles').set(admin),
      404,
      'not_found',
    );
    const bundle = expectProblem(
      await request(app).get('/v1/tenants/reader/bundles/nope/versions').set(admin),
      404,
      'not_found',
    );
    expect(bundle.detail).toContain('No bundle "nope"');
    expectProblem(
      await request(app).get('/v1/tenants/reader/bundles/nope/versions/1.0.0').set(admin),
      404,
      'not_found',
    );
    const version = expectProblem(
      await request(app).get('/v1/tenants/reader/bundles/rbac/versions/9.9.9/download').set(admin),
      404,
      'not_found',
    );
    expect(version.detail).toContain('has no version 9.9.9');
  });
});

describe('activation', () => {
  let tenantId: string;
  beforeAll(async () => {
    tenantId = (await createTenant('active')).id;
    await push('active', (await rbacBundle()).tarGz).expect(201);
    await push('active', (await rbacBundle({ version: '2.0.0' })).tarGz).expect(201);
  });

  it('makes a version stable, announces it on verdict:bundles, and loadActiveBundles serves it', async () => {
    const messages: string[] = [];
    const heard = new Promise<void>((resolve) => {
      void cache.subscribe('verdict:bundles', (message) => {
        messages.push(message);
        resolve();
      });
    });
    const res = await request(app)
      .post('/v1/tenants/active/bundles/rbac/activate')
      .set(admin)
      .send({ version: '2.0.0' })
      .expect(200);
    const version = res.body as Version;
    expect(version).toMatchObject({ version: '2.0.0', stable: true });
    await heard;
    const bundleId = await idOf('bundles', { tenant_id: tenantId });
    expect(messages.map((m) => JSON.parse(m) as unknown)).toEqual([
      { tenantId, bundleId, versionId: version.id },
    ]);

    const [active, ...others] = await loadActiveBundles(db.knex, tenantId);
    expect(others).toEqual([]);
    expect(active).toMatchObject({ name: 'rbac', version: '2.0.0', versionId: version.id });
    expect(await decide(active?.wasm ?? new Uint8Array(), active?.data)).toEqual([true, false]);

    await request(app)
      .post('/v1/tenants/active/bundles/rbac/activate')
      .set(admin)
      .send({ version: '1.0.0' })
      .expect(200);
    expect((await loadActiveBundles(db.knex, tenantId)).map((b) => b.version)).toEqual(['1.0.0']);
    const list = await request(app).get('/v1/tenants/active/bundles').set(admin).expect(200);
    expect(list.body).toMatchObject({ bundles: [{ name: 'rbac', stable_version: '1.0.0' }] });
  });

  it('answers 503 when the activation cannot be announced, with the database change kept', async () => {
    class DownCache extends MemoryCache {
      override publish(): Promise<void> {
        return Promise.reject(new Error('connection refused'));
      }
    }
    const down = new DownCache({ logger: silentLogger });
    const registry = new BundleRegistry({ knex: db.knex, cache: down });
    await expect(registry.activate(tenantId, 'rbac', '2.0.0')).rejects.toMatchObject({
      code: 'cache_unavailable',
      detail: expect.stringContaining('activate it again') as unknown,
    });
    expect((await loadActiveBundles(db.knex, tenantId)).map((b) => b.version)).toEqual(['2.0.0']);
    await down.close();
  });

  it('refuses unknown versions and bad bodies', async () => {
    expectProblem(
      await request(app)
        .post('/v1/tenants/active/bundles/rbac/activate')
        .set(admin)
        .send({ version: '3.0.0' }),
      404,
      'not_found',
    );
    const bad = expectProblem(
      await request(app)
        .post('/v1/tenants/active/bundles/rbac/activate')
        .set(admin)
        .send({ version: 'latest' }),
      400,
      'bad_request',
    );
    expect(bad.field).toBe('/version');
  });
});

describe('signatures', () => {
  const trusted = generateKeys();
  const stranger = generateKeys();

  beforeAll(async () => {
    await createTenant('signed');
    await createTenant('keyed');
  });

  function setKey(tenant: string, body: object, auth = admin): request.Test {
    return request(app).put(`/v1/tenants/${tenant}/signing-key`).set(auth).send(body);
  }

  it('requires signed bundles verified against the tenant key', async () => {
    const res = await setKey('signed', { public_key: trusted.publicKey, require_signed: true });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ public_key: trusted.publicKey, require_signed: true });

    const built = await rbacBundle();
    const unsigned = expectProblem(await push('signed', built.tarGz), 422, 'invalid_bundle');
    expect(unsigned.detail).toContain('.signatures.json is missing');

    const byStranger = signBundle(built.tarGz, stranger.privateKey);
    const bad = expectProblem(await push('signed', byStranger), 422, 'invalid_bundle');
    expect(bad.problems?.[0]).toMatch(/^bad signature: the signature does not match/);

    const signed = signBundle(built.tarGz, trusted.privateKey);
    const ok = await push('signed', signed).expect(201);
    expect(ok.body).toMatchObject({ signature_status: 'verified' });

    const tampered = withEntries(signed, [file('rbac/extra.rego', 'package rbac\n')]);
    const changed = expectProblem(await push('signed', tampered, admin, ''), 422, 'invalid_bundle');
    expect(changed.problems).toContain(
      'bad signature: rbac/extra.rego: in the bundle but not signed',
    );
  });

  it('refuses a bad signature even when signatures are optional', async () => {
    await setKey('keyed', { public_key: trusted.publicKey, require_signed: false }).expect(200);
    const built = await rbacBundle();
    expectProblem(
      await push('keyed', signBundle(built.tarGz, stranger.privateKey)),
      422,
      'invalid_bundle',
    );
    const unsigned = await push('keyed', built.tarGz).expect(201);
    expect(unsigned.body).toMatchObject({ signature_status: 'unsigned' });
  });

  it('checks the key it is given, and keeps it for the admin token', async () => {
    const notPem = expectProblem(
      await setKey('keyed', { public_key: 'hello', require_signed: false }),
      400,
      'bad_request',
    );
    expect(notPem.field).toBe('/public_key');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const rsaPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(
      expectProblem(
        await setKey('keyed', { public_key: rsaPem, require_signed: false }),
        400,
        'bad_request',
      ).detail,
    ).toContain('Ed25519');
    const noKey = expectProblem(
      await setKey('keyed', { public_key: null, require_signed: true }),
      400,
      'bad_request',
    );
    expect(noKey.field).toBe('/require_signed');
    const key = await createKey('keyed', ['bundles:write']);
    expectProblem(
      await setKey('keyed', { require_signed: false }, { Authorization: `Bearer ${key.key}` }),
      403,
      'forbidden',
    );
    await setKey('keyed', { require_signed: false }).expect(200, {
      public_key: null,
      require_signed: false,
    });
  });

  it('refuses uploads when signatures are required but no key is set', async () => {
    await db.knex('tenants').where({ slug: 'keyed' }).update({ require_signed_bundles: true });
    const body = expectProblem(
      await push('keyed', (await rbacBundle()).tarGz),
      422,
      'invalid_bundle',
    );
    expect(body.detail).toContain('has no signing key');
  });
});

describe('tenant isolation', () => {
  let ownKey: { id: string; key: string };
  let decideKey: { id: string; key: string };

  beforeAll(async () => {
    await createTenant('alpha');
    await createTenant('beta');
    ownKey = await createKey('alpha', ['bundles:write']);
    decideKey = await createKey('alpha', ['decide']);
    await push('beta', (await rbacBundle()).tarGz).expect(201);
  });

  it('lets a bundles:write key push to and read its own tenant', async () => {
    const auth = { Authorization: `Bearer ${ownKey.key}` };
    const res = await push('alpha', (await rbacBundle()).tarGz, auth).expect(201);
    expect(res.body).toMatchObject({ uploaded_by: `api-key:${ownKey.id}` });
    const list = await request(app).get('/v1/tenants/alpha/bundles').set(auth).expect(200);
    expect((list.body as { bundles: { name: string }[] }).bundles.map((b) => b.name)).toEqual([
      'rbac',
    ]);
  });

  it("never shows a key another tenant's bundles", async () => {
    const auth = { Authorization: `Bearer ${ownKey.key}` };
    const attempts = [
      request(app).get('/v1/tenants/beta/bundles').set(auth),
      request(app).get('/v1/tenants/beta/bundles/rbac/versions').set(auth),
      request(app).get('/v1/tenants/beta/bundles/rbac/versions/1.0.0').set(auth),
      request(app).get('/v1/tenants/beta/bundles/rbac/versions/1.0.0/download').set(auth),
      request(app)
        .post('/v1/tenants/beta/bundles/rbac/activate')
        .set(auth)
        .send({ version: '1.0.0' }),
      push('beta', (await rbacBundle()).tarGz, auth),
    ];
    for (const res of await Promise.all(attempts)) {
      const body = expectProblem(res, 403, 'forbidden');
      expect(body.detail).toContain('belongs to another tenant');
      for (const leak of ['bundles', 'versions', 'id', 'revision', 'manifest']) {
        expect(body).not.toHaveProperty(leak);
      }
    }
    expect(await loadActiveBundles(db.knex, await idOf('tenants', { slug: 'beta' }))).toEqual([]);
  });

  it('refuses keys without bundles:write, and requests without credentials', async () => {
    const scope = expectProblem(
      await request(app)
        .get('/v1/tenants/alpha/bundles')
        .set({ Authorization: `Bearer ${decideKey.key}` }),
      403,
      'forbidden',
    );
    expect(scope.detail).toContain('bundles:write');
    const none = await request(app).get('/v1/tenants/alpha/bundles');
    expectProblem(none, 401, 'unauthorized');
    expect(none.headers['www-authenticate']).toContain('Bearer');
  });
});

describe('activation through Redis', () => {
  it('reaches a subscriber on another Redis connection', async () => {
    const keyPrefix = `${uniqueName('bundles')}:`;
    const publisher = await RedisCache.connect({ url: redisUrl, keyPrefix, logger: silentLogger });
    const listener = await RedisCache.connect({ url: redisUrl, keyPrefix, logger: silentLogger });
    try {
      const redisApp = createApp({
        logger: silentLogger,
        db,
        cache: publisher,
        isShuttingDown: () => false,
        adminToken,
      });
      const tenant = await createTenant('redis-co');
      await push('redis-co', (await rbacBundle()).tarGz).expect(201);
      let deliver: (message: string) => void = () => undefined;
      const heard = new Promise<string>((resolve) => {
        deliver = resolve;
      });
      // Resolves once Redis has confirmed the subscription.
      await listener.subscribe('verdict:bundles', (message) => {
        deliver(message);
      });
      const res = await request(redisApp)
        .post('/v1/tenants/redis-co/bundles/rbac/activate')
        .set(admin)
        .send({ version: '1.0.0' })
        .expect(200);
      const message = JSON.parse(await heard) as Record<string, string>;
      expect(message).toEqual({
        tenantId: tenant.id,
        bundleId: await idOf('bundles', { tenant_id: tenant.id }),
        versionId: (res.body as Version).id,
      });
    } finally {
      await publisher.close();
      await listener.close();
    }
  });
});
