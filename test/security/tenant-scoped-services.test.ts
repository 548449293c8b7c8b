/**
 * Every tenant-scoped service call runs in a tenant-scoped transaction. The services here use
 * a database login that holds no privilege on any table, only membership of the tenant role
 * (without inheriting its privileges):
 * a query that skipped `withTenant` would fail with "permission denied". Each call succeeds,
 * sees its own tenant's data, and another tenant's call sees none of it. Real Postgres only:
 * the embedded server knows a single user.
 */
import type { Knex } from 'knex';
import { createKnex, openDatabase, type Database } from '../../api/db/database';
import { migrateUp } from '../../api/db/migrator';
import { tenantRole } from '../../api/db/tenant-scope';
import { ApiKeyService } from '../../api/services/api-keys';
import { chainRow, type AuditRow } from '../../api/services/audit/chain';
import { findDecision, scanDecisions, searchDecisions } from '../../api/services/audit/search';
import { decisionCounts } from '../../api/services/audit/stats';
import { insertRows } from '../../api/services/audit/store';
import { verifyChain } from '../../api/services/audit/verify';
import { BundleRegistry, loadActiveBundles } from '../../api/services/bundles';
import { MemoryCache } from '../../api/services/cache/memory';
import { CaslRulesService } from '../../api/services/casl/user-rules';
import { ReplayService } from '../../api/services/replay';
import { RolloutService } from '../../api/services/rollouts/service';
import { TenantService } from '../../api/services/tenants';
import { caslBundle, rbacBundle } from '../integration/bundles/fixtures';
import {
  createTestDatabase,
  silentLogger,
  uniqueName,
  testConfig,
  type TestDatabase,
} from '../integration/helpers/services';

jest.setTimeout(60_000);

let database: TestDatabase;
let owner: Database;
let app: Knex;
let appRole: string;
let acme: string;
let globex: string;
const cache = new MemoryCache({ logger: silentLogger });

/** `count` chained decision rows of `tenantId` at rbac/allow, written as the audit writer does. */
async function recordDecisions(tenantId: string, count: number): Promise<AuditRow[]> {
  const rows: AuditRow[] = [];
  for (let i = 0; i < count; i++) {
    rows.push(
      chainRow(
        {
          tenantId,
          path: 'rbac/allow',
          bundleName: 'rbac',
          bundleVersion: '1.0.0',
          input: { user: `user${String(i)}` },
          result: i % 2 === 0,
          cache: 'miss',
          durationUs: 10,
        },
        rows.at(-1),
      ),
    );
  }
  await insertRows(owner.knex, rows, 10_000);
  return rows;
}

beforeAll(async () => {
  database = await createTestDatabase('scoped_services');
  owner = await openDatabase(testConfig({ DATABASE_URL: database.url }), silentLogger);
  await migrateUp(owner);
  appRole = uniqueName('app');
  // NOINHERIT: the login holds the tenant role's privileges only after `set role`.
  await owner.knex.raw(`create role "${appRole}" login noinherit`);
  await owner.knex.raw(`grant ${tenantRole} to "${appRole}"`);
  const url = new URL(database.url);
  url.username = appRole;
  app = createKnex(url.toString(), 4, silentLogger);
  const tenants = new TenantService(owner.knex);
  acme = (await tenants.create({ slug: 'acme', name: 'Acme' })).id;
  globex = (await tenants.create({ slug: 'globex', name: 'Globex' })).id;
});
afterAll(async () => {
  await app.destroy();
  await owner.knex.raw(`drop role "${appRole}"`);
  await owner.close();
  await database.drop();
});

it('refuses the login any query outside a tenant-scoped transaction', async () => {
  for (const table of ['tenants', 'bundles', 'api_keys', 'decisions', 'rollouts']) {
    await expect(app(table).select()).rejects.toThrow(/permission denied/);
  }
});

