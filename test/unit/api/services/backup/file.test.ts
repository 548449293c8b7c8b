/**
 * The backup file: written by BackupFileWriter and read back whole, and every way a file can
 * be wrong — refused with a message that says how, before its rows are trusted.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  checkBackup,
  readBackup,
  readBackupHeader,
  type BackupEntry,
} from '../../../../../api/services/backup/file-reader';
import { BackupFileWriter } from '../../../../../api/services/backup/file-writer';
import { BackupError, type BackupHeader } from '../../../../../api/services/backup/format';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-backup-file-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const baseHeader: Omit<BackupHeader, 'content_sha256'> = {
  format: 'verdict-backup',
  format_version: 1,
  verdict_version: '0.1.0',
  created_at: '2026-11-27T12:00:00.000000+00:00',
  migration: '20261127000000_create_tenants_and_users',
  migrations: ['20261127000000_create_tenants_and_users'],
  tenants: null,
  audit: { mode: 'all', from: null, to: null, range_anchors: 0 },
  partitions: ['2026-11'],
  tables: { tenants: 2, users: 0 },
  excluded: { sessions: 'sign in again' },
  unknown_tables: [],
  keys: { data_key_ids: [], blind_index: false },
};

const tenants = JSON.stringify({
  table: 'tenants',
  columns: ['id', 'slug'],
  types: ['uuid', 'text'],
});
const users = JSON.stringify({ table: 'users', columns: ['id'], types: ['uuid'] });
const content = [tenants, '["a","acme"]', '[null,"glob\\nex"]', users];

/** A file of `lines` after a header that fits them (unless `header` says otherwise). */
function rawFile(
  lines: readonly string[],
  header: Partial<BackupHeader> = {},
  tail = '\n',
): string {
  const text = lines.join('\n') + (lines.length === 0 ? '' : tail);
  const sha = createHash('sha256').update(text).digest('hex');
  const full = { ...baseHeader, content_sha256: sha, ...header };
  const file = path.join(dir, 'raw.vbk');
  fs.writeFileSync(
    file,
    Buffer.concat([zlib.gzipSync(`${JSON.stringify(full)}\n`), zlib.gzipSync(text)]),
  );
  return file;
}

async function entries(file: string): Promise<BackupEntry[]> {
  const read: BackupEntry[] = [];
  for await (const entry of readBackup(file)) read.push(entry);
  return read;
}

