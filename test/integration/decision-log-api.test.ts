/**
 * The auditor's decision-log API on the real Postgres, over real HTTP: rows written by the
 * real audit writer for two tenants, every search filter, keyset pages that neither repeat
 * nor skip a row, one decision's record, access (admin token, audit:read keys, another
 * tenant's key), NDJSON and CSV export (CSV quoting, a 20k-row export arriving in chunks),
 * and chain verification finding a row edited in SQL.
 */
import { PlatformAccess } from '../../api/auth/access';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { csvRecords } from '../helpers/csv';
import { createApp, type VerdictApp } from '../../api/app';
import { openDatabase, type Database } from '../../api/db/database';
import { migrateUp } from '../../api/db/migrator';
import { problemHandler } from '../../api/middleware/problem';
import { decisionsRouter } from '../../api/routes/decisions';
import { ApiKeyService } from '../../api/services/api-keys';
import { TenantService } from '../../api/services/tenants';
import { createAuditWriter, type AuditEntry, type AuditWriter } from '../../api/services/audit';
import { MemoryCache } from '../../api/services/cache/memory';
import {
  createTestDatabase,
  silentLogger,
  tempDir,
  testConfig,
  type TestDatabase,
} from './helpers/services';

jest.setTimeout(120_000);

const adminToken = 'decision-log-admin-token-0123456789';
const admin = { Authorization: `Bearer ${adminToken}` };

interface Decision {
  decision_id: string;
  seq: number;
  ts: string;
  path: string;
  bundle_version: string | null;
  input?: unknown;
  result?: unknown;
  allowed: boolean | null;
  caller: string | null;
  hash: string;
  prev_hash: string;
}

interface Page {
  decisions: Decision[];
  next: string | null;
}

interface Problem {
  code: string;
  field?: string;
  detail: string;
}

let database: TestDatabase;
let db: Database;
let cache: MemoryCache;
let app: VerdictApp;
let dataDir: { path: string; remove: () => void };
let writer: AuditWriter;
const tenants: Record<'acme' | 'globex' | 'bulk', { id: string; slug: string }> = {
  acme: { id: '', slug: '' },
  globex: { id: '', slug: '' },
  bulk: { id: '', slug: '' },
};
const acmeCount = 60;
const bulkCount = 20_000;
const base = Date.parse('2026-11-27T08:00:00.000Z');
/** A path with everything CSV must quote: a comma, quotes and a line break. */
const oddPath = 'docs/"read", all\r\nlines';

/** The i-th decision of the acme seed: varied enough that every filter selects a subset. */
function acmeDecision(i: number): AuditEntry {
  return {
    tenantId: tenants.acme.id,
    ts: new Date(base + i * 60_000),
    path: i % 2 === 0 ? 'rbac/allow' : i === 7 ? oddPath : 'docs/allow',
    bundleName: 'rbac',
    bundleVersion: i < 30 ? '1.0.0' : '2.0.0',
    bundleRevision: i < 30 ? 'r1' : 'r2',
    input: {
      subject: { id: i % 3 === 0 ? 'bob' : `user${i}`, level: i % 4 },
      action: 'read',
      note: i === 7 ? 'has, a comma\nand "quotes"' : 'plain',
    },
    result: { allow: i % 5 !== 0 },
    caller: i % 2 === 0 ? 'key-a' : 'key-b',
    cache: 'miss',
    durationUs: 100 + i,
  };
}

async function createTenant(slug: string): Promise<{ id: string; slug: string }> {
  const res = await request(app)
    .post('/v1/tenants')
    .set(admin)
    .send({ slug, name: slug })
    .expect(201);
  return res.body as { id: string; slug: string };
}

async function createKey(tenant: string, scopes: string[]): Promise<string> {
  const res = await request(app)
    .post(`/v1/tenants/${tenant}/keys`)
    .set(admin)
    .send({ name: 'auditor', scopes })
    .expect(201);
  return (res.body as { key: string }).key;
}

