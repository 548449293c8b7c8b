/**
 * The audit writer against the real Postgres (and the embedded database): batching, the
 * hash chain, tampering, outages (the database refusing connections mid-stream), shutdown
 * under load, strict mode, and replay of a spool left by an earlier process.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Knex } from 'knex';
import pg from 'pg';
import { createKnex, openDatabase } from '../../api/db/database';
import { insertAnchors } from '../../api/services/audit/anchors';
import { readChainHead } from '../../api/services/audit/store';
import { migrateUp } from '../../api/db/migrator';
import { VerdictError } from '../../api/errors';
import {
  AuditWriter,
  createAuditWriter,
  ensureDecisionPartitions,
  listDecisionPartitions,
  maskInput,
  spoolFileName,
  verifyChain,
  type AuditEntry,
  type AuditWriterOptions,
} from '../../api/services/audit';
import {
  capturingLogger,
  createTestDatabase,
  postgresUrl,
  silentLogger,
  tempDir,
  testConfig,
  type TestDatabase,
} from './helpers/services';

jest.setTimeout(120_000);

const tenantA = '0a000000-0000-4000-8000-00000000000a';
const tenantB = '0b000000-0000-4000-8000-00000000000b';

function decision(tenantId: string, i: number, extra: Partial<AuditEntry> = {}): AuditEntry {
  return {
    tenantId,
    path: 'rbac/allow',
    bundleName: 'rbac',
    bundleVersion: '1.0.0',
    bundleRevision: 'r1',
    input: { user: `u${i}`, action: i % 3 === 0 ? 'write' : 'read' },
    result: i % 5 === 0 ? undefined : { allow: i % 2 === 0 },
    caller: 'key-1',
    cache: i % 4 === 0 ? 'hit' : 'miss',
    durationUs: i,
    ...extra,
  };
}

async function adminQuery(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

/** Makes the database refuse every connection (and ends the open ones), or take them again. */
async function setReachable(database: TestDatabase, reachable: boolean): Promise<void> {
  await adminQuery(`alter database "${database.name}" with allow_connections ${reachable}`);
  if (!reachable) {
    await adminQuery(
      'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
      [database.name],
    );
  }
}

/** Waits for a condition the writer reaches on its own timers (no fixed sleeps). */
async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function countRows(knex: Knex, tenantId?: string): Promise<number> {
  const query = knex('decisions').count<{ n: string }[]>('* as n');
  if (tenantId !== undefined) void query.where('tenant_id', tenantId);
  const [row] = await query;
  return Number(row?.n ?? 0);
}

/** Decision ids of a tenant in chain order. */
async function idsInChainOrder(knex: Knex, tenantId: string): Promise<string[]> {
  return knex('decisions').where('tenant_id', tenantId).orderBy('seq').pluck('decision_id');
}

/** Every decision is in the table once, in the order recorded, and both chains verify. */
async function expectAllRecorded(knex: Knex, recorded: Map<string, string[]>): Promise<void> {
  let total = 0;
  for (const [tenantId, ids] of recorded) {
    expect(await idsInChainOrder(knex, tenantId)).toEqual(ids);
    const verified = await verifyChain(knex, tenantId, { pageSize: 257 });
    expect(verified).toMatchObject({ ok: true, rows: ids.length, lastSeq: ids.length });
    total += ids.length;
  }
  expect(await countRows(knex)).toBe(total);
  const [distinct] = await knex('decisions').countDistinct<{ n: string }[]>('decision_id as n');
  expect(Number(distinct?.n)).toBe(total);
}

