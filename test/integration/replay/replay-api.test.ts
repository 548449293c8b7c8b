/**
 * Replay end to end on the real Postgres and Redis: decisions are made through the real
 * decision path over HTTP (and a few older ones through the audit writer with their own
 * time), then candidates are replayed over HTTP. A candidate that takes one grant away must
 * report exactly the decisions whose outcome that grant decided, and no others.
 */
import request from 'supertest';
import { createApp, type VerdictApp } from '../../../api/app';
import { openDatabase, type Database } from '../../../api/db/database';
import { migrateUp } from '../../../api/db/migrator';
import { ApiKeyService } from '../../../api/services/api-keys';
import { createAuditWriter, type AuditWriter } from '../../../api/services/audit';
import { loadActiveBundles } from '../../../api/services/bundles';
import type { CacheStore } from '../../../api/services/cache';
import { RedisCache } from '../../../api/services/cache/redis';
import { openDecisions, type DecisionStack } from '../../../api/services/decisions';
import { writeTarGz } from '../../../policies/bundle/tar';
import { file, jsonFile } from '../bundles/fixtures';
import { buildExample, storeActiveVersion } from '../helpers/bundles';
import {
  createTestDatabase,
  redisUrl,
  silentLogger,
  tempDir,
  testConfig,
  uniqueName,
  type TestDatabase,
} from '../helpers/services';
import { withoutViewerDocumentRead } from './candidate';

interface Problem {
  code: string;
  detail: string;
  field?: string;
  errors?: { file?: string; line?: number; code: string }[];
}

interface Sample {
  decision_id: string;
  path: string;
  flip: string;
  input?: Record<string, unknown>;
  recorded_result?: unknown;
  candidate_result?: unknown;
}

interface Report {
  tenant: string;
  bundle: { name: string; version: string; revision: string };
  window: { from: string; to: string };
  replayed: number;
  changed: number;
  truncated: boolean;
  limit: number;
  by_path: Record<string, { replayed: number; changed: number }>;
  by_flip: Record<string, number>;
  masked_inputs: boolean;
  mask_paths: string[];
  samples: Sample[];
}

interface RbacInput {
  subject: { id: string; tenant: string };
  action: string;
  resource: { type: string; id: string; tenant: string; owner: string };
  password: string;
}

const adminToken = 'replay-admin-token';
const mask = ['/input/password'];

let database: TestDatabase;
let db: Database;
let cache: CacheStore;
let audit: AuditWriter;
let stack: DecisionStack;
let apiKeys: ApiKeyService;
let app: VerdictApp;
let spool: { path: string; remove: () => void };
let decideKey: string;
let writeKey: string;
let otherTenantKey: string;
/** Every decision recorded in the last hour, with its input and path. */
const recent: { id: string; path: string; input: RbacInput }[] = [];
let oldIds: string[] = [];

/** A grid of requests covering roles, owners, actions, types and both tenants. */
function inputs(): RbacInput[] {
  const out: RbacInput[] = [];
  const subjects = [
    { id: 'alice', tenant: 'acme' },
    { id: 'bob', tenant: 'acme' },
    { id: 'carol', tenant: 'acme' },
    { id: 'dave', tenant: 'globex' },
  ];
  const resources = [
    { type: 'document', id: 'd1', tenant: 'acme', owner: 'bob' },
    { type: 'document', id: 'd2', tenant: 'acme', owner: 'carol' },
    { type: 'document', id: 'd4', tenant: 'acme', owner: 'alice' },
    { type: 'folder', id: 'f1', tenant: 'acme', owner: 'alice' },
    { type: 'document', id: 'd3', tenant: 'globex', owner: 'dave' },
  ];
  for (const subject of subjects) {
    for (const resource of resources) {
      for (const action of ['read', 'update', 'delete']) {
        out.push({ subject, action, resource, password: 'hunter2' });
      }
    }
  }
  return out;
}

/**
 * What the candidate below changes, read from the policy: carol's only role is viewer, so
 * without the viewer's document read grant she may read a document only as its owner.
 */
