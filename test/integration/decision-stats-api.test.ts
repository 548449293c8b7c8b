/**
 * Allow/deny counts over time on the real Postgres, over HTTP: rows written by the real audit
 * writer, counted per minute, hour and day and compared with counts made here in TypeScript
 * from the same seed; empty buckets present with zeros; the range's ends; each filter; the
 * default range; bad parameters; and access (admin token, audit:read keys, other tenants).
 */
import { PlatformAccess } from '../../api/auth/access';
import { randomUUID } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { createApp, type VerdictApp } from '../../api/app';
import { openDatabase, type Database } from '../../api/db/database';
import { migrateUp } from '../../api/db/migrator';
import { problemHandler } from '../../api/middleware/problem';
import { decisionStatsRouter } from '../../api/routes/decision-stats';
import type { ApiKeyScope } from '../../api/models/api-key';
import { ApiKeyService } from '../../api/services/api-keys';
import { TenantService } from '../../api/services/tenants';
import {
  createAuditWriter,
  deriveAllowed,
  type AuditEntry,
  type AuditWriter,
  type JsonValue,
} from '../../api/services/audit';
import { bucketMs, type StatsBucket } from '../../api/services/audit/stats';
import { MemoryCache } from '../../api/services/cache/memory';
import {
  createTestDatabase,
  silentLogger,
  tempDir,
  testConfig,
  type TestDatabase,
} from './helpers/services';

jest.setTimeout(120_000);

const adminToken = 'decision-stats-admin-token-0123456789';
const admin = { Authorization: `Bearer ${adminToken}` };
const base = Date.parse('2026-11-27T08:00:00.000Z');

interface Counts {
  start: string;
  allowed: number;
  denied: number;
  other: number;
}

interface Stats {
  bucket: StatsBucket;
  from: string;
  to: string;
  buckets: Counts[];
  totals: { allowed: number; denied: number; other: number };
}

let database: TestDatabase;
let db: Database;
let cache: MemoryCache;
let app: VerdictApp;
let dataDir: { path: string; remove: () => void };
let writer: AuditWriter;
let acmeId = '';
const keys = { audit: '', decide: '', globexAudit: '' };

const rolloutId = '6f1c2a4e-0b7d-4c39-9e55-3d2b8f1a7c60';

/**
 * The i-th decision of the seed: every filter and every outcome picks a subset. Every sixth
 * is served under a rollout and gets a shadow comparison row beside it.
 */
function seedEntries(i: number): AuditEntry[] {
  let result: unknown = { allow: i % 3 !== 0 };
  if (i % 7 === 0) result = 'maybe';
  if (i % 11 === 0) result = undefined;
  const served: AuditEntry = {
    tenantId: acmeId,
    decisionId: randomUUID(),
    // Every 5 minutes and 17 seconds from 08:00: rows spread over minutes, hours and 3 days.
    ts: new Date(base + i * 317_000 + (i >= 40 ? 86_400_000 * (i % 3) : 0)),
    path: i % 2 === 0 ? 'rbac/allow' : 'docs/allow',
    bundleName: 'rbac',
    bundleVersion: i < 25 ? '1.0.0' : '2.0.0',
    caller: i % 4 === 0 ? 'key-a' : 'key-b',
    input: { subject: { id: i % 5 === 0 ? 'bob' : 'ann' } },
    result,
    cache: 'miss',
    durationUs: 10,
  };
  if (i % 6 !== 1) return [served];
  served.rollout = { rolloutId, arm: 'stable' };
  const shadow: AuditEntry = {
    ...served,
    decisionId: randomUUID(),
    ts: new Date((served.ts as Date).getTime() + 1),
    result: { allow: false },
    rollout: { rolloutId, arm: 'shadow', comparedWith: served.decisionId as string, agrees: false },
  };
  return [served, shadow];
}

const seed: AuditEntry[] = [];

/** Expected buckets counted here from the seed: an independent check of the SQL. */
function expected(
  from: number,
  to: number,
  bucket: StatsBucket,
  keep: (entry: AuditEntry) => boolean = () => true,
): Counts[] {
  const size = bucketMs[bucket];
  const counts: Counts[] = [];
  for (let start = Math.floor(from / size) * size; start < to; start += size) {
    counts.push({
      start: new Date(start).toISOString().replace('.000Z', 'Z'),
      allowed: 0,
      denied: 0,
      other: 0,
    });
  }
  for (const entry of seed) {
    const ts = (entry.ts as Date).getTime();
    if (ts < from || ts >= to || !keep(entry)) continue;
    const counted = counts[Math.floor(ts / size) - Math.floor(from / size)] as Counts;
    const allowed = deriveAllowed(entry.result as JsonValue | undefined);
    if (allowed === true) counted.allowed++;
    else if (allowed === false) counted.denied++;
    else counted.other++;
  }
  return counts;
}