describe('a backup file', () => {
  it('is written whole under its name, and reads back as written', async () => {
    const file = path.join(dir, 'out.vbk');
    const writer = await BackupFileWriter.open(file);
    for (const line of content) await writer.line(line);
    const { sha256, bytes } = await writer.commit(baseHeader);
    expect(fs.readdirSync(dir)).toEqual(['out.vbk']);
    expect(fs.statSync(file).size).toBe(bytes);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const header = await checkBackup(file);
    expect(header).toEqual({ ...baseHeader, content_sha256: sha256 });
    await expect(readBackupHeader(file)).resolves.toEqual(header);
    expect(await entries(file)).toEqual([
      { kind: 'section', table: 'tenants', columns: ['id', 'slug'], types: ['uuid', 'text'] },
      { kind: 'row', table: 'tenants', values: ['a', 'acme'], bytes: 12 },
      { kind: 'row', table: 'tenants', values: [null, 'glob\nex'], bytes: 17 },
      { kind: 'section', table: 'users', columns: ['id'], types: ['uuid'] },
    ]);
  });

  it('streams content larger than one chunk', async () => {
    const file = path.join(dir, 'big.vbk');
    const writer = await BackupFileWriter.open(file);
    await writer.line(tenants);
    const rows = 20_000;
    for (let i = 0; i < rows; i++)
      await writer.line(JSON.stringify([String(i), `t${'x'.repeat(40)}`]));
    await writer.line(users);
    await writer.commit({ ...baseHeader, tables: { tenants: rows, users: 0 } });
    const read = await entries(file);
    expect(read.filter((entry) => entry.kind === 'row')).toHaveLength(rows);
  });

  it('leaves nothing behind when given up', async () => {
    const writer = await BackupFileWriter.open(path.join(dir, 'gone.vbk'));
    await writer.line(tenants);
    await writer.abort();
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('cannot be opened in a folder that does not exist', async () => {
    await expect(BackupFileWriter.open(path.join(dir, 'missing', 'x.vbk'))).rejects.toThrow(
      /ENOENT/,
    );
  });
});

describe('a file that is not a whole backup', () => {
  const refused: [string, () => string, RegExp][] = [
    [
      'an empty file',
      () => {
        const file = path.join(dir, 'zero.vbk');
        fs.writeFileSync(file, '');
        return file;
      },
      /is empty: not a Verdict backup/,
    ],
    ['a header alone', () => rawFile([]), /its tables do not hold the rows its header names/],
    [
      'an empty gzip stream',
      () => {
        const file = path.join(dir, 'empty.vbk');
        fs.writeFileSync(file, zlib.gzipSync(''));
        return file;
      },
      /is empty: not a Verdict backup/,
    ],
    [
      'a header of another format',
      () => rawFile(content, { format: 'pg_dump' }),
      /is not a Verdict backup \(its first line is no backup header\)/,
    ],
    [
      'a header of a newer format',
      () => rawFile(content, { format_version: 2, verdict_version: '9.0.0' }),
      /is a backup of format 2, made by a newer Verdict \(9\.0\.0\); this one \(format 1\) cannot read it/,
    ],
    [
      'a damaged header',
      () => rawFile(content, { migrations: [], partitions: ['november'] }),
      /has a damaged backup header: \/migrations must NOT have fewer than 1 items; \/partitions\/0 must match pattern/,
    ],
    [
      'a row before any section',
      () => rawFile(['["a"]', ...content]),
      /line 2 is a row that fits no table section/,
    ],
    [
      'a row of the wrong width',
      () => rawFile([tenants, '["a"]', users]),
      /line 3 is a row that fits no table section/,
    ],
    ['a line that is not JSON', () => rawFile([tenants, '["a",'], {}), /line 3 is not JSON/],
    [
      'a line neither row nor section',
      () => rawFile([tenants, '42']),
      /line 3 is neither a row nor a table section/,
    ],
    [
      'a row holding a number',
      () => rawFile([tenants, '["a",1]']),
      /line 3 is neither a row nor a table section/,
    ],
    [
      'a table no backup holds',
      () => rawFile([JSON.stringify({ table: 'sessions', columns: ['id'], types: ['uuid'] })]),
      /holds a table this Verdict does not restore \(sessions\)/,
    ],
    [
      'sections out of order',
      () => rawFile([users, tenants]),
      /the tenants section is out of order/,
    ],
    ['a section twice', () => rawFile([tenants, tenants]), /the tenants section is out of order/],
    [
      'a section whose types do not fit',
      () =>
        rawFile([JSON.stringify({ table: 'tenants', columns: ['id', 'slug'], types: ['uuid'] })]),
      /the tenants section's types do not fit/,
    ],
    [
      'content the checksum does not match',
      () => rawFile(content, { content_sha256: 'f'.repeat(64) }),
      /is corrupt or was altered: its content does not match the SHA-256 in its header/,
    ],
    [
      'counts the header did not announce',
      () => rawFile(content, { tables: { tenants: 3, users: 0 } }),
      /its tables do not hold the rows its header names/,
    ],
    [
      'a table the header did not announce',
      () => rawFile(content, { tables: { tenants: 2 } }),
      /its tables do not hold the rows its header names/,
    ],
    ['a last line cut off', () => rawFile(content, {}, ''), /its last line is cut off/],
    ['a folder', () => dir, /cannot read .*: it is a folder/],
  ];

  it.each(refused)('is refused: %s', async (_what, make, message) => {
    const file = make();
    await expect(checkBackup(file)).rejects.toThrow(message);
    await expect(checkBackup(file)).rejects.toBeInstanceOf(BackupError);
  });

  it('names a header it cannot read at all', async () => {
    const file = path.join(dir, 'junk.vbk');
    fs.writeFileSync(file, zlib.gzipSync('not json\n'));
    await expect(readBackupHeader(file)).rejects.toThrow(/is not a Verdict backup/);
    fs.writeFileSync(file, zlib.gzipSync(''));
    await expect(readBackupHeader(file)).rejects.toThrow(/is empty/);
  });
});