function viewerReadGrantDecides(input: RbacInput): boolean {
  return (
    input.subject.id === 'carol' &&
    input.action === 'read' &&
    input.resource.type === 'document' &&
    input.resource.tenant === input.subject.tenant &&
    input.resource.owner !== 'carol'
  );
}

async function createTenant(slug: string): Promise<string> {
  const [row] = await db
    .knex('tenants')
    .insert({ slug, name: slug })
    .returning<{ id: string }[]>('id');
  return (row as { id: string }).id;
}

async function decide(path: string, input: RbacInput): Promise<string> {
  const res = await request(app)
    .post(`/v1/data/${path}`)
    .set('Authorization', `Bearer ${decideKey}`)
    .send({ input });
  expect(res.status).toBe(200);
  return (res.body as { decision_id: string }).decision_id;
}

function replay(
  tenant: string,
  body: Uint8Array,
  query: Record<string, string> = {},
  bearer = adminToken,
  contentType = 'application/gzip',
): request.Test {
  return request(app)
    .post(`/v1/tenants/${tenant}/replay`)
    .query(query)
    .set('Authorization', `Bearer ${bearer}`)
    .set('Content-Type', contentType)
    .send(Buffer.from(body));
}

function expectProblem(res: request.Response, status: number, code: string): Problem {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.body as Problem;
  expect(body.code).toBe(code);
  return body;
}

let candidate: Uint8Array;
let unchanged: Uint8Array;

beforeAll(async () => {
  database = await createTestDatabase('replay');
  db = await openDatabase(testConfig({ DATABASE_URL: database.url }), silentLogger);
  await migrateUp(db);
  cache = await RedisCache.connect({
    url: redisUrl,
    keyPrefix: `${uniqueName('replay')}:`,
    logger: silentLogger,
  });
  spool = tempDir('replay');
  audit = await createAuditWriter({
    knex: db.knex,
    dataDir: spool.path,
    logger: silentLogger,
    flushIntervalMs: 20,
  });
  stack = await openDecisions({
    knex: db.knex,
    cache,
    audit,
    logger: silentLogger,
    loadActiveBundles,
    config: testConfig({}),
  });
  apiKeys = new ApiKeyService({ knex: db.knex, logger: silentLogger });
  app = createApp({
    logger: silentLogger,
    db,
    cache,
    adminToken,
    isShuttingDown: () => false,
    apiKeys,
    decisions: { service: stack.service },
  });
  const tenantId = await createTenant('acme');
  const otherId = await createTenant('globex');
  decideKey = (await apiKeys.create(tenantId, { name: 'app', scopes: ['decide'] })).plainKey;
  writeKey = (await apiKeys.create(tenantId, { name: 'ci', scopes: ['bundles:write'] })).plainKey;
  otherTenantKey = (await apiKeys.create(otherId, { name: 'ci', scopes: ['bundles:write'] }))
    .plainKey;

  const stable = await buildExample('rbac', { mask });
  await storeActiveVersion(db.knex, tenantId, 'rbac', '1.0.0', stable);
  unchanged = (await buildExample('rbac', { version: '1.0.1' })).bundle.tarGz;
  candidate = (await buildExample('rbac', { version: '1.1.0' }, withoutViewerDocumentRead)).bundle
    .tarGz;

  // Two decisions of three days ago (first: a chain's times never go back): carol reading
  // bob's document, then allowed.
  const threeDaysAgo = new Date(Date.now() - 3 * 86_400_000);
  const carolReads = inputs().find(
    (i) => viewerReadGrantDecides(i) && i.resource.owner === 'bob',
  ) as RbacInput;
  oldIds = [];
  for (let i = 0; i < 2; i++) {
    const row = await audit.recordStrict({
      tenantId,
      ts: new Date(threeDaysAgo.getTime() + i),
      path: 'rbac/allow',
      bundleName: 'rbac',
      bundleVersion: '1.0.0',
      bundleRevision: stable.bundle.manifest.revision,
      input: { ...carolReads, password: undefined },
      result: true,
      cache: 'bypass',
      durationUs: 10,
    });
    oldIds.push(row.decisionId);
  }
  for (const input of inputs()) {
    recent.push({ id: await decide('rbac/allow', input), path: 'rbac/allow', input });
  }
  for (const input of inputs().filter((i) => i.subject.id === 'carol')) {
    recent.push({ id: await decide('rbac/reasons', input), path: 'rbac/reasons', input });
  }
  await audit.flush();
}, 60_000);