describe('audit log on the real Postgres', () => {
  let database: TestDatabase;
  let knex: Knex;
  let dataDir: ReturnType<typeof tempDir>;
  const writers: AuditWriter[] = [];

  async function openWriter(options: Partial<AuditWriterOptions> = {}): Promise<AuditWriter> {
    const writer = await createAuditWriter({
      knex,
      dataDir: dataDir.path,
      logger: silentLogger,
      flushIntervalMs: 20,
      retryIntervalMs: 50,
      insertTimeoutMs: 3000,
      ...options,
    });
    writers.push(writer);
    return writer;
  }

  beforeAll(async () => {
    database = await createTestDatabase('audit');
    knex = createKnex(database.url, 4, silentLogger);
    await migrateUp({ knex, connectionString: database.url });
  });
  beforeEach(async () => {
    dataDir = tempDir('audit');
    await knex('decisions').delete();
  });
  afterEach(async () => {
    await setReachable(database, true);
    await Promise.all(writers.splice(0).map((writer) => writer.close()));
    dataDir.remove();
  });
  afterAll(async () => {
    await knex.destroy();
    await database.drop();
  });

  it('flushes a full batch at once and the rest when asked', async () => {
    const writer = await openWriter({ batchSize: 10, flushIntervalMs: 3_600_000 });
    for (let i = 0; i < 10; i++) writer.record(decision(tenantA, i));
    await writer.settled();
    expect(await countRows(knex)).toBe(10);
    for (let i = 10; i < 15; i++) writer.record(decision(tenantA, i));
    await writer.settled();
    expect(await countRows(knex)).toBe(10);
    expect(writer.queueLength).toBe(5);
    await writer.flush();
    expect(await countRows(knex)).toBe(15);
    expect(writer.counters).toEqual({
      queued: 15,
      written: 15,
      spooled: 0,
      replayed: 0,
      dropped: 0,
    });
  });

  it('flushes a partial batch after the flush interval', async () => {
    const writer = await openWriter({ batchSize: 1000, flushIntervalMs: 30 });
    for (let i = 0; i < 3; i++) writer.record(decision(tenantA, i));
    expect(writer.queueLength).toBe(3);
    await until(async () => (await countRows(knex)) === 3, 'the timed flush');
    expect(writer.counters.written).toBe(3);
  });

  it('stores rows as recorded: masked input, undefined and null results, derived allowed', async () => {
    const writer = await openWriter();
    const input = { user: 'ann', password: 'hunter2', card: { number: '4111', brand: 'visa' } };
    const masked = writer.record(
      decision(tenantA, 1, {
        input: maskInput(input, ['/input/password', '/input/card/number']),
        result: true,
      }),
    );
    const undefinedResult = writer.record(
      decision(tenantA, 2, { result: undefined, input: undefined }),
    );
    const nullResult = writer.record(decision(tenantA, 3, { result: null }));
    const odd = writer.record(
      decision(tenantA, 4, {
        path: 'a\u0000b',
        input: { 'k\u0000': '\uD800' },
        result: { allow: 'x' },
      }),
    );
    await writer.flush();
    const rows = await knex('decisions')
      .select(
        knex.raw('decision_id, input, result, result is null as no_result, allowed, path, cache'),
      )
      .orderBy('seq');
    expect(rows).toEqual([
      {
        decision_id: masked.decisionId,
        input: { user: 'ann', card: { brand: 'visa' } },
        result: true,
        no_result: false,
        allowed: true,
        path: 'rbac/allow',
        cache: 'miss',
      },
      {
        decision_id: undefinedResult.decisionId,
        input: null,
        result: null,
        no_result: true,
        allowed: null,
        path: 'rbac/allow',
        cache: 'miss',
      },
      {
        decision_id: nullResult.decisionId,
        input: { user: 'u3', action: 'write' },
        result: null,
        no_result: false,
        allowed: null,
        path: 'rbac/allow',
        cache: 'miss',
      },
      {
        decision_id: odd.decisionId,
        input: { 'k\uFFFD': '\uFFFD' },
        result: { allow: 'x' },
        no_result: false,
        allowed: null,
        path: 'a\uFFFDb',
        cache: 'hit',
      },
    ]);
    expect(input.password).toBe('hunter2');
    expect(await verifyChain(knex, tenantA)).toMatchObject({ ok: true, rows: 4 });
  });

  it('keeps one valid chain per tenant over many rows, and recovers the heads on restart', async () => {
    const recorded = new Map<string, string[]>([
      [tenantA, []],
      [tenantB, []],
    ]);
    const first = await openWriter({ batchSize: 100 });
    for (let i = 0; i < 1500; i++) {
      const tenantId = i % 3 === 0 ? tenantB : tenantA;
      recorded.get(tenantId)?.push(first.record(decision(tenantId, i)).decisionId);
      if (i % 200 === 0) await nextTurn();
    }
    await first.close();
    expect(() => first.record(decision(tenantA, 0))).toThrow(/closed/);
    await expect(first.recordStrict(decision(tenantA, 0))).rejects.toThrow(/closed/);
    const headA = await readChainHead(knex, tenantA);
    expect(headA?.seq).toBe(recorded.get(tenantA)?.length);

    const second = await openWriter();
    const next = await second.recordStrict(decision(tenantA, 9999));
    recorded.get(tenantA)?.push(next.decisionId);
    expect(next.seq).toBe((headA?.seq ?? 0) + 1);
    expect(next.prevHash).toBe(headA?.hash);
    await expectAllRecorded(knex, recorded);
    expect(await readChainHead(knex, tenantA)).toEqual({
      seq: next.seq,
      hash: next.hash,
      ts: next.ts,
    });
    expect(await readChainHead(knex, '0c000000-0000-4000-8000-00000000000c')).toBeUndefined();
  });

  it('continues a chain pruned whole from its retention anchor', async () => {
    const first = await openWriter();
    for (const i of [0, 1, 2]) first.record(decision(tenantB, i));
    await first.flush();
    const last = await readChainHead(knex, tenantB);
    if (last === undefined) throw new Error('no rows were written');
    // What `verdict audit prune` leaves when every row of the chain was past retention.
    await insertAnchors(knex, [
      {
        tenantId: tenantB,
        month: last.ts.toISOString().slice(0, 7),
        firstSeq: 1,
        lastSeq: last.seq,
        lastHash: last.hash,
        lastTs: last.ts,
        exportFile: 'exported.ndjson',
        exportSha256: 'f'.repeat(64),
      },
    ]);
    await knex('decisions').where('tenant_id', tenantB).delete();
    try {
      expect(await readChainHead(knex, tenantB)).toEqual(last);
      // The writer that wrote the pruned rows (it knows their time) and a new one both go on.
      const next = await first.recordStrict(decision(tenantB, 3));
      expect(next.seq).toBe(last.seq + 1);
      expect(next.prevHash).toBe(last.hash);
      await first.close();
      const second = await openWriter();
      const after = await second.recordStrict(decision(tenantB, 4));
      expect(after).toMatchObject({ seq: last.seq + 2, prevHash: next.hash });
      expect(await verifyChain(knex, tenantB)).toMatchObject({
        ok: true,
        rows: 2,
        anchor: { seq: last.seq, hash: last.hash },
      });
    } finally {
      await knex('audit_chain_anchors').where('tenant_id', tenantB).delete();
    }
  });

  it('names the first altered, removed or reordered row', async () => {
    const writer = await openWriter();
    const ids: string[] = [];
    const base = Date.parse('2026-11-27T10:00:00Z');
    for (let i = 0; i < 30; i++) {
      ids.push(writer.record(decision(tenantA, i, { ts: new Date(base + i * 1000) })).decisionId);
    }
    writer.record(decision(tenantB, 0));
    await writer.flush();
    expect(await verifyChain(knex, tenantA, { pageSize: 7 })).toMatchObject({ ok: true, rows: 30 });

    // A time range: rows 10..19, linked to row 9.
    const range = await verifyChain(knex, tenantA, {
      from: new Date(base + 10_000),
      to: new Date(base + 20_000),
    });
    expect(range).toMatchObject({ ok: true, rows: 10, lastSeq: 20 });
    expect(await verifyChain(knex, tenantA, { from: new Date(base + 3_600_000) })).toEqual({
      ok: true,
      rows: 0,
    });

    await knex('decisions')
      .where('decision_id', ids[12])
      .update({ input: JSON.stringify({ user: 'mallory' }) });
    const altered = await verifyChain(knex, tenantA);
    expect(altered).toMatchObject({
      ok: false,
      rows: 12,
      firstBadDecisionId: ids[12],
      firstBadSeq: 13,
      lastSeq: 12,
    });
    expect(altered.reason).toMatch(/hash of seq 13 does not match its content/);
    // Tenant B's chain is not affected.
    expect(await verifyChain(knex, tenantB)).toMatchObject({ ok: true, rows: 1 });

    await knex('decisions').where('decision_id', ids[12]).delete();
    const removed = await verifyChain(knex, tenantA);
    expect(removed).toMatchObject({ ok: false, firstBadDecisionId: ids[13] });
    expect(removed.reason).toMatch(/rows 13..13 are missing before seq 14/);
    const rangeAfterGap = await verifyChain(knex, tenantA, { from: new Date(base + 13_000) });
    expect(rangeAfterGap).toMatchObject({ ok: false, firstBadDecisionId: ids[13] });
    expect(rangeAfterGap.reason).toMatch(/row 13 before seq 14 is missing/);

    await knex('decisions').where('decision_id', ids[20]).update({ seq: 20 });
    const repeated = await verifyChain(knex, tenantA, { from: new Date(base + 15_000) });
    expect(repeated).toMatchObject({ ok: false, firstBadDecisionId: ids[20] });
    expect(repeated.reason).toMatch(/seq 20 appears again after seq 20/);

    await knex('decisions')
      .where('decision_id', ids[0])
      .update({ prev_hash: 'a'.repeat(64) });
    expect((await verifyChain(knex, tenantA)).reason).toMatch(/first row but its prev_hash/);
    await knex('decisions')
      .where('decision_id', ids[2])
      .update({ prev_hash: 'a'.repeat(64) });
    const relinked = await verifyChain(knex, tenantA, { from: new Date(base + 2000) });
    expect(relinked).toMatchObject({ ok: false, firstBadDecisionId: ids[2] });
    expect(relinked.reason).toMatch(/prev_hash of seq 3 does not match the hash of seq 2/);
  });

  it('stores trace ids beside rows without one, verifies both, and notices an altered one', async () => {
    const writer = await openWriter();
    const traceId = (i: number): string => `${i.toString(16).padStart(2, '0')}${'ab'.repeat(15)}`;
    const ids: string[] = [];
    for (let i = 1; i <= 12; i++) {
      const extra = i % 2 === 0 ? { traceId: traceId(i) } : {};
      ids.push(writer.record(decision(tenantA, i, extra)).decisionId);
    }
    await writer.flush();
    const stored = await knex('decisions')
      .where('tenant_id', tenantA)
      .orderBy('seq')
      .pluck<(string | null)[]>('trace_id');
    expect(stored).toEqual(
      Array.from({ length: 12 }, (_, i) => ((i + 1) % 2 === 0 ? traceId(i + 1) : null)),
    );
    expect(await verifyChain(knex, tenantA)).toMatchObject({ ok: true, rows: 12 });

    // A trace id set on a row that had none, or changed, breaks the chain there.
    await knex('decisions')
      .where('decision_id', ids[2])
      .update({ trace_id: traceId(99) });
    expect(await verifyChain(knex, tenantA)).toMatchObject({
      ok: false,
      firstBadDecisionId: ids[2],
    });
    await knex('decisions').where('decision_id', ids[2]).update({ trace_id: null });
    await knex('decisions')
      .where('decision_id', ids[3])
      .update({ trace_id: traceId(98) });
    expect(await verifyChain(knex, tenantA)).toMatchObject({
      ok: false,
      firstBadDecisionId: ids[3],
    });
    // The column refuses what is not a trace id.
    await expect(
      knex('decisions').where('decision_id', ids[3]).update({ trace_id: 'not-a-trace' }),
    ).rejects.toThrow(/check constraint/);
  });

  it('loses nothing when the database refuses connections during a stream of decisions', async () => {
    const writer = await openWriter({ batchSize: 50, insertTimeoutMs: 2000 });
    const recorded = new Map<string, string[]>([
      [tenantA, []],
      [tenantB, []],
    ]);
    let i = 0;
    const stream = async (count: number): Promise<void> => {
      for (const end = i + count; i < end; i++) {
        const tenantId = i % 2 === 0 ? tenantA : tenantB;
        recorded.get(tenantId)?.push(writer.record(decision(tenantId, i)).decisionId);
        if (i % 25 === 0) await nextTurn();
      }
    };
    await stream(400);
    await setReachable(database, false);
    // Keep deciding until the writer has noticed and spooled.
    while (!writer.isSpooling) await stream(50);
    await stream(800);
    expect(fs.statSync(path.join(dataDir.path, spoolFileName)).size).toBeGreaterThan(0);
    await setReachable(database, true);
    await stream(400);
    await until(() => !writer.isSpooling && writer.queueLength === 0, 'the spool replay');
    await writer.flush();
    await expectAllRecorded(knex, recorded);
    const counters = writer.counters;
    expect(counters.queued).toBe(i);
    expect(counters.written + counters.replayed).toBe(i);
    expect(counters.replayed).toBeGreaterThan(0);
    expect(counters.dropped).toBe(0);
    expect(fs.statSync(path.join(dataDir.path, spoolFileName)).size).toBe(0);
  });

  it('spills a full queue to the spool at once while the database is down', async () => {
    const writer = await openWriter({ batchSize: 20, maxQueue: 100, retryIntervalMs: 100_000 });
    const recorded = new Map<string, string[]>([[tenantA, []]]);
    writer.record(decision(tenantA, 0));
    recorded.get(tenantA)?.push(...(await idsAfterFlush(writer)));
    await setReachable(database, false);
    for (let i = 1; i <= 250; i++)
      recorded.get(tenantA)?.push(writer.record(decision(tenantA, i)).decisionId);
    // Synchronously spooled: two full queues of 100 rows, before any insert could fail.
    const spoolFile = path.join(dataDir.path, spoolFileName);
    expect(fs.readFileSync(spoolFile, 'utf8').trim().split('\n').length).toBeGreaterThanOrEqual(
      200,
    );
    expect(writer.isSpooling).toBe(true);
    await setReachable(database, true);
    await writer.close();
    await expectAllRecorded(knex, recorded);
    expect(fs.statSync(spoolFile).size).toBe(0);
  });

  async function idsAfterFlush(writer: AuditWriter): Promise<string[]> {
    await writer.flush();
    return idsInChainOrder(knex, tenantA);
  }

  it('writes everything on close during load, rows recorded while closing included', async () => {
    const writer = await openWriter({ batchSize: 200, flushIntervalMs: 3_600_000 });
    const recorded = new Map<string, string[]>([
      [tenantA, []],
      [tenantB, []],
    ]);
    const add = (n: number): void => {
      const tenantId = n % 2 === 0 ? tenantA : tenantB;
      recorded.get(tenantId)?.push(writer.record(decision(tenantId, n)).decisionId);
    };
    for (let n = 0; n < 3000; n++) add(n);
    const closing = writer.close();
    for (let n = 3000; n < 3100; n++) add(n);
    await closing;
    await writer.close();
    await expectAllRecorded(knex, recorded);
  });

  it('answers strict decisions only once their row is in the table', async () => {
    const writer = await openWriter({ flushIntervalMs: 3_600_000, strictTimeoutMs: 60_000 });
    const row = await writer.recordStrict(decision(tenantA, 1));
    expect(await knex('decisions').where('decision_id', row.decisionId).pluck('seq')).toEqual([
      '1',
    ]);

    await setReachable(database, false);
    let settled = false;
    const pending = writer.recordStrict(decision(tenantA, 2)).then((written) => {
      settled = true;
      return written;
    });
    await until(() => writer.isSpooling, 'the failed insert');
    await writer.flush();
    expect(settled).toBe(false);
    await setReachable(database, true);
    const written = await pending;
    expect(await knex('decisions').where('decision_id', written.decisionId).pluck('seq')).toEqual([
      '2',
    ]);
    expect(await verifyChain(knex, tenantA)).toMatchObject({ ok: true, rows: 2 });
  });

  it('rejects a strict decision after its timeout, and still writes its row later', async () => {
    const writer = await openWriter({ strictTimeoutMs: 100 });
    await setReachable(database, false);
    const attempt = writer.recordStrict(decision(tenantA, 1));
    await expect(attempt).rejects.toThrow(VerdictError);
    await expect(attempt).rejects.toMatchObject({ code: 'database_unavailable' });
    await setReachable(database, true);
    await until(() => !writer.isSpooling, 'the spool replay');
    expect(await countRows(knex, tenantA)).toBe(1);
  });

  it('rejects strict waiters at close while the database is down, and replays the spool in the next process', async () => {
    const first = await openWriter({ strictTimeoutMs: 60_000 });
    const recorded = new Map<string, string[]>([
      [tenantA, []],
      [tenantB, []],
    ]);
    for (let i = 0; i < 20; i++) {
      const tenantId = i % 2 === 0 ? tenantA : tenantB;
      recorded.get(tenantId)?.push(first.record(decision(tenantId, i)).decisionId);
    }
    await first.flush();
    await setReachable(database, false);
    for (let i = 20; i < 120; i++) {
      const tenantId = i % 2 === 0 ? tenantA : tenantB;
      recorded.get(tenantId)?.push(first.record(decision(tenantId, i)).decisionId);
    }
    const strictId = randomUUID();
    const strict = first.recordStrict(decision(tenantA, 120, { decisionId: strictId }));
    recorded.get(tenantA)?.push(strictId);
    await first.close();
    await expect(strict).rejects.toThrow(/kept in the spool/);
    const spoolFile = path.join(dataDir.path, spoolFileName);
    expect(fs.readFileSync(spoolFile, 'utf8').trim().split('\n')).toHaveLength(101);

    await setReachable(database, true);
    expect(await countRows(knex)).toBe(20);
    const second = await openWriter();
    // The new row waits behind the spooled ones: it is the last of the chain.
    const next = second.record(decision(tenantA, 121));
    recorded.get(tenantA)?.push(next.decisionId);
    await until(() => !second.isSpooling, 'the spool replay');
    await second.flush();
    await expectAllRecorded(knex, recorded);
    // The new row goes straight in, or behind the spooled ones if the replay still runs.
    const { replayed, written, dropped } = second.counters;
    expect(replayed).toBeGreaterThanOrEqual(101);
    expect(replayed + written).toBe(102);
    expect(dropped).toBe(0);
  });

  it('refuses entries no row can be made of', async () => {
    const writer = await openWriter();
    const bad: [Partial<AuditEntry>, RegExp][] = [
      [{ tenantId: 'acme' }, /tenantId must be a UUID/],
      [{ decisionId: 'd1' }, /decisionId must be a UUID/],
      [{ ts: new Date('never') }, /ts is not a valid date/],
      [{ path: 5 as unknown as string }, /path must be a string/],
      [{ cache: 'warm' as 'hit' }, /cache must be hit, miss or bypass/],
      [{ durationUs: Number.NaN }, /durationUs must be a non-negative number/],
      [{ durationUs: -1 }, /durationUs must be a non-negative number/],
      [{ traceId: 'ABC' }, /traceId must be 32 lowercase hex digits/],
      [{ traceId: '0'.repeat(32) }, /traceId must be 32 lowercase hex digits/],
    ];
    for (const [overrides, message] of bad) {
      expect(() => writer.record(decision(tenantA, 1, overrides))).toThrow(message);
    }
    await expect(writer.recordStrict(decision(tenantA, 1, { tenantId: 'x' }))).rejects.toThrow(
      /tenantId/,
    );
    expect(writer.counters.queued).toBe(0);
  });

  it('keeps rows in memory while neither the database nor the disk takes them', async () => {
    // Every write to /dev/full fails with ENOSPC.
    fs.symlinkSync('/dev/full', path.join(dataDir.path, spoolFileName));
    const { logger, lines } = capturingLogger();
    const writer = await openWriter({ logger, maxQueue: 30, batchSize: 10 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(writer.record(decision(tenantA, i)).decisionId);
    await writer.flush();
    await setReachable(database, false);
    for (let i = 5; i < 40; i++) ids.push(writer.record(decision(tenantA, i)).decisionId);
    await writer.flush();
    expect(writer.queueLength).toBe(35);
    expect(writer.isSpooling).toBe(false);
    const messages = lines().map((line) => line.msg);
    expect(messages).toContain('cannot write audit rows to the spool; they stay in memory');
    await setReachable(database, true);
    await until(() => writer.queueLength === 0, 'the retried flush');
    expect(await idsInChainOrder(knex, tenantA)).toEqual(ids);

    await setReachable(database, false);
    writer.record(decision(tenantA, 41));
    await writer.close();
    expect(lines().map((line) => line.msg)).toContain(
      'audit rows lost at shutdown: neither the database nor the spool accepts them',
    );
    expect(writer.counters.dropped).toBe(1);
  });

  it('skips a torn spool line and a row already in the table', async () => {
    const first = await openWriter();
    const row = await first.recordStrict(decision(tenantA, 1));
    await first.close();
    // The row as an earlier version spooled it: with its seq and links.
    const line = JSON.stringify({ ...row, ts: row.ts.toISOString() });
    // The row again (already written), then a line torn by a crash.
    fs.writeFileSync(path.join(dataDir.path, spoolFileName), `${line}\n{"decisionId":`);
    const second = await openWriter();
    await until(() => !second.isSpooling, 'the spool replay');
    expect(second.counters).toMatchObject({ replayed: 0, dropped: 1 });
    expect(await verifyChain(knex, tenantA)).toMatchObject({ ok: true, rows: 1 });
  });

  it('refuses a second writer on the same data folder, and to open without the table', async () => {
    await openWriter();
    await expect(openWriter()).rejects.toThrow(/audit spool .* is in use/);
    const bare = await createTestDatabase('audit_bare');
    const bareKnex = createKnex(bare.url, 1, silentLogger);
    const other = tempDir('audit-bare');
    try {
      await expect(
        createAuditWriter({ knex: bareKnex, dataDir: other.path, logger: silentLogger }),
      ).rejects.toMatchObject({ code: 'database_unavailable' });
      // The lock was released: a later open gets past it to the same database error.
      await expect(
        createAuditWriter({ knex: bareKnex, dataDir: other.path, logger: silentLogger }),
      ).rejects.toThrow(/Cannot open the audit log/);
    } finally {
      await bareKnex.destroy();
      await bare.drop();
      other.remove();
    }
  });

  it('creates monthly partitions ahead and puts rows in their month', async () => {
    expect(await ensureDecisionPartitions(knex, new Date('2031-01-15T00:00:00Z'), 3)).toBe(3);
    expect(await ensureDecisionPartitions(knex, new Date('2031-02-01T00:00:00Z'), 2)).toBe(0);
    const partitions = await listDecisionPartitions(knex);
    expect(partitions).toEqual(
      expect.arrayContaining(['decisions_p2031_01', 'decisions_p2031_02', 'decisions_p2031_03']),
    );
    const now = new Date();
    const current = `decisions_p${now.getUTCFullYear()}_${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
    expect(partitions).toContain(current);

    const writer = await openWriter();
    const inFeb = writer.record(decision(tenantA, 1, { ts: new Date('2031-02-28T23:59:59.999Z') }));
    const inMarch = writer.record(decision(tenantA, 2, { ts: new Date('2031-03-01T00:00:00Z') }));
    const later = writer.record(decision(tenantA, 3, { ts: new Date('2040-06-01T00:00:00Z') }));
    await writer.flush();
    const placed = await knex('decisions')
      .select(knex.raw('decision_id, tableoid::regclass::text as partition'))
      .orderBy('seq');
    expect(placed).toEqual([
      { decision_id: inFeb.decisionId, partition: 'decisions_p2031_02' },
      { decision_id: inMarch.decisionId, partition: 'decisions_p2031_03' },
      { decision_id: later.decisionId, partition: 'decisions_default' },
    ]);
  });
});

describe('audit log on the embedded database', () => {
  const dataDir = tempDir('audit-embedded');
  afterAll(() => {
    dataDir.remove();
  });

  it('writes, chains and verifies through the same code path', async () => {
    const db = await openDatabase(testConfig({ VERDICT_DATA_DIR: dataDir.path }), silentLogger);
    try {
      await migrateUp(db);
      const writer = await createAuditWriter({
        knex: db.knex,
        dataDir: dataDir.path,
        logger: silentLogger,
        batchSize: 40,
        embedded: db.mode === 'embedded',
      });
      const recorded = new Map<string, string[]>([
        [tenantA, []],
        [tenantB, []],
      ]);
      for (let i = 0; i < 300; i++) {
        const tenantId = i % 3 === 0 ? tenantB : tenantA;
        recorded.get(tenantId)?.push(writer.record(decision(tenantId, i)).decisionId);
      }
      const strict = await writer.recordStrict(decision(tenantA, 300));
      recorded.get(tenantA)?.push(strict.decisionId);
      await writer.close();
      await expectAllRecorded(db.knex, recorded);
      expect((await listDecisionPartitions(db.knex)).length).toBeGreaterThanOrEqual(2);
    } finally {
      await db.close();
    }
  });
});
