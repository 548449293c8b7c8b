/**
 * Retention of the decision log on the real Postgres: rows written through the audit writer
 * into old monthly partitions (and the default partition) for tenants with different
 * retentions; a prune exports each tenant's months past retention, drops or deletes what it
 * should, keeps the rest, leaves every chain verifiable from its anchor, and does nothing
 * more when run again. A dry run changes nothing.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { createKnex, openDatabase } from '../../api/db/database';
import { migrateUp } from '../../api/db/migrator';
import {
  createAuditWriter,
  ensureDecisionPartitions,
  listDecisionPartitions,
  verifyChain,
  type AuditRow,
  type AuditWriter,
} from '../../api/services/audit';
import type { PendingRow } from '../../api/services/audit/chain';
import { fromRecord, storedColumns, type StoredRecord } from '../../api/services/audit/store';
import { loadChainAnchors, readChainAnchor } from '../../api/services/audit/anchors';
import { archiveMonth } from '../../api/services/audit/archive';
import { pruneDecisions, type PruneReport } from '../../api/services/audit/retention';
import { chainStart } from '../../api/services/audit/verify';
import { ndjsonLine } from '../../api/services/audit/views';
import { TenantService } from '../../api/services/tenants';
import {
  createTestDatabase,
  silentLogger,
  tempDir,
  testConfig,
  type TestDatabase,
} from './helpers/services';

jest.setTimeout(120_000);

/** Retention counts back from here: mid-October 2026. */
const now = new Date('2026-10-15T00:00:00.000Z');

/** The rows each tenant was given, by month (`2026-05`), as recorded. */
type Written = Map<string, PendingRow[]>;

interface World {
  database: TestDatabase;
  knex: Knex;
  writer: AuditWriter;
  dirs: { path: string; remove: () => void }[];
  tenants: Map<string, string>;
  written: Map<string, Written>;
  /** The rows as the table had them before any prune (see `remember`), by decision id. */
  stored: Map<string, AuditRow>;
}

async function openWorld(label: string): Promise<World> {
  const database = await createTestDatabase(label);
  const knex = createKnex(database.url, 4, silentLogger);
  await migrateUp({ knex, connectionString: database.url });
  // May to October get their own partitions; April's rows land in decisions_default.
  await ensureDecisionPartitions(knex, new Date('2026-05-01T00:00:00Z'), 6);
  const writerDir = tempDir('retention-writer');
  const writer = await createAuditWriter({ knex, dataDir: writerDir.path, logger: silentLogger });
  return {
    database,
    knex,
    writer,
    dirs: [writerDir],
    tenants: new Map(),
    written: new Map(),
    stored: new Map(),
  };
}

async function closeWorld(world: World): Promise<void> {
  await world.writer.close();
  await world.knex.destroy();
  for (const dir of world.dirs) dir.remove();
  await world.database.drop();
}

async function addTenant(world: World, slug: string, days: number | null): Promise<string> {
  const tenant = await new TenantService(world.knex).create({
    slug,
    name: slug,
    audit_retention_days: days,
  });
  world.tenants.set(slug, tenant.id);
  world.written.set(tenant.id, new Map());
  return tenant.id;
}

/** Writes `count` decisions of a tenant on the 10th of a month (in chain order: call oldest first). */
function write(world: World, slug: string, month: string, count: number): void {
  const tenantId = world.tenants.get(slug) as string;
  const byMonth = world.written.get(tenantId) as Written;
  const rows = byMonth.get(month) ?? [];
  for (let i = 0; i < count; i++) {
    rows.push(
      world.writer.record({
        tenantId,
        ts: new Date(`${month}-10T08:${String(10 + rows.length).padStart(2, '0')}:00.000Z`),
        path: 'rbac/allow',
        bundleName: 'rbac',
        bundleVersion: '1.0.0',
        bundleRevision: 'r1',
        input: { user: { id: `${slug}-${month}-${String(i)}`, roles: ['a', 'b'] }, n: i },
        result: i % 3 === 0 ? undefined : { allow: i % 2 === 0 },
        caller: 'key-1',
        cache: 'miss',
        durationUs: 10 + i,
      }),
    );
  }
  byMonth.set(month, rows);
}