afterAll(async () => {
  await stack.stop();
  await audit.close();
  await apiKeys.flush();
  await cache.close();
  await db.close();
  await database.drop();
  spool.remove();
});

describe('replay of a candidate', () => {
  it('reports exactly the decisions whose outcome the changed grant decides', async () => {
    const res = await replay('acme', candidate, { since: '24h', samples: '1000' });
    expect(res.status).toBe(200);
    const report = res.body as Report;
    expect(report.tenant).toBe('acme');
    expect(report.bundle).toMatchObject({ name: 'rbac', version: '1.1.0' });
    expect(report.replayed).toBe(recent.length);
    expect(report.truncated).toBe(false);

    const flipped = recent.filter((d) => viewerReadGrantDecides(d.input));
    const flippedAllow = flipped.filter((d) => d.path === 'rbac/allow');
    const flippedReasons = flipped.filter((d) => d.path === 'rbac/reasons');
    expect(flippedAllow.length).toBeGreaterThan(0);
    expect(flippedReasons.length).toBeGreaterThan(0);
    expect(report.changed).toBe(flipped.length);
    expect(report.samples.map((s) => s.decision_id).sort()).toEqual(
      flipped.map((d) => d.id).sort(),
    );
    expect(report.by_flip).toEqual({
      allow_to_deny: flippedAllow.length,
      deny_to_allow: 0,
      other_change: flippedReasons.length,
      now_undefined: 0,
      now_error: 0,
    });
    expect(report.by_path).toEqual({
      'rbac/allow': {
        replayed: recent.filter((d) => d.path === 'rbac/allow').length,
        changed: flippedAllow.length,
      },
      'rbac/reasons': {
        replayed: recent.filter((d) => d.path === 'rbac/reasons').length,
        changed: flippedReasons.length,
      },
    });
    const allowSample = report.samples.find((s) => s.path === 'rbac/allow') as Sample;
    expect(allowSample).toMatchObject({
      flip: 'allow_to_deny',
      recorded_result: true,
      candidate_result: false,
    });
    // The input as recorded: masked.
    expect(allowSample.input?.subject).toEqual({ id: 'carol', tenant: 'acme' });
    expect(allowSample.input).not.toHaveProperty('password');
    expect(report.masked_inputs).toBe(true);
    expect(report.mask_paths).toEqual(mask);
  });

  it('reports no change for the same policy, and no mask when none was used', async () => {
    const report = (await replay('acme', unchanged, { since: '24h' })).body as Report;
    expect(report.replayed).toBe(recent.length);
    expect(report.changed).toBe(0);
    expect(report.samples).toEqual([]);
    // The recorded version masks; the candidate does not: the report still says so.
    expect(report.masked_inputs).toBe(true);
  });

  it('keeps to the limit, the sample count and the path filter', async () => {
    const limited = (await replay('acme', candidate, { limit: '5' })).body as Report;
    expect(limited.replayed).toBe(5);
    expect(limited.limit).toBe(5);
    expect(limited.truncated).toBe(true);

    const all = (await replay('acme', candidate, { samples: '2' })).body as Report;
    expect(all.samples).toHaveLength(2);
    expect(all.changed).toBeGreaterThan(2);

    const reasons = (await replay('acme', candidate, { path: 'rbac/reasons' })).body as Report;
    expect(Object.keys(reasons.by_path)).toEqual(['rbac/reasons']);
    expect(reasons.replayed).toBe(recent.filter((d) => d.path === 'rbac/reasons').length);
    expect(reasons.by_flip.allow_to_deny).toBe(0);

    const prefix = (await replay('acme', candidate, { path: '/rbac/' })).body as Report;
    expect(prefix.replayed).toBe(recent.length);
    const none = (await replay('acme', candidate, { path: 'rba' })).body as Report;
    expect(none.replayed).toBe(0);
  });

  it('replays only the window asked for', async () => {
    const wide = (await replay('acme', candidate, { since: '4d', samples: '1000' })).body as Report;
    expect(wide.replayed).toBe(recent.length + oldIds.length);
    for (const id of oldIds) expect(wide.samples.map((s) => s.decision_id)).toContain(id);

    const from = new Date(Date.now() - 4 * 86_400_000).toISOString();
    const to = new Date(Date.now() - 2 * 86_400_000).toISOString();
    const old = (await replay('acme', candidate, { from, to, samples: '10' })).body as Report;
    expect(old.replayed).toBe(oldIds.length);
    expect(old.samples.map((s) => s.decision_id).sort()).toEqual([...oldIds].sort());
    expect(old.window).toEqual({ from, to });

    const sinceOnly = (await replay('acme', candidate, { from })).body as Report;
    expect(sinceOnly.replayed).toBe(recent.length + oldIds.length);
  });

  it('replays nothing for a bundle of another name', async () => {
    const other = (await buildExample('rbac', { name: 'other', version: '1.0.0' })).bundle.tarGz;
    const report = (await replay('acme', other)).body as Report;
    expect(report).toMatchObject({ replayed: 0, changed: 0, masked_inputs: false });
  });
});

