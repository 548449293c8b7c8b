import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isVerdictError } from '../../../../../api/errors';
import { createLogger } from '../../../../../api/logger';
import {
  FieldCipher,
  fieldContext,
  generatedKeyFileName,
  loadDataKeys,
  normalizeEmail,
  parseDataKeys,
} from '../../../../../api/services/identity/data-keys';

const logger = createLogger({ level: 'silent' });
const key = (): string => randomBytes(32).toString('base64');
const context = fieldContext('users', 'email', '6f1c2e9a-0b1d-4c55-9a7e-2f0d8c1b3a44');

function cipherWith(active: string, keys: Record<string, string>, index = key()): FieldCipher {
  return new FieldCipher(parseDataKeys(JSON.stringify(keys), active, index));
}

function configError(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (isVerdictError(err) && err.code === 'config_invalid') return err.message;
    throw err;
  }
  throw new Error('expected a config_invalid error');
}

describe('FieldCipher', () => {
  const k1 = key();
  const cipher = cipherWith('k1', { k1 });

  it('round-trips text with the key id in the value, and a fresh IV each time', () => {
    const a = cipher.encrypt('ann@acme.test', context);
    const b = cipher.encrypt('ann@acme.test', context);
    expect(a).toMatch(/^v1:k1:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+:[A-Za-z0-9_-]{22}$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('ann');
    expect(cipher.decryptText(a, context)).toBe('ann@acme.test');
    expect(cipher.decryptText(cipher.encrypt('', context), context)).toBe('');
    expect(cipher.isCurrent(a)).toBe(true);
    expect(FieldCipher.isEncrypted(a)).toBe(true);
    expect(FieldCipher.isEncrypted('ann@acme.test')).toBe(false);
  });

  it('detects tampering with the ciphertext, the tag or the IV', () => {
    const value = cipher.encrypt('secret value', context);
    const parts = value.split(':');
    for (const index of [2, 3, 4]) {
      const bytes = Buffer.from(parts[index] ?? '', 'base64url');
      bytes[0] = (bytes[0] ?? 0) ^ 1;
      const tampered = [...parts];
      tampered[index] = bytes.toString('base64url');
      expect(() => cipher.decrypt(tampered.join(':'), context)).toThrow(/integrity check/);
    }
  });

  it('refuses a value moved to another row or column', () => {
    const value = cipher.encrypt('ann@acme.test', context);
    expect(() => cipher.decrypt(value, fieldContext('users', 'email', 'another-row'))).toThrow(
      /integrity check/,
    );
    expect(() => cipher.decrypt(value, fieldContext('user_mfa', 'secret', 'x'))).toThrow(
      /integrity check/,
    );
  });

  it('refuses malformed values and unknown key ids', () => {
    expect(() => cipher.decrypt('plain text', context)).toThrow(/not a v1/);
    expect(() => cipher.decrypt('v1:k1:AA:AA:AA', context)).toThrow(/malformed/);
    const other = cipherWith('k9', { k9: key() }).encrypt('x', context);
    expect(() => cipher.decrypt(other, context)).toThrow(/data key "k9" is not configured/);
  });

  it('decrypts values of older keys after a rotation and encrypts under the new one', () => {
    const old = cipher.encrypt('ann@acme.test', context);
    const rotated = cipherWith('k2', { k1, k2: key() });
    expect(rotated.isCurrent(old)).toBe(false);
    expect(rotated.decryptText(old, context)).toBe('ann@acme.test');
    const fresh = rotated.encrypt('ann@acme.test', context);
    expect(fresh.startsWith('v1:k2:')).toBe(true);
    expect(rotated.isCurrent(fresh)).toBe(true);
  });

  it('computes a stable blind index per purpose under the index key only', () => {
    const index = key();
    const a = cipherWith('k1', { k1 }, index);
    const b = cipherWith('k2', { k2: key() }, index);
    expect(a.blindIndex('email', 'ann@acme.test')).toBe(b.blindIndex('email', 'ann@acme.test'));
    expect(a.blindIndex('email', 'ann@acme.test')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.blindIndex('email', 'ann@acme.test')).not.toBe(a.blindIndex('login', 'ann@acme.test'));
    expect(cipherWith('k1', { k1 }).blindIndex('email', 'ann@acme.test')).not.toBe(
      a.blindIndex('email', 'ann@acme.test'),
    );
    expect(normalizeEmail('  Ann@ACME.test ')).toBe('ann@acme.test');
  });
});

describe('parseDataKeys', () => {
  it('takes the only key as active, and refuses bad settings with a clear line', () => {
    const k1 = key();
    expect(parseDataKeys(JSON.stringify({ k1 }), undefined, key()).activeKeyId).toBe('k1');
    expect(configError(() => parseDataKeys('{', 'k1', key()))).toMatch(
      /VERDICT_DATA_KEYS: expected JSON/,
    );
    expect(configError(() => parseDataKeys('[]', 'k1', key()))).toMatch(/JSON object/);
    expect(configError(() => parseDataKeys('{}', 'k1', key()))).toMatch(/holds no key/);
    expect(configError(() => parseDataKeys('{"a:b":"x"}', undefined, key()))).toMatch(/key id/);
    expect(configError(() => parseDataKeys('{"k1":1}', undefined, key()))).toMatch(/base64 string/);
    expect(configError(() => parseDataKeys('{"k1":"c2hvcnQ="}', undefined, key()))).toMatch(
      /exactly 32 random bytes/,
    );
    const two = JSON.stringify({ k1, k2: key() });
    expect(configError(() => parseDataKeys(two, undefined, key()))).toMatch(
      /VERDICT_DATA_KEY_ID: required/,
    );
    expect(configError(() => parseDataKeys(two, 'k3', key()))).toMatch(/not a key id/);
    expect(configError(() => parseDataKeys(two, 'k1', undefined))).toMatch(
      /VERDICT_BLIND_INDEX_KEY/,
    );
    expect(configError(() => parseDataKeys(two, 'k1', k1))).toMatch(/must differ/);
    // The key itself never appears in an error.
    expect(configError(() => parseDataKeys(two, 'k1', k1))).not.toContain(k1);
  });
});

describe('loadDataKeys', () => {
  it('generates a key file with mode 0600 once, then reads the same keys back', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-keys-'));
    try {
      const settings = {
        dataKeys: undefined,
        dataKeyId: undefined,
        blindIndexKey: undefined,
        dataDir,
      };
      const first = loadDataKeys(settings, logger);
      const file = path.join(dataDir, generatedKeyFileName);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      const second = loadDataKeys(settings, logger);
      expect(second.activeKeyId).toBe(first.activeKeyId);
      expect(second.indexKey.equals(first.indexKey)).toBe(true);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('uses configured keys and refuses a key id or index key without keys', () => {
    const k1 = key();
    const index = key();
    const keys = loadDataKeys(
      {
        dataKeys: JSON.stringify({ k1 }),
        dataKeyId: 'k1',
        blindIndexKey: index,
        dataDir: '/nonexistent',
      },
      logger,
    );
    expect(keys.keys.get('k1')?.toString('base64')).toBe(k1);
    expect(
      configError(() =>
        loadDataKeys(
          { dataKeys: undefined, dataKeyId: 'k1', blindIndexKey: undefined, dataDir: '/x' },
          logger,
        ),
      ),
    ).toMatch(/VERDICT_DATA_KEYS: required/);
  });
});