beforeAll(async () => {
  database = await createTestDatabase('decision_stats');
  db = await openDatabase(testConfig({ DATABASE_URL: database.url }), silentLogger);
  await migrateUp(db);
  cache = new MemoryCache({ logger: silentLogger });
  const apiKeys = new ApiKeyService({ knex: db.knex, logger: silentLogger });
  app = createApp({
    logger: silentLogger,
    db,
    cache,
    isShuttingDown: () => false,
    adminToken,
    apiKeys,
  });
  // Tenants and keys straight from their services: this file tests the stats route only.
  const tenants = new TenantService(db.knex);
  const acme = await tenants.create({ slug: 'acme', name: 'Acme' });
  const globex = await tenants.create({ slug: 'globex', name: 'Globex' });
  acmeId = acme.id;
  const key = async (tenantId: string, scopes: ApiKeyScope[]): Promise<string> =>
    (await apiKeys.create(tenantId, { name: 'stats', scopes })).plainKey;
  keys.audit = await key(acme.id, ['audit:read']);
  keys.decide = await key(acme.id, ['decide']);
  keys.globexAudit = await key(globex.id, ['audit:read']);
  dataDir = tempDir('decision-stats');
  writer = await createAuditWriter({ knex: db.knex, dataDir: dataDir.path, logger: silentLogger });
  for (let i = 0; i < 60; i++) seed.push(...seedEntries(i));
  // Written oldest first: the chain keeps `ts` from running backwards.
  seed.sort((a, b) => (a.ts as Date).getTime() - (b.ts as Date).getTime());
  for (const entry of seed) writer.record(entry);
  // Another tenant's rows in the same hours are never counted for acme.
  for (let i = 0; i < 5; i++) {
    writer.record({
      tenantId: globex.id,
      ts: new Date(base + i * 60_000),
      path: 'rbac/allow',
      result: true,
      cache: 'miss',
      durationUs: 1,
    });
  }
  await writer.flush();
});

afterAll(async () => {
  await writer.close();
  await cache.close();
  await db.close();
  await database.drop();
  dataDir.remove();
});

