import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chainRow, pendingRow, type PendingRow } from '../../../../../api/services/audit/chain';
import { Spool, parseSpoolLine, spoolLine } from '../../../../../api/services/audit/spool';

const tenantId = '00000000-0000-4000-8000-000000000002';

/** Pending rows numbered by `durationUs` (1, 2, ...). */
function rows(count: number, inputSize = 10): PendingRow[] {
  return Array.from({ length: count }, (_, i) =>
    pendingRow({
      tenantId,
      path: 'p',
      input: { i, pad: 'x'.repeat(inputSize) },
      result: i % 2 === 0 ? undefined : { allow: true },
      cache: 'miss',
      durationUs: i + 1,
    }),
  );
}

describe('Spool', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-spool-'));
    file = path.join(dir, 'spool.jsonl');
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('gives rows back as they were appended, a page at a time', async () => {
    const spool = new Spool(file);
    const written = rows(5);
    spool.appendRows(written.slice(0, 3));
    spool.appendRows([]);
    spool.appendRows(written.slice(3));
    const first = await spool.read(0, 2);
    expect(first.rows).toEqual(written.slice(0, 2));
    const rest = await spool.read(first.nextOffset, 10);
    expect(rest.rows).toEqual(written.slice(2));
    expect(rest.nextOffset).toBe(spool.size());
    expect(await spool.read(rest.nextOffset, 10)).toEqual({
      rows: [],
      corrupt: 0,
      nextOffset: spool.size(),
    });
    spool.truncate();
    expect(spool.size()).toBe(0);
    spool.close();
    spool.close();
    expect(() => spool.size()).toThrow(/closed/);
  });

  it('reads lines longer than one read chunk', async () => {
    const spool = new Spool(file);
    const big = rows(3, 1_500_000);
    spool.appendRows(big);
    const read = await spool.read(0, 10);
    expect(read.rows.map((row) => row.durationUs)).toEqual([1, 2, 3]);
    spool.close();
  });

  it('ends a line torn by a crash, skips it as corrupt, and keeps later rows', async () => {
    const [one, two, three] = rows(3) as [PendingRow, PendingRow, PendingRow];
    fs.writeFileSync(file, spoolLine(one) + spoolLine(two).slice(0, 40));
    const spool = new Spool(file);
    spool.appendRows([three]);
    const read = await spool.read(0, 10);
    expect(read.rows.map((row) => row.durationUs)).toEqual([1, 3]);
    expect(read.corrupt).toBe(1);
    spool.close();
  });

  it('stops before a last line with no newline yet', async () => {
    const spool = new Spool(file);
    const [one, two] = rows(2) as [PendingRow, PendingRow];
    spool.appendRows([one]);
    fs.appendFileSync(file, spoolLine(two).slice(0, 30));
    const read = await spool.read(0, 10);
    expect(read.rows).toHaveLength(1);
    expect(read.nextOffset).toBe(spoolLine(one).length);
    spool.close();
  });
});

describe('parseSpoolLine', () => {
  it('refuses lines that are not rows', () => {
    const row = rows(1)[0] as PendingRow;
    expect(parseSpoolLine(spoolLine(row))).toEqual(row);
    expect(parseSpoolLine('not json')).toBeUndefined();
    expect(parseSpoolLine('[1]')).toBeUndefined();
    const good = JSON.parse(spoolLine(row)) as Record<string, unknown>;
    for (const [key, value] of Object.entries({
      tenantId: 'acme',
      decisionId: "x' or true",
      ts: 'yesterday',
      cache: 'maybe',
      allowed: 'yes',
      caller: 5,
    })) {
      expect(parseSpoolLine(JSON.stringify({ ...good, [key]: value }))).toBeUndefined();
    }
  });

  it('reads a line an earlier version wrote (a chained row) as the pending row it was', () => {
    const chained = chainRow({ tenantId, path: 'p', cache: 'hit', durationUs: 3 }, undefined);
    const { seq, prevHash, hash, ...pending } = chained;
    expect([seq, prevHash.length, hash.length]).toEqual([1, 64, 64]);
    const line = JSON.stringify({ ...chained, ts: chained.ts.toISOString() });
    expect(parseSpoolLine(line)).toEqual(pending);
  });

  it('keeps a rollout mark, and refuses a malformed one', () => {
    const base = rows(1)[0] as PendingRow;
    const rolloutId = '00000000-0000-4000-8000-0000000000aa';
    for (const rollout of [
      { rolloutId, arm: 'canary' as const },
      { rolloutId, arm: 'shadow' as const, comparedWith: base.decisionId, agrees: false },
    ]) {
      const row = { ...base, rollout };
      expect(parseSpoolLine(spoolLine(row))).toEqual(row);
    }
    const good = JSON.parse(spoolLine(base)) as Record<string, unknown>;
    for (const rollout of [
      'canary',
      { arm: 'canary' },
      { rolloutId, arm: 'blue' },
      { rolloutId, arm: 'stable', comparedWith: 7 },
      { rolloutId, arm: 'stable', agrees: 'no' },
    ]) {
      expect(parseSpoolLine(JSON.stringify({ ...good, rollout }))).toBeUndefined();
    }
  });

  it('keeps a trace id, and refuses a malformed one', () => {
    const base = rows(1)[0] as PendingRow;
    const row = { ...base, traceId: '4bf92f3577b34da6a3ce929d0e0e4736' };
    expect(parseSpoolLine(spoolLine(row))).toEqual(row);
    const good = JSON.parse(spoolLine(base)) as Record<string, unknown>;
    for (const traceId of [null, 7, 'abc', '0'.repeat(32), 'G'.repeat(32)]) {
      expect(parseSpoolLine(JSON.stringify({ ...good, traceId }))).toBeUndefined();
    }
  });
});
