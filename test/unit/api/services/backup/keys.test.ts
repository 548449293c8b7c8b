/**
 * Whether the keys a backup's encrypted fields need are configured where it is restored, and
 * what the operator is told about them.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../../../../api/logger';
import type { BackupHeader } from '../../../../../api/services/backup/format';
import { checkDataKeys, keyAdvice } from '../../../../../api/services/backup/keys';
import { generatedKeyFileName } from '../../../../../api/services/identity/data-keys';

const logger = createLogger({ level: 'silent' });
const key = (): string => randomBytes(32).toString('base64');

function header(ids: string[], blindIndex = true): BackupHeader {
  return {
    format: 'verdict-backup',
    format_version: 1,
    verdict_version: '0.1.0',
    created_at: '2026-11-27T12:00:00Z',
    migration: 'm',
    migrations: ['m'],
    tenants: null,
    audit: { mode: 'all', from: null, to: null, range_anchors: 0 },
    partitions: [],
    tables: {},
    excluded: {},
    unknown_tables: [],
    keys: { data_key_ids: ids, blind_index: blindIndex },
    content_sha256: '0'.repeat(64),
  };
}

let dataDir: string;
beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-backup-keys-'));
});
afterEach(() => {
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const unset = { dataKeys: undefined, dataKeyId: undefined, blindIndexKey: undefined };

describe('checkDataKeys', () => {
  it('finds the keys of VERDICT_DATA_KEYS, or the ones missing from it', () => {
    const settings = {
      dataKeys: JSON.stringify({ k1: key(), k2: key() }),
      dataKeyId: 'k2',
      blindIndexKey: key(),
      dataDir,
    };
    expect(checkDataKeys(header(['k1']), settings, logger)).toEqual({ kind: 'ready', ids: ['k1'] });
    expect(checkDataKeys(header(['k0', 'k1', 'k3']), settings, logger)).toEqual({
      kind: 'missing',
      missing: ['k0', 'k3'],
    });
  });

  it('reads a generated key file, and never creates one', () => {
    const settings = { ...unset, dataDir };
    expect(checkDataKeys(header(['dev-1']), settings, logger)).toEqual({ kind: 'unconfigured' });
    expect(fs.readdirSync(dataDir)).toEqual([]);
    fs.writeFileSync(
      path.join(dataDir, generatedKeyFileName),
      JSON.stringify({
        data_keys: { 'dev-1': key() },
        active_data_key: 'dev-1',
        blind_index_key: key(),
      }),
    );
    expect(checkDataKeys(header(['dev-1']), settings, logger)).toEqual({
      kind: 'ready',
      ids: ['dev-1'],
    });
  });

  it('says when the configured keys are invalid', () => {
    const check = checkDataKeys(header(['k1']), { ...unset, dataKeys: 'nope', dataDir }, logger);
    expect(check).toMatchObject({ kind: 'invalid' });
    expect(check.kind === 'invalid' && check.problem).toMatch(/VERDICT_DATA_KEYS: expected JSON/);
  });
});

describe('keyAdvice', () => {
  it('says nothing when nothing is encrypted', () => {
    expect(keyAdvice(header([], false), { kind: 'unconfigured' })).toEqual([]);
  });

  it('names the keys needed, and what to do when they are not here', () => {
    expect(keyAdvice(header(['k1']), { kind: 'ready', ids: ['k1'] })).toEqual([
      'the encrypted fields need data keys k1 and the blind index key (VERDICT_BLIND_INDEX_KEY) of the source: the data keys are configured here',
    ]);
    expect(keyAdvice(header(['k1', 'k2'], false), { kind: 'missing', missing: ['k2'] })).toEqual([
      'warning: the encrypted fields need data keys k1, k2 of the source; VERDICT_DATA_KEYS here lacks k2: add it before starting a server',
    ]);
    expect(keyAdvice(header(['a', 'b']), { kind: 'missing', missing: ['a', 'b'] })[0]).toMatch(
      /lacks a, b: add them before/,
    );
    expect(keyAdvice(header([], true), { kind: 'unconfigured' })[0]).toMatch(
      /^warning: the encrypted fields need data keys none and the blind index key .* none are configured here: set VERDICT_DATA_KEYS/,
    );
    expect(keyAdvice(header(['k1']), { kind: 'invalid', problem: 'bad' })).toEqual([
      'warning: the encrypted fields need data keys k1 and the blind index key (VERDICT_BLIND_INDEX_KEY) of the source; the keys configured here are invalid: bad',
    ]);
  });
});