function id(world: World, slug: string): string {
  return world.tenants.get(slug) as string;
}

/** Keeps every row of the table as it is now, with its place in its chain. */
async function remember(world: World): Promise<void> {
  const records = await world
    .knex('decisions')
    .select<StoredRecord[]>(storedColumns.map((column) => world.knex.raw(column)));
  for (const record of records) world.stored.set(record.decision_id, fromRecord(record));
}

/** The rows a tenant was given in a month, as stored when `remember` ran. */
function rowsOf(world: World, slug: string, month: string): AuditRow[] {
  const written = (world.written.get(id(world, slug)) as Written).get(month) ?? [];
  return written.map((row) => world.stored.get(row.decisionId) as AuditRow);
}

async function seqsLeft(knex: Knex, tenantId: string): Promise<number[]> {
  const seqs = await knex('decisions').where('tenant_id', tenantId).orderBy('seq').pluck('seq');
  return seqs.map(Number);
}

async function totalRows(knex: Knex): Promise<number> {
  const [row] = await knex('decisions').count<{ n: string }[]>('* as n');
  return Number(row?.n);
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** What the report says happened, in a form easy to compare. */
function summary(report: PruneReport): unknown[] {
  return report.months.map((month) => ({
    month: month.month,
    table: month.table,
    action: month.action,
    pruned: month.pruned.map(
      (p) => `${p.slug ?? p.tenantId} ${String(p.firstSeq)}-${String(p.lastSeq)}`,
    ),
    kept: month.kept.map((k) => `${k.slug ?? k.tenantId} ${k.reason}`),
  }));
}

describe('audit prune', () => {
  let world: World;
  let exportDir: string;

  beforeAll(async () => {
    world = await openWorld('retention');
    const exports = tempDir('retention-export');
    world.dirs.push(exports);
    exportDir = path.join(exports.path, 'archive');
    // acme keeps 60 days: April to July go. globex keeps 120 days: May goes, June stays.
    // idle keeps 30 days but wrote nothing after June: May goes, its newest month stays.
    // forever keeps everything.
    await addTenant(world, 'acme', 60);
    await addTenant(world, 'globex', 120);
    await addTenant(world, 'idle', 30);
    await addTenant(world, 'forever', null);
    write(world, 'acme', '2026-04', 3);
    for (const [slug, count] of [
      ['acme', 4],
      ['globex', 2],
      ['idle', 2],
    ] as const) {
      write(world, slug, '2026-05', count);
    }
    for (const [slug, count] of [
      ['acme', 4],
      ['globex', 3],
      ['idle', 2],
      ['forever', 2],
    ] as const) {
      write(world, slug, '2026-06', count);
    }
    write(world, 'acme', '2026-07', 3);
    for (const slug of ['acme', 'globex', 'forever']) write(world, slug, '2026-11', 2);
    await world.writer.flush();
    await remember(world);
  });
  afterAll(async () => {
    await closeWorld(world);
  });

  it('puts the test rows where the prune will look for them', async () => {
    const inDefault = await world.knex('decisions_default').count<{ n: string }[]>('* as n');
    expect(Number(inDefault[0]?.n)).toBe(3);
    expect(await listDecisionPartitions(world.knex)).toEqual(
      expect.arrayContaining(['decisions_p2026_05', 'decisions_p2026_06', 'decisions_p2026_07']),
    );
  });

  it('refuses a time in the future and a real run without an export folder', async () => {
    await expect(
      pruneDecisions(world.knex, { now: new Date(Date.now() + 3_600_000), dryRun: true }),
    ).rejects.toThrow(/no later than now/);
    await expect(pruneDecisions(world.knex, { now })).rejects.toThrow(/name the folder/);
  });

  it('plans on a dry run and changes nothing', async () => {
    const before = await totalRows(world.knex);
    const partitions = await listDecisionPartitions(world.knex);
    const report = await pruneDecisions(world.knex, { now, dryRun: true, exportDir });
    expect(report).toMatchObject({ dryRun: true, problems: 0 });
    expect(summary(report)).toEqual([
      {
        month: '2026-04',
        table: 'decisions_default',
        action: 'delete',
        pruned: ['acme 1-3'],
        kept: [],
      },
      {
        month: '2026-05',
        table: 'decisions_p2026_05',
        action: 'drop',
        pruned: expect.arrayContaining(['acme 4-7', 'globex 1-2', 'idle 1-2']) as unknown,
        kept: [],
      },
      {
        month: '2026-06',
        table: 'decisions_p2026_06',
        action: 'delete',
        pruned: ['acme 8-11'],
        kept: expect.arrayContaining([
          'globex within_retention',
          'idle newest_month',
          'forever kept_forever',
        ]) as unknown,
      },
      {
        month: '2026-07',
        table: 'decisions_p2026_07',
        action: 'drop',
        pruned: ['acme 12-14'],
        kept: [],
      },
      // An old month no tenant wrote in: its empty partition goes too.
      { month: '2026-08', table: 'decisions_p2026_08', action: 'drop', pruned: [], kept: [] },
    ]);
    const acmeApril = report.months[0]?.pruned[0];
    expect(acmeApril?.file).toBe(
      path.join(exportDir, id(world, 'acme'), 'decisions-2026-04-seq1-3.ndjson'),
    );
    expect(acmeApril?.sha256).toBeUndefined();
    expect(await totalRows(world.knex)).toBe(before);
    expect(await listDecisionPartitions(world.knex)).toEqual(partitions);
    expect(filesUnder(exportDir)).toEqual([]);
    expect(await loadChainAnchors(world.knex)).toEqual(new Map());
  });

  it('exports, then drops or deletes exactly the months past each retention', async () => {
    const report = await pruneDecisions(world.knex, { now, exportDir });
    expect(report.problems).toBe(0);
    expect(summary(report).map((m) => (m as { action: string }).action)).toEqual([
      'delete',
      'drop',
      'delete',
      'drop',
      'drop',
    ]);
    const partitions = await listDecisionPartitions(world.knex);
    expect(partitions).not.toEqual(expect.arrayContaining(['decisions_p2026_05']));
    for (const gone of ['decisions_p2026_05', 'decisions_p2026_07', 'decisions_p2026_08']) {
      expect(partitions).not.toContain(gone);
    }
    expect(partitions).toEqual(
      expect.arrayContaining(['decisions_p2026_06', 'decisions_p2026_09', 'decisions_p2026_11']),
    );
    const defaultPartition = await world.knex.raw<{ rows: unknown[] }>(
      "select 1 from pg_class where relname = 'decisions_default'",
    );
    expect(defaultPartition.rows).toHaveLength(1);
    // acme keeps November (seq 15-16); globex June and November; idle June; forever all.
    expect(await seqsLeft(world.knex, id(world, 'acme'))).toEqual([15, 16]);
    expect(await seqsLeft(world.knex, id(world, 'globex'))).toEqual(range(3, 7));
    expect(await seqsLeft(world.knex, id(world, 'idle'))).toEqual([3, 4]);
    expect(await seqsLeft(world.knex, id(world, 'forever'))).toEqual(range(1, 4));
  });

  it('wrote one file per tenant and month holding exactly its rows, with the SHA-256 reported', async () => {
    const files = filesUnder(exportDir);
    expect(files).toHaveLength(6);
    const anchors = await world.knex('audit_chain_anchors').select('tenant_id');
    expect(anchors).toHaveLength(6);
    for (const [slug, month] of [
      ['acme', '2026-04'],
      ['acme', '2026-05'],
      ['acme', '2026-06'],
      ['acme', '2026-07'],
      ['globex', '2026-05'],
      ['idle', '2026-05'],
    ] as const) {
      const rows = rowsOf(world, slug, month);
      const first = rows[0] as AuditRow;
      const last = rows[rows.length - 1] as AuditRow;
      const file = path.join(
        exportDir,
        id(world, slug),
        `decisions-${month}-seq${String(first.seq)}-${String(last.seq)}.ndjson`,
      );
      const text = fs.readFileSync(file, 'utf8');
      const lines = text.trimEnd().split('\n');
      // Postgres may store object members in another order: compare the values.
      expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual(
        rows.map((row) => JSON.parse(ndjsonLine(row)) as unknown),
      );
      const anchor = (await world
        .knex('audit_chain_anchors')
        .where({ tenant_id: id(world, slug), last_seq: last.seq })
        .first()) as {
        export_file: string;
        export_sha256: string;
        last_hash: string;
        rows: string;
      };
      expect(anchor).toMatchObject({ export_file: file, last_hash: last.hash });
      expect(Number(anchor.rows)).toBe(rows.length);
      expect(anchor.export_sha256).toBe(createHash('sha256').update(text).digest('hex'));
    }
  });

  it('leaves every chain verifiable from its anchor', async () => {
    const acme = await verifyChain(world.knex, id(world, 'acme'));
    const acmeLast = rowsOf(world, 'acme', '2026-07')[2] as AuditRow;
    expect(acme).toMatchObject({
      ok: true,
      rows: 2,
      lastSeq: 16,
      anchor: { seq: 14, hash: acmeLast.hash },
    });
    expect(await verifyChain(world.knex, id(world, 'globex'), { pageSize: 2 })).toMatchObject({
      ok: true,
      rows: 5,
      anchor: { seq: 2 },
    });
    expect(await verifyChain(world.knex, id(world, 'idle'))).toMatchObject({ ok: true, rows: 2 });
    const forever = await verifyChain(world.knex, id(world, 'forever'));
    expect(forever).toMatchObject({ ok: true, rows: 4, lastSeq: 4 });
    expect(forever.anchor).toBeUndefined();
    // A range starting before what is left links to the anchor too; one inside links to its row.
    expect(
      await verifyChain(world.knex, id(world, 'acme'), { from: new Date('2026-01-01T00:00:00Z') }),
    ).toMatchObject({ ok: true, rows: 2, anchor: { seq: 14 } });
    const inside = await verifyChain(world.knex, id(world, 'globex'), {
      from: new Date('2026-11-01T00:00:00Z'),
    });
    expect(inside).toMatchObject({ ok: true, rows: 2, lastSeq: 7 });
    expect(inside.anchor).toBeUndefined();
    expect(await chainStart(world.knex, id(world, 'forever'))).toEqual({
      seq: 0,
      hash: '0'.repeat(64),
    });
    expect((await readChainAnchor(world.knex, id(world, 'idle')))?.seq).toBe(2);
  });

  it('does nothing more when run again', async () => {
    const before = await totalRows(world.knex);
    const report = await pruneDecisions(world.knex, { now, exportDir });
    expect(report.months).toEqual([]);
    expect(await totalRows(world.knex)).toBe(before);
    expect(filesUnder(exportDir)).toHaveLength(6);
    expect((await loadChainAnchors(world.knex)).size).toBe(3);
  });

  it('lets a restarted writer continue every chain', async () => {
    await world.writer.close();
    const writerDir = tempDir('retention-writer-again');
    world.dirs.push(writerDir);
    world.writer = await createAuditWriter({
      knex: world.knex,
      dataDir: writerDir.path,
      logger: silentLogger,
    });
    for (const slug of ['acme', 'globex', 'idle', 'forever']) write(world, slug, '2026-11', 1);
    await world.writer.flush();
    expect(await seqsLeft(world.knex, id(world, 'acme'))).toEqual([15, 16, 17]);
    expect(await seqsLeft(world.knex, id(world, 'idle'))).toEqual([3, 4, 5]);
    for (const slug of ['acme', 'globex', 'idle', 'forever']) {
      expect(await verifyChain(world.knex, id(world, slug))).toMatchObject({ ok: true });
    }
  });

  it('still finds a row altered or removed after the prune', async () => {
    const globex = id(world, 'globex');
    await world.knex('decisions').where({ tenant_id: globex, seq: 5 }).update({ duration_us: 999 });
    expect(await verifyChain(world.knex, globex)).toMatchObject({
      ok: false,
      firstBadSeq: 5,
      reason: 'hash of seq 5 does not match its content (the row was altered)',
    });
    await world.knex('decisions').where({ tenant_id: globex, seq: 3 }).delete();
    expect(await verifyChain(world.knex, globex)).toMatchObject({
      ok: false,
      firstBadSeq: 4,
      reason: 'rows 3..3 are missing before seq 4',
      lastSeq: 2,
    });
    expect(
      await verifyChain(world.knex, globex, { from: new Date('2026-06-01T00:00:00Z') }),
    ).toMatchObject({ ok: false, firstBadSeq: 4, reason: 'row 3 before seq 4 is missing' });
  });
});

describe('audit prune of a chain that does not verify', () => {
  let world: World;
  let exportDir: string;

  beforeAll(async () => {
    world = await openWorld('retention_broken');
    const exports = tempDir('retention-broken-export');
    world.dirs.push(exports);
    exportDir = exports.path;
    await addTenant(world, 'tampered', 30);
    await addTenant(world, 'clean', 30);
    for (const month of ['2026-05', '2026-06', '2026-11']) {
      write(world, 'tampered', month, 3);
      write(world, 'clean', month, 2);
    }
    await world.writer.flush();
    await world
      .knex('decisions')
      .where({ tenant_id: id(world, 'tampered'), seq: 2 })
      .update({ path: 'rbac/other' });
  });
  afterAll(async () => {
    await closeWorld(world);
  });

  it('keeps the tenant whose chain is broken, and its later months, and prunes the others', async () => {
    const report = await pruneDecisions(world.knex, { now, exportDir });
    expect(report.problems).toBe(1);
    expect(summary(report)).toEqual([
      {
        month: '2026-05',
        table: 'decisions_p2026_05',
        action: 'delete',
        pruned: ['clean 1-2'],
        kept: ['tampered chain_broken'],
      },
      {
        month: '2026-06',
        table: 'decisions_p2026_06',
        action: 'delete',
        pruned: ['clean 3-4'],
        kept: ['tampered earlier_month_kept'],
      },
      { month: '2026-07', table: 'decisions_p2026_07', action: 'drop', pruned: [], kept: [] },
      { month: '2026-08', table: 'decisions_p2026_08', action: 'drop', pruned: [], kept: [] },
    ]);
    expect(report.months[0]?.kept[0]?.detail).toBe(
      'seq 2: hash of seq 2 does not match its content (the row was altered)',
    );
    expect(await seqsLeft(world.knex, id(world, 'tampered'))).toEqual(range(1, 9));
    expect(await seqsLeft(world.knex, id(world, 'clean'))).toEqual([5, 6]);
    expect(filesUnder(path.join(exportDir, id(world, 'tampered')))).toEqual([]);
    expect(await verifyChain(world.knex, id(world, 'clean'))).toMatchObject({ ok: true, rows: 2 });
  });

  it('never overwrites an export file holding something else, and keeps one holding the same', async () => {
    const clean = id(world, 'clean');
    const november = new Date('2026-11-01T00:00:00Z');
    const request = {
      tenantId: clean,
      month: november,
      end: new Date('2026-12-01T00:00:00Z'),
      start: await chainStart(world.knex, clean),
      firstSeq: 5,
      lastSeq: 6,
      exportDir,
    };
    const first = await archiveMonth(world.knex, request);
    expect(first).toMatchObject({ kind: 'archived', rows: 2, lastSeq: 6 });
    const again = await archiveMonth(world.knex, request);
    expect(again).toEqual(first);
    if (first.kind !== 'archived') throw new Error('not archived');
    fs.writeFileSync(first.file, 'something else\n');
    await expect(archiveMonth(world.knex, request)).rejects.toThrow(/exists with other content/);
    expect(fs.readFileSync(first.file, 'utf8')).toBe('something else\n');
    // Asked for more rows than the month holds: nothing is written.
    expect(await archiveMonth(world.knex, { ...request, lastSeq: 7 })).toEqual({ kind: 'changed' });
    expect(fs.readdirSync(path.dirname(first.file))).toHaveLength(3);
  });
});

describe('audit prune of a month that changes while it is removed', () => {
  let world: World;
  let exportDir: string;

  beforeAll(async () => {
    world = await openWorld('retention_changed');
    const exports = tempDir('retention-changed-export');
    world.dirs.push(exports);
    exportDir = exports.path;
    await addTenant(world, 'short', 30);
    await addTenant(world, 'forever', null);
    write(world, 'short', '2026-05', 2);
    write(world, 'forever', '2026-05', 1);
    write(world, 'short', '2026-11', 1);
    await world.writer.flush();
  });
  afterAll(async () => {
    await closeWorld(world);
  });

  it('removes nothing of it, says so, and finishes the job when run again', async () => {
    // The delete misses a row, as if it had been written again meanwhile: the month's rows
    // no longer match the export.
    await world.knex.raw(`
      create function keep_row() returns trigger language plpgsql as $$ begin return null; end $$;
      create trigger keep_row before delete on decisions_p2026_05
        for each row when (old.seq = 2) execute function keep_row()`);
    const first = await pruneDecisions(world.knex, { now, exportDir });
    expect(first.problems).toBe(1);
    expect(summary(first)[0]).toEqual({
      month: '2026-05',
      table: 'decisions_p2026_05',
      action: 'none',
      pruned: [],
      kept: ['forever kept_forever', 'short changed'],
    });
    expect(await seqsLeft(world.knex, id(world, 'short'))).toEqual([1, 2, 3]);
    expect(await readChainAnchor(world.knex, id(world, 'short'))).toBeUndefined();
    await world.knex.raw('drop trigger keep_row on decisions_p2026_05');
    const second = await pruneDecisions(world.knex, { now, exportDir });
    expect(second.problems).toBe(0);
    expect(summary(second)[0]).toMatchObject({ action: 'delete', pruned: ['short 1-2'] });
    expect(await seqsLeft(world.knex, id(world, 'short'))).toEqual([3]);
    // The file the first run wrote is the one the second run recorded.
    expect(filesUnder(exportDir)).toHaveLength(1);
    expect(await verifyChain(world.knex, id(world, 'short'))).toMatchObject({ ok: true, rows: 1 });
  });
});

describe('audit prune on the embedded database', () => {
  const dataDir = tempDir('retention-embedded');
  afterAll(() => {
    dataDir.remove();
  });

  it('exports, drops, deletes and verifies through the same code path', async () => {
    const db = await openDatabase(testConfig({ VERDICT_DATA_DIR: dataDir.path }), silentLogger);
    try {
      await migrateUp(db);
      await ensureDecisionPartitions(db.knex, new Date('2026-05-01T00:00:00Z'), 2);
      const tenants = new TenantService(db.knex);
      const short = (await tenants.create({ slug: 'short', name: 's', audit_retention_days: 30 }))
        .id;
      const forever = (await tenants.create({ slug: 'forever', name: 'f' })).id;
      const writer = await createAuditWriter({
        knex: db.knex,
        dataDir: dataDir.path,
        logger: silentLogger,
      });
      const entry = {
        path: 'p',
        input: { a: 1 },
        result: true,
        cache: 'miss' as const,
        durationUs: 1,
      };
      for (const [tenantId, ts] of [
        [short, '2026-04-02'],
        [short, '2026-05-02'],
        [forever, '2026-05-03'],
        [short, '2026-06-02'],
        [short, '2026-11-02'],
      ] as const) {
        writer.record({ ...entry, tenantId, ts: new Date(`${ts}T00:00:00Z`) });
      }
      await writer.close();
      const exportDir = path.join(dataDir.path, 'export');
      const report = await pruneDecisions(db.knex, { now, exportDir });
      expect(summary(report)).toEqual([
        {
          month: '2026-04',
          table: 'decisions_default',
          action: 'delete',
          pruned: ['short 1-1'],
          kept: [],
        },
        {
          month: '2026-05',
          table: 'decisions_p2026_05',
          action: 'delete',
          pruned: ['short 2-2'],
          kept: ['forever kept_forever'],
        },
        {
          month: '2026-06',
          table: 'decisions_p2026_06',
          action: 'drop',
          pruned: ['short 3-3'],
          kept: [],
        },
      ]);
      expect(await listDecisionPartitions(db.knex)).not.toContain('decisions_p2026_06');
      expect(filesUnder(exportDir)).toHaveLength(3);
      expect(await verifyChain(db.knex, short)).toMatchObject({
        ok: true,
        rows: 1,
        anchor: { seq: 3 },
      });
      expect(await verifyChain(db.knex, forever)).toMatchObject({ ok: true, rows: 1 });
      expect((await pruneDecisions(db.knex, { now, exportDir })).months).toEqual([]);
    } finally {
      await db.close();
    }
  });
});
