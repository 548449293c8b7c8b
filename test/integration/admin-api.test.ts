/**
 * The admin API (bootstrap token) over real HTTP on the real Postgres: every route, its
 * happy path and its bad input (malformed JSON, wrong content type, bad fields, unknown
 * tenant or key), who may call what, and that a key of one tenant never sees another's data.
 */
import express from 'express';
import request from 'supertest';
import { createApp, type VerdictApp } from '../../api/app';
import { openDatabase, type Database } from '../../api/db/database';
import { migrateUp } from '../../api/db/migrator';
import { requireApiKey } from '../../api/middleware/api-key';
import { problemHandler } from '../../api/middleware/problem';
import { ApiKeyService } from '../../api/services/api-keys';
import { MemoryCache } from '../../api/services/cache/memory';
import {
  createTestDatabase,
  silentLogger,
  testConfig,
  type TestDatabase,
} from './helpers/services';

const adminToken = 'admin-token-for-tests-0123456789';
const admin = { Authorization: `Bearer ${adminToken}` };

interface Problem {
  type: string;
  code: string;
  status: number;
  detail: string;
  field?: string;
  errors?: { field: string; message: string }[];
}

interface KeyBody {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  status: string;
  key?: string;
  revoked_at: string | null;
  expires_at: string | null;
}

let database: TestDatabase;
let db: Database;
let cache: MemoryCache;
let app: VerdictApp;

beforeAll(async () => {
  database = await createTestDatabase('admin_api');
  db = await openDatabase(testConfig({ DATABASE_URL: database.url }), silentLogger);
  await migrateUp(db);
  cache = new MemoryCache({ logger: silentLogger });
  app = createApp({
    logger: silentLogger,
    db,
    cache,
    isShuttingDown: () => false,
    adminToken,
  });
});
afterAll(async () => {
  await cache.close();
  await db.close();
  await database.drop();
});

function expectProblem(res: request.Response, status: number, code: string): Problem {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.body as Problem;
  expect(body.code).toBe(code);
  expect(body.type).toBe(`urn:verdict:problem:${code}`);
  return body;
}

async function createTenant(slug: string): Promise<{ id: string; slug: string }> {
  const res = await request(app)
    .post('/v1/tenants')
    .set(admin)
    .send({ slug, name: `${slug} Inc.` })
    .expect(201);
  return res.body as { id: string; slug: string };
}

async function createKey(tenant: string, scopes: string[], extra = {}): Promise<KeyBody> {
  const res = await request(app)
    .post(`/v1/tenants/${tenant}/keys`)
    .set(admin)
    .send({ name: `${tenant} key`, scopes, ...extra })
    .expect(201);
  return res.body as KeyBody;
}