describe('replay access', () => {
  it('takes a bundles:write key of the tenant', async () => {
    const res = await replay('acme', candidate, { limit: '3' }, writeKey);
    expect(res.status).toBe(200);
    expect((res.body as Report).replayed).toBe(3);
  });

  it('refuses other tenants, missing scopes and no credentials', async () => {
    expectProblem(await replay('acme', candidate, {}, otherTenantKey), 403, 'forbidden');
    expectProblem(await replay('acme', candidate, {}, decideKey), 403, 'forbidden');
    expectProblem(await replay('acme', candidate, {}, 'wrong-token'), 401, 'unauthorized');
    expectProblem(await replay('nobody', candidate), 404, 'not_found');
  });
});

describe('bad replay requests', () => {
  it('refuses a candidate that is not a bundle, with positions for compile errors', async () => {
    const garbage = expectProblem(
      await replay('acme', new TextEncoder().encode('not a tarball')),
      422,
      'invalid_bundle',
    );
    expect(garbage.detail).toContain('not a valid bundle archive');
    const broken = writeTarGz([
      jsonFile('.manifest', { name: 'rbac', version: '9.0.0', entrypoints: ['rbac/allow'] }),
      file('rbac/policy.rego', 'package rbac\n\nallow if {\n  input.x ==\n}\n'),
    ]);
    const body = expectProblem(await replay('acme', broken), 422, 'invalid_bundle');
    expect(body.errors?.[0]).toMatchObject({ file: 'rbac/policy.rego', code: 'rego_parse_error' });
    expect(body.errors?.[0]?.line).toBeGreaterThanOrEqual(4);
  });

  it('refuses bad parameters with the field named', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ since: 'yesterday' }, '?since'],
      [{ since: '24h', from: '2026-01-01T00:00:00Z' }, '?since'],
      [{ from: 'monday' }, '?from'],
      [{ to: '2026-01-01T00:00:00Z' }, '?from'],
      [{ from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }, '?from'],
      [{ limit: '0' }, '?limit'],
      [{ limit: 'ten' }, '?limit'],
      [{ samples: '5000' }, '?samples'],
      [{ path: '//' }, '?path'],
      [{ path: '' }, '?path'],
    ];
    for (const [query, field] of cases) {
      const body = expectProblem(await replay('acme', candidate, query), 400, 'bad_request');
      expect(body.field).toBe(field);
    }
  });

  it('refuses a body that is not a bundle body, or none', async () => {
    expectProblem(
      await replay('acme', candidate, {}, adminToken, 'application/json'),
      415,
      'unsupported_media_type',
    );
    expectProblem(await replay('acme', new Uint8Array(0)), 400, 'bad_request');
  });
});
