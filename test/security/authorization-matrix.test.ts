/**
 * The authorization matrix: every admin route × every kind of principal × its own tenant and
 * another one, against the table in authorization-matrix.json (the specification, written
 * apart from the policy's data). Real HTTP, real Postgres, the platform policy compiled by
 * Verdict's toolchain; every answer must also land in the platform's decision-log chain.
 *
 * Users reach the routes through access tokens; how those are issued and checked is the
 * identity service's business (its own tests). Here a verifier maps test tokens to user
 * principals, so the table can cover every role with and without MFA.
 */
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { createApp, type VerdictApp } from '../../api/app';
import { platformTenantId } from '../../api/auth/access';
import type { AccessTokenVerifier, Principal, UserRole } from '../../api/auth/principal';
import { openDatabase, type Database } from '../../api/db/database';
import { migrateUp } from '../../api/db/migrator';
import { VerdictError } from '../../api/errors';
import type { ApiKeyScope } from '../../api/models/api-key';
import { ApiKeyService } from '../../api/services/api-keys';
import { createAuditWriter, verifyChain, type AuditWriter } from '../../api/services/audit';
import { MemoryCache } from '../../api/services/cache/memory';
import { openIdentity } from '../../api/services/identity';
import type { IdentityService } from '../../api/services/identity/service';
import { TenantService } from '../../api/services/tenants';
import { rbacBundle } from '../integration/bundles/fixtures';
import {
  createTestDatabase,
  silentLogger,
  tempDir,
  testConfig,
  type TestDatabase,
} from '../integration/helpers/services';

interface Row {
  readonly route: string;
  readonly body?: Record<string, unknown>;
  /** Sends an empty `application/gzip` body (bundle uploads). */
  readonly bundle?: boolean;
  readonly own: readonly string[];
}

interface Matrix {
  readonly principals: readonly string[];
  readonly routes: readonly Row[];
}

const matrix = JSON.parse(
  fs.readFileSync(path.join(__dirname, 'authorization-matrix.json'), 'utf8'),
) as Matrix;

const adminToken = 'matrix-admin-token-0123456789abcdef';

jest.setTimeout(180_000);

let database: TestDatabase;
let db: Database;
let audit: AuditWriter;
let dataDir: ReturnType<typeof tempDir>;
let app: VerdictApp;
let identity: IdentityService;
const tenantIds = new Map<string, string>();
/** Bearer token of each principal, by tenant slug. */
const tokens = new Map<string, Map<string, string>>();

/** Test tokens `test-user.<role>.<tenant slug>.<mfa>` stand for users of that role. */
const testUsers: AccessTokenVerifier = {
  looksLikeAccessToken: (token) => token.startsWith('test-user.'),
  verify: (token) => {
    const [, role, slug, mfa] = token.split('.');
    const tenantId = tenantIds.get(slug ?? '');
    if (role === undefined || tenantId === undefined) {
      return Promise.reject(new VerdictError('unauthorized', 'unknown test user'));
    }
    const principal: Principal = {
      kind: 'user',
      id: `${role}@${slug ?? ''}`,
      tenantId,
      roles: [role as UserRole],
      scopes: [],
      sessionId: 'session',
      mfa: mfa === 'mfa',
    };
    return Promise.resolve(principal);
  },
};

beforeAll(async () => {
  database = await createTestDatabase('authz_matrix');
  db = await openDatabase(testConfig({ DATABASE_URL: database.url }), silentLogger);
  await migrateUp(db);
  dataDir = tempDir('authz-matrix');
  audit = await createAuditWriter({ knex: db.knex, dataDir: dataDir.path, logger: silentLogger });
  const cache = new MemoryCache({ logger: silentLogger });
  const apiKeys = new ApiKeyService({ knex: db.knex, logger: silentLogger });
  const tenants = new TenantService(db.knex);
  identity = await openIdentity({
    config: testConfig({ DATABASE_URL: database.url, VERDICT_DATA_DIR: dataDir.path }),
    knex: db.knex,
    logger: silentLogger,
  });
  app = createApp({
    logger: silentLogger,
    db,
    cache,
    isShuttingDown: () => false,
    adminToken,
    apiKeys,
    identity,
    accessTokens: testUsers,
    audit,
  });
  const bundle = await rbacBundle();
  for (const slug of ['acme', 'globex']) {
    const tenant = await tenants.create({ slug, name: slug });
    tenantIds.set(slug, tenant.id);
    const own = new Map<string, string>([
      ['platform-admin', adminToken],
      ['tenant-admin', `test-user.tenant-admin.${slug}.mfa`],
      ['tenant-admin-no-mfa', `test-user.tenant-admin.${slug}.none`],
      ['policy-author', `test-user.policy-author.${slug}.mfa`],
      ['auditor', `test-user.auditor.${slug}.mfa`],
    ]);
    for (const scope of ['decide', 'bundles:write', 'audit:read'] as ApiKeyScope[]) {
      const { plainKey } = await apiKeys.create(tenant.id, { name: scope, scopes: [scope] });
      own.set(`app:${scope}`, plainKey);
    }
    tokens.set(slug, own);
    const pushed = await request(app)
      .post(`/v1/tenants/${slug}/bundles`)
      .set('Authorization', `Bearer ${adminToken}`)
      .set('Content-Type', 'application/gzip')
      .send(bundle.tarGz);
    expect(pushed.status).toBe(201);
  }
});

afterAll(async () => {
  await identity.close();
  await audit.close();
  await db.close();
  await database.drop();
  dataDir.remove();
});

