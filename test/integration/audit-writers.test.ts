/**
 * Several audit writers on one database, as pods sharing Postgres run them (and old and new
 * pods during a rolling update): each writer has its own connection pool, data folder and
 * spool, and all of them append to the same tenants' chains. Every chain verifies, every
 * decision is in the table exactly once, each writer's decisions of a tenant keep the order
 * they were recorded in, and `ts` never goes back along a chain. Also on the appends alone:
 * a batch sent again after a commit whose outcome was unknown, batches racing on many
 * connections, and an append waiting for another transaction's chain lock.
 */
import { randomBytes } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Knex } from 'knex';
import pg from 'pg';
import { createKnex, openDatabase } from '../../api/db/database';
import { migrateUp } from '../../api/db/migrator';
import {
  createAuditWriter,
  verifyChain,
  type AuditEntry,
  type AuditWriter,
  type AuditWriterOptions,
} from '../../api/services/audit';
import {
  appendToChains,
  chainLockKey,
  chainLockSpace,
  type AppendResult,
} from '../../api/services/audit/append';
import {
  chainRow,
  headOf,
  pendingRow,
  type AuditRow,
  type PendingRow,
} from '../../api/services/audit/chain';
import { insertRows, readChainHead } from '../../api/services/audit/store';
import {
  createTestDatabase,
  postgresUrl,
  silentLogger,
  tempDir,
  testConfig,
  type TestDatabase,
} from './helpers/services';

jest.setTimeout(120_000);

const tenants = [
  '0a000000-0000-4000-8000-00000000000a',
  '0b000000-0000-4000-8000-00000000000b',
  '0c000000-0000-4000-8000-00000000000c',
] as const;
const [tenantA, tenantB, tenantC] = tenants;

function decision(tenantId: string, i: number, writer: number): AuditEntry {
  return {
    tenantId,
    path: 'rbac/allow',
    bundleName: 'rbac',
    bundleVersion: '1.0.0',
    bundleRevision: 'r1',
    input: { user: `u${String(i)}`, writer },
    result: i % 5 === 0 ? undefined : { allow: i % 2 === 0 },
    caller: `writer-${String(writer)}`,
    cache: i % 4 === 0 ? 'hit' : 'miss',
    durationUs: i,
  };
}