function stats(
  query: Record<string, string>,
  auth: Record<string, string> = admin,
  tenant = 'acme',
): request.Test {
  return request(app).get(`/v1/tenants/${tenant}/decisions/stats`).query(query).set(auth);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

describe('counts', () => {
  it('counts per hour over a range, with every bucket present', async () => {
    const from = base;
    const to = base + 4 * 3_600_000;
    const res = await stats({ from: iso(from), to: iso(to), bucket: 'hour' }).expect(200);
    const body = res.body as Stats;
    expect(body.bucket).toBe('hour');
    expect(body.from).toBe(iso(from));
    expect(body.to).toBe(iso(to));
    expect(body.buckets).toEqual(expected(from, to, 'hour'));
    expect(body.buckets.map((b) => b.start)).toEqual([
      '2026-11-27T08:00:00Z',
      '2026-11-27T09:00:00Z',
      '2026-11-27T10:00:00Z',
      '2026-11-27T11:00:00Z',
    ]);
    // Each outcome occurs, so the test would catch counts put in the wrong column.
    const { totals } = body;
    expect(totals.allowed).toBeGreaterThan(0);
    expect(totals.denied).toBeGreaterThan(0);
    expect(totals.other).toBeGreaterThan(0);
    const sum = (key: 'allowed' | 'denied' | 'other'): number =>
      body.buckets.reduce((n, b) => n + b[key], 0);
    expect(totals).toEqual({ allowed: sum('allowed'), denied: sum('denied'), other: sum('other') });
  });

  it('counts per minute with empty minutes as zeros, from inclusive and to exclusive', async () => {
    // Row 1 is at 08:05:17 and row 4 at 08:21:08: the range starts on one and ends on the other.
    const from = base + 317_000;
    const to = base + 4 * 317_000;
    const body = (await stats({ from: iso(from), to: iso(to), bucket: 'minute' }).expect(200))
      .body as Stats;
    expect(body.buckets).toHaveLength(17);
    expect(body.buckets[0]?.start).toBe('2026-11-27T08:05:00Z');
    expect(body.buckets).toEqual(expected(from, to, 'minute'));
    const busy = body.buckets.filter((b) => b.allowed + b.denied + b.other > 0);
    // Rows 1, 2 and 3; row 4 is at `to`, so it is out.
    expect(busy.map((b) => b.start)).toEqual([
      '2026-11-27T08:05:00Z',
      '2026-11-27T08:10:00Z',
      '2026-11-27T08:15:00Z',
    ]);
  });

  it('counts per day across days', async () => {
    const from = base - 8 * 3_600_000;
    const to = from + 4 * 86_400_000;
    const body = (await stats({ from: iso(from), to: iso(to), bucket: 'day' }).expect(200))
      .body as Stats;
    expect(body.buckets.map((b) => b.start)).toEqual([
      '2026-11-27T00:00:00Z',
      '2026-11-28T00:00:00Z',
      '2026-11-29T00:00:00Z',
      '2026-11-30T00:00:00Z',
    ]);
    expect(body.buckets).toEqual(expected(from, to, 'day'));
    expect(body.totals.allowed + body.totals.denied + body.totals.other).toBe(seed.length);
  });

  it.each<[string, Record<string, string>, (entry: AuditEntry) => boolean]>([
    ['path', { path: 'docs/allow' }, (e) => e.path === 'docs/allow'],
    ['bundle_version', { bundle_version: '2.0.0' }, (e) => e.bundleVersion === '2.0.0'],
    ['caller', { caller: 'key-a' }, (e) => e.caller === 'key-a'],
    [
      'input',
      { input: 'input.subject.id=bob' },
      (e) => (e.input as { subject: { id: string } }).subject.id === 'bob',
    ],
    ['kind=decision', { kind: 'decision' }, (e) => e.rollout?.comparedWith === undefined],
    ['kind=shadow', { kind: 'shadow' }, (e) => e.rollout?.comparedWith !== undefined],
    ['rollout', { rollout: rolloutId.toUpperCase() }, (e) => e.rollout?.rolloutId === rolloutId],
    [
      'several filters at once',
      { path: 'rbac/allow', caller: 'key-b', bundle_version: '1.0.0' },
      (e) => e.path === 'rbac/allow' && e.caller === 'key-b' && e.bundleVersion === '1.0.0',
    ],
  ])('narrows the counts by %s', async (_name, filter, keep) => {
    const from = base;
    const to = base + 3 * 86_400_000;
    const body = (
      await stats({ from: iso(from), to: iso(to), bucket: 'day', ...filter }).expect(200)
    ).body as Stats;
    const want = expected(from, to, 'day', keep);
    expect(body.buckets).toEqual(want);
    // The filter selects a proper subset, so a filter that was ignored would fail here.
    const total = want.reduce((n, b) => n + b.allowed + b.denied + b.other, 0);
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThan(seed.length);
  });

  it('answers zeros for a range with no decisions', async () => {
    const from = Date.parse('2026-11-20T00:00:00Z');
    const body = (
      await stats({ from: iso(from), to: iso(from + 3 * 3_600_000), bucket: 'hour' }).expect(200)
    ).body as Stats;
    expect(body.buckets).toHaveLength(3);
    expect(body.buckets.every((b) => b.allowed + b.denied + b.other === 0)).toBe(true);
    expect(body.totals).toEqual({ allowed: 0, denied: 0, other: 0 });
  });

  it('ends a range without `to` now and starts it one default span earlier', async () => {
    const now = new Date(base + 2.5 * 3_600_000);
    const fixed = express();
    fixed.use(
      decisionStatsRouter({
        access: new PlatformAccess({
          adminToken,
          apiKeys: new ApiKeyService({ knex: db.knex, logger: silentLogger }),
          tenants: new TenantService(db.knex),
          logger: silentLogger,
        }),
        tenants: new TenantService(db.knex),
        knex: db.knex,
        now: () => now,
      }),
    );
    fixed.use(problemHandler(silentLogger));
    const hourly = (
      await request(fixed).get('/v1/tenants/acme/decisions/stats').set(admin).expect(200)
    ).body as Stats;
    expect(hourly.bucket).toBe('hour');
    expect(hourly.to).toBe(now.toISOString());
    expect(hourly.from).toBe(iso(now.getTime() - 86_400_000));
    expect(hourly.buckets).toEqual(expected(now.getTime() - 86_400_000, now.getTime(), 'hour'));
    expect(hourly.buckets).toHaveLength(25);
    const minutes = (
      await request(fixed)
        .get('/v1/tenants/acme/decisions/stats')
        .query({ bucket: 'minute', from: iso(now.getTime() - 600_000) })
        .set(admin)
        .expect(200)
    ).body as Stats;
    expect(minutes.buckets).toEqual(expected(now.getTime() - 600_000, now.getTime(), 'minute'));
    const days = (
      await request(fixed)
        .get('/v1/tenants/acme/decisions/stats')
        .query({ bucket: 'day', to: '2026-11-28T00:00:00.000Z' })
        .set(admin)
        .expect(200)
    ).body as Stats;
    expect(days.from).toBe('2026-10-29T00:00:00.000Z');
    expect(days.buckets).toHaveLength(30);
  });

  it('is not taken for a decision id by GET /decisions/{id}', async () => {
    const page = await request(app)
      .get('/v1/tenants/acme/decisions')
      .query({ limit: '1' })
      .set(admin)
      .expect(200);
    const [first] = (page.body as { decisions: { decision_id: string }[] }).decisions;
    const one = await request(app)
      .get(`/v1/tenants/acme/decisions/${first?.decision_id ?? ''}`)
      .set(admin)
      .expect(200);
    expect((one.body as { decision_id: string }).decision_id).toBe(first?.decision_id);
  });
});

describe('bad parameters', () => {
  function expectProblem(res: request.Response, field: string): string {
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = res.body as { code: string; field: string; detail: string };
    expect(body.code).toBe('bad_request');
    expect(body.field).toBe(field);
    return body.detail;
  }

  it('refuses an unknown bucket size', async () => {
    const detail = expectProblem(await stats({ bucket: 'week' }), '?bucket');
    expect(detail).toContain('must be one of minute, hour, day');
  });

  it('refuses a range that ends before it starts', async () => {
    const res = await stats({ from: iso(base + 60_000), to: iso(base) });
    expect(expectProblem(res, '?to')).toContain('must be later than ?from');
  });

  it('refuses a range of more than 2000 buckets, saying what to do', async () => {
    const res = await stats({ from: iso(base), to: iso(base + 3 * 86_400_000), bucket: 'minute' });
    const detail = expectProblem(res, '?bucket');
    expect(detail).toContain('4320 buckets');
    expect(detail).toContain('choose a larger bucket or a shorter range');
  });

  it('refuses a malformed time, input filter, repeated or unknown parameter', async () => {
    expectProblem(await stats({ from: 'yesterday' }), '?from');
    expect(expectProblem(await stats({ input: 'subject.id=bob' }), '?input')).toContain('input.');
    expectProblem(
      await request(app).get('/v1/tenants/acme/decisions/stats?path=a&path=b').set(admin),
      '?path',
    );
    expectProblem(await stats({ allowed: 'true' }), '?allowed');
    expectProblem(await stats({ kind: 'canary' }), '?kind');
    expectProblem(await stats({ rollout: 'not-a-uuid' }), '?rollout');
  });
});

describe('access', () => {
  it('lets an audit:read key of the tenant read its counts', async () => {
    const res = await stats({}, { Authorization: `Bearer ${keys.audit}` }).expect(200);
    expect((res.body as Stats).bucket).toBe('hour');
  });

  it('refuses no token, a key without audit:read and another tenant’s key', async () => {
    const none = await request(app).get('/v1/tenants/acme/decisions/stats');
    expect(none.status).toBe(401);
    const decide = await stats({}, { Authorization: `Bearer ${keys.decide}` });
    expect(decide.status).toBe(403);
    expect((decide.body as { detail: string }).detail).toContain('audit:read');
    const other = await stats({}, { Authorization: `Bearer ${keys.globexAudit}` });
    expect(other.status).toBe(403);
    expect((other.body as { detail: string }).detail).toContain('another tenant');
  });

  it('answers 404 for a tenant that does not exist', async () => {
    const res = await stats({}, admin, 'nobody');
    expect(res.status).toBe(404);
    expect((res.body as { detail: string }).detail).toContain('No tenant "nobody"');
  });
});
