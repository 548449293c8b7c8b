/**
 * `verdict backup` and `verdict restore` options and output that need no database: the audit
 * selection, what a header says to people, and `verdict restore --check`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BackupFileWriter } from '../../../api/services/backup/file-writer';
import type { BackupHeader } from '../../../api/services/backup/format';
import { auditSelection, describeBackup, runRestoreCheck } from '../../../cli/backup';

const header: BackupHeader = {
  format: 'verdict-backup',
  format_version: 1,
  verdict_version: '0.1.0',
  created_at: '2026-11-27T12:00:00.000000+00:00',
  migration: '20261127000000_create_tenants_and_users',
  migrations: ['20261127000000_create_tenants_and_users'],
  tenants: null,
  audit: { mode: 'all', from: null, to: null, range_anchors: 0 },
  partitions: [],
  tables: { tenants: 1, decisions: 0 },
  excluded: {},
  unknown_tables: [],
  keys: { data_key_ids: ['k1'], blind_index: true },
  content_sha256: '0'.repeat(64),
};

describe('auditSelection', () => {
  it('is every row by default, none, or a range', () => {
    expect(auditSelection({})).toEqual({ mode: 'all' });
    expect(auditSelection({ audit: 'none' })).toEqual({ mode: 'none' });
    expect(auditSelection({ auditFrom: '2026-11-01' })).toEqual({
      mode: 'range',
      from: new Date('2026-11-01T00:00:00Z'),
      to: undefined,
    });
    expect(auditSelection({ audit: 'all', auditTo: '2026-11-01T12:00:00Z' })).toEqual({
      mode: 'range',
      from: undefined,
      to: new Date('2026-11-01T12:00:00Z'),
    });
  });
});

describe('describeBackup', () => {
  it('says what a backup holds and which keys to keep', () => {
    expect(describeBackup(header)).toEqual([
      'made 2026-11-27T12:00:00.000000+00:00 by Verdict 0.1.0, migration 20261127000000_create_tenants_and_users',
      'every tenant; every decision-log row',
      'rows: tenants 1, decisions 0',
      'keep separately, the backup is useless without them: data keys k1 (VERDICT_DATA_KEYS) and the blind index key (VERDICT_BLIND_INDEX_KEY)',
    ]);
    const range = describeBackup({
      ...header,
      tenants: ['t1', 't2'],
      audit: { mode: 'range', from: '2026-11-01T00:00:00.000Z', to: null, range_anchors: 1 },
      keys: { data_key_ids: [], blind_index: false },
    });
    expect(range[1]).toBe(
      'tenants t1, t2 only; decision-log rows from 2026-11-01T00:00:00.000Z to the end; 1 chain continues from an anchor the backup added',
    );
    expect(range[3]).toBe('no encrypted field: no key is needed to use it');
    const none = describeBackup({
      ...header,
      audit: { mode: 'none', from: null, to: null, range_anchors: 3 },
      keys: { data_key_ids: [], blind_index: true },
    });
    expect(none[1]).toBe(
      'every tenant; no decision-log rows; 3 chains continue from an anchor the backup added',
    );
    expect(none[3]).toBe(
      'keep separately, the backup is useless without them: the blind index key (VERDICT_BLIND_INDEX_KEY)',
    );
    expect(
      describeBackup({
        ...header,
        audit: { mode: 'range', from: null, to: '2026-12-01', range_anchors: 0 },
      })[1],
    ).toBe('every tenant; decision-log rows from the start to 2026-12-01');
  });
});

describe('verdict restore --check', () => {
  it('reads a file through and says what it holds', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-restore-check-'));
    try {
      const file = path.join(dir, 'b.vbk');
      const writer = await BackupFileWriter.open(file);
      await writer.line(JSON.stringify({ table: 'tenants', columns: ['id'], types: ['uuid'] }));
      await writer.line('["t"]');
      await writer.line(JSON.stringify({ table: 'decisions', columns: ['id'], types: ['uuid'] }));
      const { sha256 } = await writer.commit(header);
      const lines: string[] = [];
      await runRestoreCheck(file, (line) => lines.push(line));
      expect(lines).toEqual([
        `${file}: a whole Verdict backup (format 1), sha256 verified`,
        ...describeBackup({ ...header, content_sha256: sha256 }).map((line) => `  ${line}`),
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