function pending(tenantId: string, i: number): PendingRow {
  return pendingRow(decision(tenantId, i, 0));
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

/** Waits for a condition the writers reach on their own timers (no fixed sleeps). */
async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface ChainRecord {
  decision_id: string;
  caller: string;
  ts: Date;
}

async function chainOf(knex: Knex, tenantId: string): Promise<ChainRecord[]> {
  return knex('decisions')
    .where('tenant_id', tenantId)
    .orderBy('seq')
    .select<ChainRecord[]>('decision_id', 'caller', 'ts');
}

/** Decision ids each writer recorded, per tenant, in the order recorded. */
type Recorded = Map<string, Map<string, string[]>>;

function note(recorded: Recorded, writer: string, tenantId: string, decisionId: string): void {
  const byTenant = recorded.get(writer) ?? new Map<string, string[]>();
  recorded.set(writer, byTenant);
  const ids = byTenant.get(tenantId) ?? [];
  byTenant.set(tenantId, ids);
  ids.push(decisionId);
}

/**
 * Every tenant's chain verifies and holds exactly the decisions recorded for it, each once;
 * each writer's decisions of a tenant are in the order it recorded them; `ts` never goes back.
 */
async function expectLinearChains(knex: Knex, recorded: Recorded): Promise<void> {
  let total = 0;
  const named = new Set([...recorded.values()].flatMap((byTenant) => [...byTenant.keys()]));
  for (const tenantId of named) {
    const chain = await chainOf(knex, tenantId);
    const all = [...recorded.values()].flatMap((byTenant) => byTenant.get(tenantId) ?? []);
    expect(chain.map((row) => row.decision_id).sort()).toEqual([...all].sort());
    expect(await verifyChain(knex, tenantId, { pageSize: 333 })).toMatchObject({
      ok: true,
      rows: all.length,
      lastSeq: all.length,
    });
    for (const byTenant of recorded.values()) {
      const own = new Set(byTenant.get(tenantId) ?? []);
      expect(chain.map((row) => row.decision_id).filter((id) => own.has(id))).toEqual(
        byTenant.get(tenantId) ?? [],
      );
    }
    chain.forEach((row, i) => {
      if (i > 0) expect(row.ts.getTime()).toBeGreaterThanOrEqual(chain[i - 1]?.ts.getTime() ?? 0);
    });
    total += all.length;
  }
  const [counts] = await knex('decisions').select<{ rows: string; ids: string }[]>(
    knex.raw('count(*) as rows, count(distinct decision_id) as ids'),
  );
  expect(counts).toEqual({ rows: String(total), ids: String(total) });
}

/** How often the writer changes from one row of the chain to the next. */
function writerChanges(chain: readonly ChainRecord[]): number {
  return chain.filter((row, i) => i > 0 && row.caller !== chain[i - 1]?.caller).length;
}

describe('several audit writers on one Postgres', () => {
  let database: TestDatabase;
  let knex: Knex;
  const pools: Knex[] = [];
  const writers: AuditWriter[] = [];
  const dirs: { remove: () => void }[] = [];

  /** A writer with a pool and data folder of its own, as another process would have. */
  async function openWriter(
    options: Partial<AuditWriterOptions> & { url?: string } = {},
  ): Promise<AuditWriter> {
    const { url, ...rest } = options;
    const pool = createKnex(url ?? database.url, 3, silentLogger);
    pools.push(pool);
    const dir = tempDir('audit-writers');
    dirs.push(dir);
    const writer = await createAuditWriter({
      knex: pool,
      dataDir: dir.path,
      logger: silentLogger,
      flushIntervalMs: 5,
      retryIntervalMs: 30,
      insertTimeoutMs: 5000,
      ...rest,
    });
    writers.push(writer);
    return writer;
  }

  beforeAll(async () => {
    database = await createTestDatabase('audit_writers');
    knex = createKnex(database.url, 4, silentLogger);
    await migrateUp({ knex, connectionString: database.url });
  });
  beforeEach(async () => {
    await knex('decisions').delete();
  });
  afterEach(async () => {
    await Promise.all(writers.splice(0).map((writer) => writer.close()));
    await Promise.all(pools.splice(0).map((pool) => pool.destroy()));
    for (const dir of dirs.splice(0)) dir.remove();
  });
  afterAll(async () => {
    await knex.destroy();
    await database.drop();
  });

  it('keeps one linear chain per tenant while three writers record interleaved decisions, one through its spool', async () => {
    const plain = [await openWriter({ batchSize: 25 }), await openWriter({ batchSize: 40 })];
    // A queue this short spills to the spool whenever it fills: these rows go queue -> spool
    // -> replay while the other writers keep inserting.
    const spilling = await openWriter({ batchSize: 10, maxQueue: 10 });
    const all = [...plain, spilling];
    const recorded: Recorded = new Map();
    const strict: Promise<unknown>[] = [];
    for (let i = 0; i < 900; i++) {
      all.forEach((writer, w) => {
        const tenantId = tenants[(i + w) % tenants.length] as string;
        const entry = decision(tenantId, i, w);
        if (i % 150 === 0) {
          const row = pendingRow(entry);
          note(recorded, `writer-${String(w)}`, tenantId, row.decisionId);
          strict.push(writer.recordStrict({ ...entry, decisionId: row.decisionId }));
        } else {
          note(recorded, `writer-${String(w)}`, tenantId, writer.record(entry).decisionId);
        }
      });
      if (i % 15 === 0) await nextTurn();
    }
    await Promise.all(strict);
    await Promise.all(all.map((writer) => writer.close()));

    expect(spilling.counters.spooled).toBeGreaterThan(0);
    expect(spilling.counters.replayed).toBeGreaterThan(0);
    for (const writer of all) {
      const { queued, written, replayed, dropped } = writer.counters;
      expect([written + replayed, dropped]).toEqual([queued, 0]);
    }
    await expectLinearChains(knex, recorded);
    // The writers really took turns on each chain (not one after the other).
    for (const tenantId of tenants) {
      const chain = await chainOf(knex, tenantId);
      expect(new Set(chain.map((row) => row.caller)).size).toBe(3);
      expect(writerChanges(chain)).toBeGreaterThanOrEqual(3);
    }
  });

  it('joins the rows of a writer that lost the database into the chains the others kept writing', async () => {
    // The first writer connects as a role of its own, which can be shut out alone.
    const role = `verdict_writer_${String(process.pid)}_${randomBytes(3).toString('hex')}`;
    await adminQuery(`create role ${role} login superuser`);
    const url = new URL(database.url);
    url.username = role;
    try {
      const cut = await openWriter({ url: url.toString(), batchSize: 20, insertTimeoutMs: 2000 });
      const steady = await openWriter({ batchSize: 20 });
      const recorded: Recorded = new Map();
      let i = 0;
      const stream = async (count: number): Promise<void> => {
        for (const end = i + count; i < end; i++) {
          for (const [w, writer] of [cut, steady].entries()) {
            const tenantId = tenants[(i + w) % 2] as string;
            note(
              recorded,
              `writer-${String(w)}`,
              tenantId,
              writer.record(decision(tenantId, i, w)).decisionId,
            );
          }
          if (i % 10 === 0) await nextTurn();
        }
      };
      await stream(100);
      await adminQuery(`alter role ${role} nologin`);
      await adminQuery(
        'select pg_terminate_backend(pid) from pg_stat_activity where usename = $1',
        [role],
      );
      while (!cut.isSpooling) await stream(20);
      await stream(300);
      await until(
        async () => (await chainOf(knex, tenantB)).length > 150,
        'rows of the steady writer',
      );
      await adminQuery(`alter role ${role} login`);
      await stream(100);
      await until(() => !cut.isSpooling && cut.queueLength === 0, 'the spool replay');
      await Promise.all([cut.close(), steady.close()]);

      expect(cut.counters.replayed).toBeGreaterThan(0);
      expect(steady.counters.spooled).toBe(0);
      await expectLinearChains(knex, recorded);
    } finally {
      await Promise.all(pools.splice(0).map((pool) => pool.destroy()));
      await adminQuery(`drop role if exists ${role}`);
    }
  });

  it('leaves out rows already in the table when a batch is appended again', async () => {
    const first = [pending(tenantA, 1), pending(tenantB, 2), pending(tenantA, 3)];
    const written = await appendToChains(knex, first, {
      timeoutMs: 5000,
      freeLocksWhenIdle: true,
      mayBeWritten: true,
    });
    expect(written.inserted).toBe(3);
    expect(written.rows.map((row) => [row.tenantId, row.seq])).toEqual([
      [tenantA, 1],
      [tenantB, 1],
      [tenantA, 2],
    ]);

    // The same batch again (its commit was never confirmed), with new rows and a repeat.
    const more = [pending(tenantA, 4), pending(tenantB, 5)];
    const again = await appendToChains(knex, [...first, more[0] as PendingRow, ...first, ...more], {
      timeoutMs: 5000,
      freeLocksWhenIdle: true,
      mayBeWritten: true,
    });
    expect(again.inserted).toBe(2);
    expect(again.rows.slice(0, 3)).toEqual(written.rows);
    expect(again.rows.slice(3).map((row) => [row.decisionId, row.seq])).toEqual([
      [more[0]?.decisionId, 3],
      [more[1]?.decisionId, 2],
    ]);
    expect(
      (
        await appendToChains(knex, [...first, ...more], {
          timeoutMs: 5000,
          freeLocksWhenIdle: true,
          mayBeWritten: true,
        })
      ).inserted,
    ).toBe(0);
    expect(await verifyChain(knex, tenantA)).toMatchObject({ ok: true, rows: 3 });
    expect(await verifyChain(knex, tenantB)).toMatchObject({ ok: true, rows: 2 });
    const [count] = await knex('decisions').count<{ n: string }[]>('* as n');
    expect(Number(count?.n)).toBe(5);
  });

  it('appends batches racing on many connections, tenants in any order, without a fork or a deadlock', async () => {
    const racers = [1, 2, 3].map(() => createKnex(database.url, 4, silentLogger));
    pools.push(...racers);
    const batches = Array.from({ length: 24 }, (_, b) => {
      // Each batch names the tenants in another order, so unsorted locking would deadlock.
      const order = b % 2 === 0 ? tenants : [...tenants].reverse();
      return Array.from({ length: 30 }, (__, i) => pending(order[i % 3] as string, b * 100 + i));
    });
    const results = await Promise.all(
      batches.map((batch, b) =>
        appendToChains(racers[b % racers.length] as Knex, batch, {
          timeoutMs: 30_000,
          freeLocksWhenIdle: true,
          mayBeWritten: b % 2 === 0,
        }),
      ),
    );
    expect(results.reduce((sum, result) => sum + result.inserted, 0)).toBe(24 * 30);
    for (const tenantId of tenants) {
      expect(await verifyChain(knex, tenantId)).toMatchObject({
        ok: true,
        rows: 240,
        lastSeq: 240,
      });
    }
  });

  it('waits for a chain lock held by another transaction, then continues from what it wrote', async () => {
    const holder = createKnex(database.url, 1, silentLogger);
    const other = createKnex(database.url, 2, silentLogger);
    pools.push(holder, other);
    const before = await appendToChains(knex, [pending(tenantC, 1)], {
      timeoutMs: 5000,
      freeLocksWhenIdle: true,
      mayBeWritten: false,
    });
    const first = before.rows[0] as AuditRow;
    let waiting: Promise<AppendResult> | undefined;
    const theirs = await holder.transaction(async (trx) => {
      await trx.raw('select pg_advisory_xact_lock(?, ?)', [chainLockSpace, chainLockKey(tenantC)]);
      // Given up while the lock stays taken: nothing is written.
      await expect(
        appendToChains(other, [pending(tenantC, 2)], {
          timeoutMs: 300,
          freeLocksWhenIdle: true,
          mayBeWritten: true,
        }),
      ).rejects.toThrow();
      // It knows the head as it was (its time bounds where the head is looked for).
      waiting = appendToChains(other, [pending(tenantC, 3)], {
        timeoutMs: 30_000,
        freeLocksWhenIdle: true,
        mayBeWritten: false,
        headsSince: new Map([[tenantC, first.ts]]),
      });
      await until(async () => {
        const [row] = await knex('pg_locks')
          .where({ locktype: 'advisory', granted: false, objsubid: 2 })
          .andWhereRaw('classid = ?::bigint::oid and objid = ?::bigint::oid', [
            chainLockSpace,
            chainLockKey(tenantC) >>> 0,
          ])
          .count<{ n: string }[]>('* as n');
        return Number(row?.n) > 0;
      }, 'the append to wait for the lock');
      // The lock holder appends a row of its own after the head, and commits.
      const row = chainRow(decision(tenantC, 4, 9), headOf(first));
      await insertRows(trx, [row], 5000);
      return row;
    });
    const appended = await (waiting as Promise<AppendResult>);
    expect(appended.rows[0]).toMatchObject({ seq: 3, prevHash: theirs.hash });
    expect(appended.heads.get(tenantC)).toEqual(headOf(appended.rows[0] as AuditRow));
    expect(await readChainHead(knex, tenantC)).toEqual(headOf(appended.rows[0] as AuditRow));
    expect(await verifyChain(knex, tenantC)).toMatchObject({ ok: true, rows: 3 });
  });
});

describe('two audit writers on the embedded database', () => {
  const dataDir = tempDir('audit-writers-embedded');
  afterAll(() => {
    dataDir.remove();
  });

  it('append to one chain per tenant through the same locks', async () => {
    const db = await openDatabase(testConfig({ VERDICT_DATA_DIR: dataDir.path }), silentLogger);
    const second = createKnex(db.connectionString, 2, silentLogger);
    const dirs = [tempDir('audit-writers-embedded-1'), tempDir('audit-writers-embedded-2')];
    try {
      await migrateUp(db);
      const writers = await Promise.all(
        [db.knex, second].map((knex, w) =>
          createAuditWriter({
            knex,
            dataDir: (dirs[w] as { path: string }).path,
            logger: silentLogger,
            batchSize: 15,
            flushIntervalMs: 5,
            embedded: db.mode === 'embedded',
          }),
        ),
      );
      const recorded: Recorded = new Map();
      for (let i = 0; i < 150; i++) {
        writers.forEach((writer, w) => {
          const tenantId = tenants[(i + w) % tenants.length] as string;
          note(
            recorded,
            `writer-${String(w)}`,
            tenantId,
            writer.record(decision(tenantId, i, w)).decisionId,
          );
        });
        if (i % 10 === 0) await nextTurn();
      }
      await Promise.all(writers.map((writer) => writer.close()));
      await expectLinearChains(db.knex, recorded);
    } finally {
      await second.destroy();
      await db.close();
      for (const dir of dirs) dir.remove();
    }
  });
});