beforeAll(async () => {
  database = await createTestDatabase('decision_log');
  db = await openDatabase(testConfig({ DATABASE_URL: database.url }), silentLogger);
  await migrateUp(db);
  cache = new MemoryCache({ logger: silentLogger });
  app = createApp({ logger: silentLogger, db, cache, isShuttingDown: () => false, adminToken });
  tenants.acme = await createTenant('acme');
  tenants.globex = await createTenant('globex');
  tenants.bulk = await createTenant('bulk');
  dataDir = tempDir('decision-log');
  writer = await createAuditWriter({
    knex: db.knex,
    dataDir: dataDir.path,
    logger: silentLogger,
    batchSize: 2000,
    maxQueue: 50_000,
  });
  for (let i = 0; i < acmeCount; i++) writer.record(acmeDecision(i));
  for (let i = 0; i < 5; i++) {
    writer.record({
      tenantId: tenants.globex.id,
      ts: new Date(base + i * 60_000),
      path: 'rbac/allow',
      bundleVersion: '1.0.0',
      input: { subject: { id: 'bob' } },
      result: true,
      caller: 'key-a',
      cache: 'miss',
      durationUs: 5,
    });
  }
  for (let i = 0; i < bulkCount; i++) {
    writer.record({
      tenantId: tenants.bulk.id,
      ts: new Date(base + i),
      path: 'bulk/allow',
      input: { n: i },
      result: { allow: true },
      cache: 'hit',
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

function search(query: Record<string, string>, auth = admin, tenant = 'acme'): request.Test {
  return request(app).get(`/v1/tenants/${tenant}/decisions`).query(query).set(auth);
}

async function allPages(query: Record<string, string>): Promise<Decision[][]> {
  const pages: Decision[][] = [];
  let cursor: string | null = null;
  do {
    const res = await search(cursor === null ? query : { ...query, cursor }).expect(200);
    const page = res.body as Page;
    pages.push(page.decisions);
    cursor = page.next;
  } while (cursor !== null);
  return pages;
}

function seqs(decisions: Decision[]): number[] {
  return decisions.map((d) => d.seq);
}

function expectProblem(res: request.Response, status: number, field?: string): Problem {
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.status).toBe(status);
  const body = res.body as Problem;
  if (field !== undefined) expect(body.field).toBe(field);
  return body;
}

describe('search', () => {
  it('answers the newest 100 first by default, with a cursor to the rest', async () => {
    const page = (await search({}).expect(200)).body as Page;
    expect(seqs(page.decisions)).toEqual(
      Array.from({ length: acmeCount }, (_, i) => acmeCount - i),
    );
    expect(page.next).toBeNull();
    const first = page.decisions[0] as Decision;
    expect(first).toMatchObject({
      path: 'docs/allow',
      bundle_version: '2.0.0',
      allowed: true,
      caller: 'key-b',
      ts: new Date(base + 59 * 60_000).toISOString(),
      input: { subject: { id: 'user59', level: 3 }, action: 'read', note: 'plain' },
      result: { allow: true },
    });
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('pages with a stable cursor: every row once, in order, no gaps', async () => {
    const pages = await allPages({ limit: '7' });
    expect(pages.map((p) => p.length)).toEqual([7, 7, 7, 7, 7, 7, 7, 7, 4]);
    const all = seqs(pages.flat());
    expect(all).toEqual(Array.from({ length: acmeCount }, (_, i) => acmeCount - i));
    // Rows written after the first page do not shift the later ones.
    const res = await search({ limit: '10' }).expect(200);
    const first = res.body as Page;
    writer.record(acmeDecision(acmeCount));
    await writer.flush();
    const second = (await search({ limit: '10', cursor: first.next as string }).expect(200))
      .body as Page;
    expect(seqs(second.decisions)).toEqual(seqs(pages.flat()).slice(10, 20));
    await db
      .knex('decisions')
      .where({ tenant_id: tenants.acme.id, seq: acmeCount + 1 })
      .del();
  });

  it.each([
    [{ path: 'rbac/allow' }, (i: number) => i % 2 === 0],
    [{ allowed: 'false' }, (i: number) => i % 5 === 0],
    [{ allowed: 'true' }, (i: number) => i % 5 !== 0],
    [{ bundle_version: '2.0.0' }, (i: number) => i >= 30],
    [{ caller: 'key-b' }, (i: number) => i % 2 === 1],
    [{ input: 'input.subject.id=bob' }, (i: number) => i % 3 === 0],
    [{ input: 'input.subject.level=2' }, (i: number) => i % 4 === 2],
    [{ input: 'input.subject.level="2"' }, () => false],
    [{ input: 'input.subject.id=bob', allowed: 'false' }, (i: number) => i % 15 === 0],
    [
      {
        from: new Date(base + 10 * 60_000).toISOString(),
        to: new Date(base + 20 * 60_000).toISOString(),
      },
      (i: number) => i >= 10 && i < 20,
    ],
    [{ from: '2026-11-27T08:50:00+00:00' }, (i: number) => i >= 50],
  ])('filters %j', async (query, expected) => {
    const pages = await allPages({ ...query, limit: '9' });
    const want = Array.from({ length: acmeCount }, (_, i) => i)
      .filter(expected)
      .map((i) => i + 1)
      .reverse();
    expect(seqs(pages.flat())).toEqual(want);
  });

  it('filters by decision_id', async () => {
    const some = ((await search({ limit: '3' }).expect(200)).body as Page).decisions[2] as Decision;
    const page = (await search({ decision_id: some.decision_id.toUpperCase() }).expect(200))
      .body as Page;
    expect(page.decisions).toEqual([some]);
  });

  it.each([
    [{ limit: '0' }, '?limit'],
    [{ limit: '1001' }, '?limit'],
    [{ limit: 'ten' }, '?limit'],
    [{ allowed: 'yes' }, '?allowed'],
    [{ from: 'yesterday' }, '?from'],
    [{ from: '2026-11-27T10:00:00Z', to: '2026-11-27T09:00:00Z' }, '?to'],
    [{ decision_id: 'not-a-uuid' }, '?decision_id'],
    [{ cursor: 'bm9wZQ' }, '?cursor'],
    [{ cursor: '!!' }, '?cursor'],
    [{ input: 'subject.id=bob' }, '?input'],
    [{ input: 'input.subject' }, '?input'],
    [{ input: "input.a'b=1" }, '?input'],
    [{ input: 'input.a="unterminated' }, '?input'],
    [{ colour: 'blue' }, '?colour'],
  ])('refuses %j naming %s', async (query, field) => {
    expectProblem(await search(query), 400, field);
  });

  it('refuses a parameter given twice', async () => {
    const res = await request(app).get('/v1/tenants/acme/decisions?path=a&path=b').set(admin);
    expect(expectProblem(res, 400, '?path').detail).toMatch(/given once/);
  });

  it('keeps SQL text out of the input filter', async () => {
    const res = await search({ input: "input.subject.id=bob'; drop table decisions; --" });
    expect((res.body as Page).decisions).toEqual([]);
    const page = (await search({}).expect(200)).body as Page;
    expect(page.decisions).toHaveLength(acmeCount);
  });
});

describe('show', () => {
  it('answers the full record', async () => {
    const seventh = (
      (await search({ input: 'input.note="has, a comma\\nand \\"quotes\\""' }).expect(200))
        .body as Page
    ).decisions;
    expect(seqs(seventh)).toEqual([8]);
    const id = (seventh[0] as Decision).decision_id;
    const res = await request(app).get(`/v1/tenants/acme/decisions/${id}`).set(admin).expect(200);
    expect(res.body).toEqual(seventh[0]);
    expect(res.body).toMatchObject({ cache: 'miss', duration_us: 107, bundle_revision: 'r1' });
  });

  it('answers 404 for an unknown id, a malformed one, and a tenant', async () => {
    expectProblem(
      await request(app)
        .get('/v1/tenants/acme/decisions/0a000000-0000-4000-8000-00000000000a')
        .set(admin),
      404,
    );
    expectProblem(await request(app).get('/v1/tenants/acme/decisions/nope').set(admin), 404);
    expectProblem(await request(app).get('/v1/tenants/nobody/decisions').set(admin), 404);
  });
});

describe('access', () => {
  it('lets an audit:read key read its own tenant and nothing else', async () => {
    const acmeKey = { Authorization: `Bearer ${await createKey('acme', ['audit:read'])}` };
    const page = (await search({}, acmeKey).expect(200)).body as Page;
    expect(page.decisions).toHaveLength(acmeCount);
    const globexPage = (await search({}, admin, 'globex').expect(200)).body as Page;
    expect(globexPage.decisions).toHaveLength(5);
    const globexId = (globexPage.decisions[0] as Decision).decision_id;
    for (const path of [
      '/v1/tenants/globex/decisions',
      `/v1/tenants/globex/decisions/${globexId}`,
      '/v1/tenants/globex/decisions/export',
      '/v1/tenants/globex/decisions/verify',
      `/v1/tenants/${tenants.globex.id}/decisions`,
    ]) {
      const res = await request(app).get(path).set(acmeKey);
      expectProblem(res, 403);
      // No row of the other tenant: its hashes appear nowhere in the answer.
      expect(res.body).not.toHaveProperty('decisions');
      expect(res.text).not.toContain((globexPage.decisions[0] as Decision).hash);
    }
    // Its own tenant's id does not reach the other tenant's rows either.
    const own = await request(app).get(`/v1/tenants/acme/decisions/${globexId}`).set(acmeKey);
    expectProblem(own, 404);
  });

  it('refuses a key without audit:read, and no credentials', async () => {
    const decideKey = { Authorization: `Bearer ${await createKey('acme', ['decide'])}` };
    expectProblem(await search({}, decideKey), 403);
    expectProblem(await request(app).get('/v1/tenants/acme/decisions'), 401);
  });
});

describe('export', () => {
  it('streams NDJSON with the filters applied', async () => {
    const res = await request(app)
      .get('/v1/tenants/acme/decisions/export')
      .query({ bundle_version: '1.0.0' })
      .set(admin)
      .buffer(true)
      .parse((r, done) => {
        let text = '';
        r.on('data', (c: Buffer) => {
          text += c.toString('utf8');
        });
        r.on('end', () => {
          done(null, text);
        });
      })
      .expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
    const lines = (res.body as string)
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Decision);
    expect(seqs(lines)).toEqual(Array.from({ length: 30 }, (_, i) => 30 - i));
    const page = (await search({ bundle_version: '1.0.0' }).expect(200)).body as Page;
    expect(lines).toEqual(page.decisions);
  });

  it('writes CSV with commas, quotes and newlines quoted', async () => {
    const res = await request(app)
      .get('/v1/tenants/acme/decisions/export')
      .query({ format: 'csv', to: new Date(base + 10 * 60_000).toISOString() })
      .set(admin)
      .expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const text = res.text;
    expect(text.startsWith('decision_id,seq,ts,path,')).toBe(true);
    const records = csvRecords(text);
    expect(records.map((r) => Number(r.seq))).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    const eighth = records.find((r) => r.seq === '8') as Record<string, string>;
    expect(JSON.parse(eighth.input as string)).toEqual(acmeDecision(7).input);
    expect(eighth).toMatchObject({ allowed: 'true', caller: 'key-b', path: oddPath });
    expect(text).toContain(',"docs/""read"", all\r\nlines",');
    expect(records.find((r) => r.seq === '1')).toMatchObject({ allowed: 'false' });
  });

  it('refuses an unknown format naming it', async () => {
    const res = await request(app).get('/v1/tenants/acme/decisions/export?format=xml').set(admin);
    expectProblem(res, 400, '?format');
  });

  it('streams 20k rows in chunks, every row once', async () => {
    const server = http.createServer(app).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const { chunks, text } = await new Promise<{ chunks: number; text: string }>(
        (resolve, reject) => {
          http
            .get(
              `http://127.0.0.1:${port}/v1/tenants/bulk/decisions/export`,
              { headers: admin },
              (res) => {
                let count = 0;
                const parts: Buffer[] = [];
                res.on('data', (chunk: Buffer) => {
                  count++;
                  parts.push(chunk);
                });
                res.on('end', () => {
                  resolve({ chunks: count, text: Buffer.concat(parts).toString('utf8') });
                });
                res.on('error', reject);
              },
            )
            .on('error', reject);
        },
      );
      const lines = text.trimEnd().split('\n');
      expect(lines).toHaveLength(bulkCount);
      // Written batch by batch (1000 rows a query), not as one body.
      expect(chunks).toBeGreaterThanOrEqual(20);
      const ns = lines.map((line) => (JSON.parse(line) as { input: { n: number } }).input.n);
      expect(new Set(ns).size).toBe(bulkCount);
      expect(ns[0]).toBe(bulkCount - 1);
      expect(ns[bulkCount - 1]).toBe(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('export failures', () => {
  /** An app over a database handle of its own, to take away from it mid-export. */
  async function appOverOwnDatabase(): Promise<{ app: express.Express; own: Database }> {
    const own = await openDatabase(testConfig({ DATABASE_URL: database.url }), silentLogger);
    const ownApp = express();
    ownApp.use(
      decisionsRouter({
        access: new PlatformAccess({
          adminToken,
          apiKeys: new ApiKeyService({ knex: own.knex, logger: silentLogger }),
          tenants: new TenantService(db.knex),
          logger: silentLogger,
        }),
        tenants: new TenantService(db.knex),
        knex: own.knex,
        logger: silentLogger,
        exportBatchSize: 1,
      }),
    );
    ownApp.use(problemHandler(silentLogger));
    return { app: ownApp, own };
  }

  it('answers a problem when the first read fails', async () => {
    const { app: ownApp, own } = await appOverOwnDatabase();
    await own.close();
    const res = await request(ownApp).get('/v1/tenants/acme/decisions/export').set(admin);
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('cuts the stream short when a later read fails, never ending it cleanly', async () => {
    const { app: ownApp, own } = await appOverOwnDatabase();
    const server = http.createServer(ownApp).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const outcome = await new Promise<string>((resolve) => {
        http.get(
          `http://127.0.0.1:${port}/v1/tenants/bulk/decisions/export`,
          { headers: admin },
          (res) => {
            let closing = false;
            res.on('data', () => {
              if (closing) return;
              closing = true;
              void own.close();
            });
            res.on('end', () => {
              resolve(res.complete ? 'complete' : 'incomplete');
            });
            res.on('error', () => {
              resolve('aborted');
            });
          },
        );
      });
      expect(outcome).not.toBe('complete');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('verify', () => {
  it('reports an intact chain, over a range too', async () => {
    const res = await request(app).get('/v1/tenants/acme/decisions/verify').set(admin).expect(200);
    expect(res.body).toMatchObject({ ok: true, rows: acmeCount, last_seq: acmeCount });
    const ranged = await request(app)
      .get('/v1/tenants/acme/decisions/verify')
      .query({ from: new Date(base + 10 * 60_000).toISOString() })
      .set(admin)
      .expect(200);
    expect(ranged.body).toMatchObject({ ok: true, rows: acmeCount - 10 });
    expectProblem(
      await request(app).get('/v1/tenants/acme/decisions/verify?from=soon').set(admin),
      400,
      '?from',
    );
  });

  it('names the row edited in SQL', async () => {
    const globex = (await search({}, admin, 'globex').expect(200)).body as Page;
    const third = globex.decisions.find((d) => d.seq === 3) as Decision;
    await db.knex.raw(
      `update decisions set result = 'false'::jsonb, allowed = false where decision_id = ?`,
      [third.decision_id],
    );
    const res = await request(app)
      .get('/v1/tenants/globex/decisions/verify')
      .set(admin)
      .expect(200);
    expect(res.body).toMatchObject({
      ok: false,
      rows: 2,
      first_bad: { decision_id: third.decision_id, seq: 3 },
      last_seq: 2,
    });
    expect((res.body as { first_bad: { reason: string } }).first_bad.reason).toMatch(/altered/);
    // The other tenant's chain is untouched.
    const acme = await request(app).get('/v1/tenants/acme/decisions/verify').set(admin);
    expect(acme.body).toMatchObject({ ok: true });
  });
});