function send(row: Row, tenant: string, token: string): request.Test {
  const [method, template] = row.route.split(' ') as [string, string];
  const url = template.replace('{t}', tenant);
  const agent = request(app);
  const verb = method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete';
  const test = agent[verb](url).set('Authorization', `Bearer ${token}`);
  if (row.bundle === true)
    return test.set('Content-Type', 'application/gzip').send(Buffer.alloc(0));
  if (row.body !== undefined) return test.send(row.body);
  return test;
}

it('matches the table for every route, principal and tenant', async () => {
  const failures: string[] = [];
  let allowed = 0;
  let denied = 0;
  for (const row of matrix.routes) {
    const targets = row.route.includes('{t}') ? ['own', 'other'] : ['own'];
    for (const principal of matrix.principals) {
      for (const target of targets) {
        const token = tokens.get('acme')?.get(principal) as string;
        const res = await send(row, target === 'own' ? 'acme' : 'globex', token);
        const expected =
          target === 'own' ? row.own.includes(principal) : principal === 'platform-admin';
        if (expected) allowed++;
        else denied++;
        const ok = expected
          ? res.status !== 401 && res.status !== 403 && res.status < 500
          : res.status === 403 && (res.body as { code?: string }).code === 'forbidden';
        if (!ok) {
          failures.push(
            `${row.route} as ${principal} on ${target} tenant: expected ${expected ? 'allow' : 'deny'}, got ${res.status} ${JSON.stringify(res.body)}`,
          );
        }
      }
    }
  }
  console.log(
    `authorization matrix: ${allowed + denied} cases (${matrix.routes.length} routes × ${matrix.principals.length} principals × own/other tenant): ${allowed} allowed, ${denied} denied`,
  );
  expect(failures).toEqual([]);
});

it('gives a real login the answers its role and MFA state call for', async () => {
  // A login's access token goes through the identity service, not the test verifier.
  const real = createApp({
    logger: silentLogger,
    db,
    cache: new MemoryCache({ logger: silentLogger }),
    isShuttingDown: () => false,
    adminToken,
    identity,
    audit,
  });
  const password = 'correct horse battery staple 42';
  const created = await request(real)
    .post('/v1/tenants/acme/users')
    .set('Authorization', `Bearer ${adminToken}`)
    .send({ email: 'admin@acme.example', role: 'tenant-admin', password });
  expect(created.status).toBe(201);
  const login = await request(real)
    .post('/v1/auth/login')
    .send({ tenant: 'acme', email: 'admin@acme.example', password });
  expect(login.status).toBe(200);
  const token = (login.body as { access_token: string }).access_token;
  const as = (method: 'get' | 'post', url: string) =>
    request(real)[method](url).set('Authorization', `Bearer ${token}`);
  expect((await as('get', '/v1/tenants/acme/users')).status).toBe(200);
  expect((await as('get', '/v1/tenants/acme/decisions')).status).toBe(200);
  // No MFA in this session: changing who may do what is refused.
  const keys = await as('post', '/v1/tenants/acme/keys').send({ name: 'k', scopes: ['decide'] });
  expect(keys.status).toBe(403);
  expect((keys.body as { detail: string }).detail).toContain('second factor');
  // Another tenant, and platform routes, are out of reach.
  expect((await as('get', '/v1/tenants/globex/users')).status).toBe(403);
  expect((await as('get', '/v1/platform/users')).status).toBe(403);
  expect((await as('get', '/v1/tenants')).status).toBe(403);
});

it('lists every admin route the server has in the table', () => {
  const stack = (app as unknown as { router: { stack: Layer[] } }).router.stack;
  const tableRoutes = new Set(
    matrix.routes.map((row) => {
      const [method, url] = row.route.split(' ') as [string, string];
      return `${method} ${url.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/u, ':id')}`;
    }),
  );
  const missing: string[] = [];
  const routes = adminRoutes(stack);
  expect(routes.length).toBeGreaterThanOrEqual(matrix.routes.length);
  for (const route of routes) {
    const normalized = route
      .replace(':tenant', '{t}')
      .replace(':name', 'rbac')
      .replace(':version', '1.0.0')
      .replace(/:keyId|:userId|:id/u, ':id');
    if (!tableRoutes.has(normalized)) missing.push(route);
  }
  expect(missing).toEqual([]);
});

it('logs every answer in the platform chain, which verifies', async () => {
  await audit.flush();
  const rows = await db.knex('decisions').where('tenant_id', platformTenantId).count('* as n');
  expect(Number((rows[0] as { n: string }).n)).toBeGreaterThan(matrix.routes.length * 8);
  expect(await verifyChain(db.knex, platformTenantId)).toMatchObject({ ok: true });
  const denied = await db
    .knex('decisions')
    .where('tenant_id', platformTenantId)
    .where('allowed', false)
    .first<{ input: { action: string } } | undefined>('input');
  expect(denied?.input.action).toEqual(expect.any(String));
});

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** `METHOD path` of every route under /v1/tenants and /v1/platform, from Express's stack. */
function adminRoutes(stack: readonly Layer[]): string[] {
  const out: string[] = [];
  for (const layer of stack) {
    if (layer.route !== undefined) {
      if (!/^\/v1\/(tenants|platform)/u.test(layer.route.path)) continue;
      for (const method of Object.keys(layer.route.methods)) {
        out.push(`${method.toUpperCase()} ${layer.route.path}`);
      }
    } else if (layer.handle?.stack !== undefined) {
      out.push(...adminRoutes(layer.handle.stack));
    }
  }
  return out;
}