describe('the bundle registry', () => {
  const registry = (): BundleRegistry => new BundleRegistry({ knex: app, cache });

  it('uploads, lists, reads, downloads and activates within the tenant', async () => {
    const v1 = await rbacBundle();
    const uploaded = await registry().upload(acme, v1.tarGz, 'tester');
    expect(uploaded).toMatchObject({ created: true, version: { bundle: 'rbac', stable: false } });
    expect(await registry().upload(acme, v1.tarGz, 'tester')).toMatchObject({ created: false });
    expect((await registry().listBundles(acme)).map((b) => b.name)).toEqual(['rbac']);
    expect(await registry().listVersions(acme, 'rbac')).toHaveLength(1);
    expect(Buffer.compare(await registry().download(acme, 'rbac', '1.0.0'), v1.tarGz)).toBe(0);
    expect(await registry().activate(acme, 'rbac', '1.0.0')).toMatchObject({ stable: true });
    expect(await registry().setSigning(acme, null, false)).toEqual({
      public_key: null,
      require_signed: false,
    });
    expect((await loadActiveBundles(app, acme)).map((b) => b.name)).toEqual(['rbac']);
  });

  it("shows another tenant none of it, and does not let it activate the first tenant's bundle", async () => {
    expect(await registry().listBundles(globex)).toEqual([]);
    await expect(registry().getVersion(globex, 'rbac', '1.0.0')).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(registry().activate(globex, 'rbac', '1.0.0')).rejects.toMatchObject({
      code: 'not_found',
    });
    expect(await loadActiveBundles(app, globex)).toEqual([]);
  });

  it("serves a user's CASL rules from the tenant's own active bundle only", async () => {
    const casl = await caslBundle();
    await registry().upload(acme, casl.tarGz, 'tester');
    await registry().activate(acme, 'documents', '1.0.0');
    const service = new CaslRulesService(app);
    const rules = await service.rulesFor(acme, 'documents', { id: 'u1', roles: ['viewer'] }, true);
    expect(rules.bundle).toMatchObject({ name: 'documents', version: '1.0.0' });
    expect(rules.rules.length).toBeGreaterThan(0);
    await expect(
      service.rulesFor(globex, 'documents', { id: 'u1', roles: ['viewer'] }, true),
    ).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('API keys', () => {
  it('creates, lists and revokes keys of the tenant only', async () => {
    const keys = new ApiKeyService({ knex: app, logger: silentLogger });
    const { key } = await keys.create(acme, { name: 'backend', scopes: ['decide'] });
    expect((await keys.list(acme)).map((k) => k.id)).toEqual([key.id]);
    expect(await keys.list(globex)).toEqual([]);
    expect(await keys.revoke(globex, key.id)).toBeUndefined();
    expect(await keys.revoke(acme, key.id)).toMatchObject({ id: key.id, status: 'revoked' });
  });
});

describe('the decision log', () => {
  let acmeRows: AuditRow[];
  let globexRows: AuditRow[];
  const range = { from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() + 3_600_000) };

  beforeAll(async () => {
    acmeRows = await recordDecisions(acme, 5);
    globexRows = await recordDecisions(globex, 2);
  });

  it('searches, exports page by page, finds and verifies within the tenant', async () => {
    const page = await searchDecisions(app, acme, {}, { limit: 10 });
    expect(page.rows.map((r) => r.seq)).toEqual([5, 4, 3, 2, 1]);
    expect(new Set(page.rows.map((r) => r.tenantId))).toEqual(new Set([acme]));
    const pages: number[] = [];
    for await (const rows of scanDecisions(app, acme, {}, 2)) pages.push(rows.length);
    expect(pages).toEqual([2, 2, 1]);
    const [first] = acmeRows as [AuditRow];
    expect(await findDecision(app, acme, first.decisionId)).toMatchObject({ seq: 1 });
    expect(await verifyChain(app, acme, { pageSize: 2 })).toMatchObject({ ok: true, rows: 5 });
  });

  it("finds none of another tenant's decisions", async () => {
    const [foreign] = globexRows as [AuditRow];
    expect(await findDecision(app, acme, foreign.decisionId)).toBeUndefined();
    expect((await searchDecisions(app, globex, {}, { limit: 10 })).rows).toHaveLength(2);
    expect(await verifyChain(app, globex)).toMatchObject({ ok: true, rows: 2 });
  });

  it('counts allowed and denied decisions of the tenant', async () => {
    const count = async (tenantId: string) =>
      (await decisionCounts(app, tenantId, { ...range, bucket: 'day', filters: {} })).reduce(
        (sum, b) => sum + b.allowed + b.denied + b.other,
        0,
      );
    expect([await count(acme), await count(globex)]).toEqual([5, 2]);
  });

  it("replays the tenant's own recorded decisions", async () => {
    const replay = new ReplayService({ knex: app });
    const candidate = await rbacBundle({ version: '9.0.0' });
    const of = (tenantId: string) =>
      replay.replay({ tenantId, candidate: candidate.tarGz, ...range });
    expect((await of(acme)).replayed).toBe(5);
    expect((await of(globex)).replayed).toBe(2);
  });
});

describe('rollouts', () => {
  const rollouts = (): RolloutService => new RolloutService({ knex: app, cache });

  it('starts, reports, promotes, rolls back and aborts within the tenant', async () => {
    const registry = new BundleRegistry({ knex: app, cache });
    await registry.upload(acme, (await rbacBundle({ version: '1.1.0' })).tarGz, 'tester');
    const canary = { version: '1.1.0', mode: 'canary', percent: 10 } as const;
    expect(await rollouts().start(acme, 'rbac', canary, 'tester')).toMatchObject({
      status: 'active',
      candidate_version: '1.1.0',
    });
    const [report] = await rollouts().status(acme);
    expect(report).toMatchObject({ bundle: 'rbac', stats: { comparisons: 0 } });
    expect(await rollouts().promote(acme, 'rbac', 'tester')).toMatchObject({
      status: 'promoted',
    });
    // No active rollout: rollback undoes the promotion.
    expect(await rollouts().rollback(acme, 'rbac', 'tester')).toMatchObject({
      status: 'rolled_back',
    });
    await rollouts().start(acme, 'rbac', { version: '1.1.0', mode: 'shadow' }, 'tester');
    expect(await rollouts().abort(acme, 'rbac', 'tester')).toMatchObject({ status: 'aborted' });
    expect(await rollouts().history(acme, 'rbac')).toHaveLength(2);
  });

  it("neither shows nor touches another tenant's rollouts", async () => {
    expect(await rollouts().status(globex)).toEqual([]);
    await expect(rollouts().history(globex, 'rbac')).rejects.toMatchObject({ code: 'not_found' });
    await expect(
      rollouts().start(globex, 'rbac', { version: '1.1.0', mode: 'shadow' }, 'intruder'),
    ).rejects.toMatchObject({ code: 'not_found' });
  });
});