describe('tenants', () => {
  it('creates a tenant and answers 201 with it and its location', async () => {
    const res = await request(app)
      .post('/v1/tenants')
      .set(admin)
      .send({ slug: 'acme', name: 'Acme Corp' })
      .expect(201);
    expect(res.headers.location).toBe('/v1/tenants/acme');
    expect(res.body).toMatchObject({
      slug: 'acme',
      name: 'Acme Corp',
      require_signed_bundles: false,
      audit_strict: false,
    });
    expect((res.body as { id: string }).id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('lists tenants by slug and reads one by slug or id', async () => {
    const globex = await createTenant('globex');
    const list = await request(app).get('/v1/tenants').set(admin).expect(200);
    const slugs = (list.body as { tenants: { slug: string }[] }).tenants.map((t) => t.slug);
    expect(slugs).toEqual([...slugs].sort());
    expect(slugs).toEqual(expect.arrayContaining(['acme', 'globex']));
    const bySlug = await request(app).get('/v1/tenants/globex').set(admin).expect(200);
    expect(bySlug.body).toEqual(globex);
    const byId = await request(app).get(`/v1/tenants/${globex.id}`).set(admin).expect(200);
    expect(byId.body).toEqual(globex);
  });

  it('answers 404 for an unknown tenant', async () => {
    const body = expectProblem(
      await request(app).get('/v1/tenants/nobody').set(admin),
      404,
      'not_found',
    );
    expect(body.detail).toContain('No tenant "nobody"');
  });

  it('keeps a default decision per tenant: system/main, another path, and back', async () => {
    const created = await request(app)
      .post('/v1/tenants')
      .set(admin)
      .send({ slug: 'defaults', name: 'Defaults' })
      .expect(201);
    expect(created.body).toMatchObject({ default_decision: 'system/main' });
    const named = await request(app)
      .post('/v1/tenants')
      .set(admin)
      .send({ slug: 'named-default', name: 'Named', default_decision: 'authz/allow' })
      .expect(201);
    expect(named.body).toMatchObject({ default_decision: 'authz/allow' });
    const changed = await request(app)
      .patch('/v1/tenants/defaults')
      .set(admin)
      .send({ default_decision: 'http-api/v2/main' })
      .expect(200);
    expect(changed.body).toMatchObject({ name: 'Defaults', default_decision: 'http-api/v2/main' });
    const reset = await request(app)
      .patch('/v1/tenants/defaults')
      .set(admin)
      .send({ default_decision: null })
      .expect(200);
    expect(reset.body).toMatchObject({ default_decision: 'system/main' });
    for (const bad of ['/system/main', 'a//b', 'has space', 'x'.repeat(256), 7]) {
      const problem = expectProblem(
        await request(app).patch('/v1/tenants/defaults').set(admin).send({ default_decision: bad }),
        400,
        'bad_request',
      );
      expect(problem.field).toBe('/default_decision');
    }
  });

  it('answers 409 for a slug that is taken', async () => {
    await createTenant('taken');
    const body = expectProblem(
      await request(app).post('/v1/tenants').set(admin).send({ slug: 'taken', name: 'Again' }),
      409,
      'conflict',
    );
    expect(body.field).toBe('/slug');
  });

  it.each([
    [{ slug: 'Bad Slug', name: 'x' }, '/slug'],
    [{ slug: '-dash', name: 'x' }, '/slug'],
    [{ slug: 'ok' }, '/name'],
    [{ slug: 'ok', name: '' }, '/name'],
    [{ slug: 'ok', name: 'x'.repeat(201) }, '/name'],
    [{ slug: 42, name: 'x' }, '/slug'],
    [{ slug: 'ok', name: 'x', plan: 'gold' }, '/plan'],
    [[{ slug: 'ok', name: 'x' }], ''],
  ])('refuses the body %j naming the field %s', async (body, field) => {
    const problem = expectProblem(
      await request(app).post('/v1/tenants').set(admin).send(body),
      400,
      'bad_request',
    );
    expect(problem.field).toBe(field);
    expect(problem.errors?.map((e) => e.field)).toContain(field);
    expect(problem.detail).toMatch(/^Invalid request body: /);
  });

  it('reports every bad field at once', async () => {
    const problem = expectProblem(
      await request(app).post('/v1/tenants').set(admin).send({ slug: 'A B', extra: 1 }),
      400,
      'bad_request',
    );
    expect(problem.errors?.map((e) => e.field).sort()).toEqual(['/extra', '/name', '/slug']);
  });

  it('refuses malformed JSON, a body that is not JSON, and no body at all', async () => {
    expectProblem(
      await request(app)
        .post('/v1/tenants')
        .set(admin)
        .set('Content-Type', 'application/json')
        .send('{"slug": "x",'),
      400,
      'invalid_json',
    );
    expectProblem(
      await request(app)
        .post('/v1/tenants')
        .set(admin)
        .set('Content-Type', 'text/plain')
        .send('slug=x'),
      415,
      'unsupported_media_type',
    );
    expectProblem(
      await request(app).post('/v1/tenants').set(admin).type('form').send({ slug: 'x' }),
      415,
      'unsupported_media_type',
    );
    const untyped = expectProblem(
      await request(app).post('/v1/tenants').set(admin).send('abc').unset('Content-Type'),
      415,
      'unsupported_media_type',
    );
    expect(untyped.detail).toContain('got no Content-Type');
    const empty = expectProblem(
      await request(app).post('/v1/tenants').set(admin),
      400,
      'bad_request',
    );
    expect(empty.detail).toContain('JSON request body');
  });

  it('refuses a body over the limit with 413', async () => {
    expectProblem(
      await request(app)
        .post('/v1/tenants')
        .set(admin)
        .send({ slug: 'big', name: 'x'.repeat(2 * 1024 * 1024) }),
      413,
      'payload_too_large',
    );
  });
});

describe('API keys', () => {
  it('creates a key: 201 with the plain key once, never cached', async () => {
    const res = await request(app)
      .post('/v1/tenants/acme/keys')
      .set(admin)
      .send({ name: 'checkout', scopes: ['decide', 'audit:read'], expires_in: '30d' })
      .expect(201);
    const key = res.body as KeyBody;
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.location).toBe(`/v1/tenants/acme/keys/${key.id}`);
    expect(key).toMatchObject({ name: 'checkout', scopes: ['decide', 'audit:read'] });
    expect(key.status).toBe('active');
    expect(key.key).toMatch(new RegExp(`^vdk_${key.prefix}_[A-Za-z0-9_-]{43}$`));
    const lifetime = Date.parse(key.expires_at ?? '') - Date.now();
    expect(lifetime).toBeGreaterThan(29 * 86_400_000);
    expect(lifetime).toBeLessThanOrEqual(30 * 86_400_000);
    expect(res.body).not.toHaveProperty('secret_hash');
  });

  it('lists keys without their secrets', async () => {
    const made = await createKey('globex', ['bundles:write']);
    const res = await request(app).get('/v1/tenants/globex/keys').set(admin).expect(200);
    const keys = (res.body as { keys: KeyBody[] }).keys;
    expect(keys.map((k) => k.id)).toContain(made.id);
    for (const key of keys) {
      expect(Object.keys(key).sort()).toEqual(
        [
          'created_at',
          'expires_at',
          'id',
          'last_used_at',
          'name',
          'prefix',
          'revoked_at',
          'scopes',
          'status',
          'tenant_id',
        ].sort(),
      );
    }
    expect(JSON.stringify(res.body)).not.toContain((made.key ?? '').slice(-43));
  });

  it('revokes a key: 200 with it, after which it no longer authenticates', async () => {
    const made = await createKey('acme', ['decide']);
    await request(app)
      .get('/v1/tenants/acme')
      .set('Authorization', `Bearer ${made.key ?? ''}`)
      .expect(200);
    const res = await request(app)
      .delete(`/v1/tenants/acme/keys/${made.id}`)
      .set(admin)
      .expect(200);
    expect((res.body as KeyBody).status).toBe('revoked');
    expect((res.body as KeyBody).revoked_at).not.toBeNull();
    const refused = expectProblem(
      await request(app)
        .get('/v1/tenants/acme')
        .set('Authorization', `Bearer ${made.key ?? ''}`),
      401,
      'unauthorized',
    );
    expect(refused.detail).toContain('revoked');
    // Revoking again is harmless.
    await request(app).delete(`/v1/tenants/acme/keys/${made.id}`).set(admin).expect(200);
  });

  it("answers 404 for an unknown key, a malformed id, or another tenant's key", async () => {
    const globexKey = await createKey('globex', ['decide']);
    for (const id of ['00000000-0000-0000-0000-000000000000', 'not-an-id', globexKey.id]) {
      expectProblem(
        await request(app).delete(`/v1/tenants/acme/keys/${id}`).set(admin),
        404,
        'not_found',
      );
    }
    expectProblem(
      await request(app).delete(`/v1/tenants/nobody/keys/${globexKey.id}`).set(admin),
      404,
      'not_found',
    );
    // The globex key still works.
    await request(app)
      .get('/v1/tenants/globex')
      .set('Authorization', `Bearer ${globexKey.key ?? ''}`)
      .expect(200);
  });

  it.each([
    [
      { name: 'k', scopes: ['admin'] },
      '/scopes/0',
      'must be one of decide, bundles:write, audit:read',
    ],
    [{ name: 'k', scopes: [] }, '/scopes', 'must NOT have fewer than 1 items'],
    [{ name: 'k', scopes: ['decide', 'decide'] }, '/scopes', 'must NOT have duplicate items'],
    [{ name: 'k', scopes: 'decide' }, '/scopes', 'must be array'],
    [{ scopes: ['decide'] }, '/name', 'is required'],
    [{ name: 'k', scopes: ['decide'], expires_in: 'soon' }, '/expires_in', 'must match pattern'],
    [{ name: 'k', scopes: ['decide'], expires_in: '0d' }, '/expires_in', 'must match pattern'],
    [{ name: 'k', scopes: ['decide'], expires_in: '3651d' }, '/expires_in', 'at most 3650d'],
    [{ name: 'k', scopes: ['decide'], expires_in: 30 }, '/expires_in', 'must be string'],
  ])('refuses the key body %j naming %s', async (body, field, message) => {
    const problem = expectProblem(
      await request(app).post('/v1/tenants/acme/keys').set(admin).send(body),
      400,
      'bad_request',
    );
    expect(problem.field).toBe(field);
    expect(problem.detail).toContain(message);
  });

  it('answers 404 when creating or listing keys of an unknown tenant', async () => {
    expectProblem(
      await request(app)
        .post('/v1/tenants/nobody/keys')
        .set(admin)
        .send({ name: 'k', scopes: ['decide'] }),
      404,
      'not_found',
    );
    expectProblem(await request(app).get('/v1/tenants/nobody/keys').set(admin), 404, 'not_found');
  });
});

describe('who may call the admin API', () => {
  it('asks for credentials with 401 and a Bearer challenge', async () => {
    const cases: [string, string | undefined][] = [
      ['/v1/tenants', undefined],
      ['/v1/tenants', 'Bearer wrong-token'],
      ['/v1/tenants', `Basic ${Buffer.from(`admin:${adminToken}`).toString('base64')}`],
      ['/v1/tenants', 'Bearer'],
      ['/v1/tenants/acme', undefined],
      ['/v1/tenants/acme', `Bearer ${adminToken}x`],
      ['/v1/tenants/acme', 'Bearer vdk_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
      ['/v1/tenants/acme', 'Bearer vdk_malformed'],
    ];
    for (const [path, authorization] of cases) {
      const req = request(app).get(path);
      const res =
        authorization === undefined ? await req : await req.set('Authorization', authorization);
      const body = expectProblem(res, 401, 'unauthorized');
      expect(res.headers['www-authenticate']).toBe('Bearer realm="verdict"');
      expect(body.detail).not.toContain('acme');
      expect(JSON.stringify(body)).not.toContain('Acme Corp');
    }
  });

  it('never tells an unauthenticated caller whether a tenant exists', async () => {
    const known = await request(app).get('/v1/tenants/acme/keys');
    const unknown = await request(app).get('/v1/tenants/nobody/keys');
    expect([known.status, unknown.status]).toEqual([401, 401]);
    expect((known.body as Problem).detail).toBe((unknown.body as Problem).detail);
  });

  it('lets a tenant key read its own tenant only, whatever its scopes', async () => {
    const acmeKey = await createKey('acme', ['audit:read']);
    const auth = { Authorization: `Bearer ${acmeKey.key ?? ''}` };
    const own = await request(app).get('/v1/tenants/acme').set(auth).expect(200);
    expect((own.body as { slug: string }).slug).toBe('acme');
    const acmeId = (own.body as { id: string }).id;
    await request(app).get(`/v1/tenants/${acmeId}`).set(auth).expect(200);

    // Another tenant, existing or not: the same 403, with none of its data.
    for (const path of ['/v1/tenants/globex', '/v1/tenants/nobody']) {
      const body = expectProblem(await request(app).get(path).set(auth), 403, 'forbidden');
      expect(body.detail).toContain('another tenant');
      expect(JSON.stringify(body)).not.toMatch(/globex Inc\.|"id"/);
    }
  });

  it('keeps tenant keys off the admin-token routes, even for their own tenant', async () => {
    const acmeKey = await createKey('acme', ['decide', 'bundles:write', 'audit:read']);
    const auth = { Authorization: `Bearer ${acmeKey.key ?? ''}` };
    const attempts = [
      request(app).get('/v1/tenants').set(auth),
      request(app).post('/v1/tenants').set(auth).send({ slug: 'mine', name: 'Mine' }),
      request(app).get('/v1/tenants/acme/keys').set(auth),
      request(app).get('/v1/tenants/globex/keys').set(auth),
      request(app)
        .post('/v1/tenants/acme/keys')
        .set(auth)
        .send({ name: 'k', scopes: ['decide'] }),
      request(app).delete(`/v1/tenants/globex/keys/${acmeKey.id}`).set(auth),
    ];
    for (const res of await Promise.all(attempts)) {
      const body = expectProblem(res, 403, 'forbidden');
      expect(body.detail).toMatch(
        /only platform admins may do this|or the admin token|belongs to another tenant/,
      );
      expect(JSON.stringify(body)).not.toContain('globex Inc.');
    }
    expect((await request(app).get('/v1/tenants/mine').set(admin)).status).toBe(404);
  });

  it('answers 503 on every admin route when no admin token is configured', async () => {
    const disabled = createApp({
      logger: silentLogger,
      db,
      cache,
      isShuttingDown: () => false,
    });
    const attempts = [
      request(disabled).get('/v1/tenants'),
      request(disabled).post('/v1/tenants').send({ slug: 'x', name: 'x' }),
      request(disabled).get('/v1/tenants/acme').set(admin),
      request(disabled).get('/v1/tenants/acme/keys').set(admin),
      request(disabled)
        .post('/v1/tenants/acme/keys')
        .send({ name: 'k', scopes: ['decide'] }),
      request(disabled).delete('/v1/tenants/acme/keys/x'),
    ];
    for (const res of await Promise.all(attempts)) {
      const body = expectProblem(res, 503, 'admin_api_disabled');
      expect(body.detail).toBe('admin API disabled: set VERDICT_ADMIN_TOKEN');
    }
    // A tenant key still reads its own tenant.
    const acmeKey = await createKey('acme', ['decide']);
    await request(disabled)
      .get('/v1/tenants/acme')
      .set('Authorization', `Bearer ${acmeKey.key ?? ''}`)
      .expect(200);
  });
});

describe('API-key middleware for tenant routes', () => {
  function guarded(keys: ApiKeyService): express.Express {
    const guardedApp = express();
    guardedApp.post('/decide', requireApiKey(keys, 'decide'), (req, res) => {
      res.json(req.apiKey);
    });
    guardedApp.get('/any', requireApiKey(keys), (req, res) => {
      res.json(req.apiKey);
    });
    guardedApp.use(problemHandler(silentLogger));
    return guardedApp;
  }

  it('puts the tenant, key and scopes on the request', async () => {
    const keys = new ApiKeyService({ knex: db.knex, logger: silentLogger });
    const made = await createKey('acme', ['decide']);
    const res = await request(guarded(keys))
      .post('/decide')
      .set('Authorization', `bearer ${made.key ?? ''}`)
      .expect(200);
    expect(res.body).toEqual({
      tenantId: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
      tenantSlug: 'acme',
      keyId: made.id,
      scopes: ['decide'],
    });
  });

  it('answers 401 without a valid key and 403 without the scope', async () => {
    const keys = new ApiKeyService({ knex: db.knex, logger: silentLogger });
    const guardedApp = guarded(keys);
    const auditor = await createKey('acme', ['audit:read']);
    const expired = await createKey('acme', ['decide'], { expires_in: '1s' });
    const missing = expectProblem(await request(guardedApp).post('/decide'), 401, 'unauthorized');
    expect(missing.detail).toContain('Authorization: Bearer vdk_');
    const malformed = expectProblem(
      await request(guardedApp).post('/decide').set('Authorization', `Bearer ${adminToken}`),
      401,
      'unauthorized',
    );
    expect(malformed.detail).toContain('vdk_<prefix>_<secret>');
    const scope = expectProblem(
      await request(guardedApp)
        .post('/decide')
        .set('Authorization', `Bearer ${auditor.key ?? ''}`),
      403,
      'forbidden',
    );
    expect(scope.detail).toContain('"decide" scope');
    await request(guardedApp)
      .get('/any')
      .set('Authorization', `Bearer ${auditor.key ?? ''}`)
      .expect(200);
    // Expiry is checked against the clock of a service that is a day ahead.
    const later = new ApiKeyService({
      knex: db.knex,
      logger: silentLogger,
      clock: () => Date.now() + 86_400_000,
    });
    const body = expectProblem(
      await request(guarded(later))
        .get('/any')
        .set('Authorization', `Bearer ${expired.key ?? ''}`),
      401,
      'unauthorized',
    );
    expect(body.detail).toContain('expired');
  });

  it('answers 503, not 401, when the database cannot be asked', async () => {
    const closedDb = await openDatabase(testConfig({ DATABASE_URL: database.url }), silentLogger);
    const keys = new ApiKeyService({ knex: closedDb.knex, logger: silentLogger });
    await closedDb.close();
    const made = await createKey('acme', ['decide']);
    expectProblem(
      await request(guarded(keys))
        .post('/decide')
        .set('Authorization', `Bearer ${made.key ?? ''}`),
      503,
      'database_unavailable',
    );
  });
});
