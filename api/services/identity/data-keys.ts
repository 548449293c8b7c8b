/**
 * Field-level encryption of personal data and secrets at rest (user e-mail, TOTP secrets,
 * token signing keys) with AES-256-GCM, and the blind index that finds a user by e-mail
 * without decrypting every row.
 *
 * An encrypted value reads `v1:<kid>:<iv>:<ciphertext>:<tag>` (base64url parts): the key id
 * travels with the value, so keys can be rotated and old values still decrypted until
 * `verdict keys rotate-data-key` has re-encrypted them. Each value is bound to where it
 * lives (table, column, row) as GCM's additional data, so a ciphertext copied into another
 * row or column fails to decrypt instead of passing for that row's data.
 *
 * Keys come from VERDICT_DATA_KEYS (JSON `{kid: base64 of 32 bytes}`), VERDICT_DATA_KEY_ID
 * (the one that encrypts) and VERDICT_BLIND_INDEX_KEY. With none configured, a key file is
 * generated once in the data folder (mode 0600) and a warning logged: fine for one
 * development instance, never for several instances, which must share the keys.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { VerdictError } from '../../errors';
import type { Logger } from '../../logger';

const formatVersion = 'v1';
const keyIdPattern = /^[A-Za-z0-9_-]{1,64}$/;
const keyLength = 32;
const ivLength = 12;
const tagLength = 16;

/** The keys as configured. */
export interface DataKeySet {
  /** Id of the key new values are encrypted with. */
  readonly activeKeyId: string;
  /** Every key that may still have encrypted something, by id. */
  readonly keys: ReadonlyMap<string, Buffer>;
  /** HMAC key of blind indexes; a different key from every data key. */
  readonly indexKey: Buffer;
}

/** The settings keys are read from (raw, as in the environment). */
export interface DataKeySettings {
  readonly dataKeys: string | undefined;
  readonly dataKeyId: string | undefined;
  readonly blindIndexKey: string | undefined;
  readonly dataDir: string;
}

function configProblem(problem: string): VerdictError {
  return new VerdictError(
    'config_invalid',
    `invalid configuration (1 bad setting):\n  ${problem}`,
    {
      extensions: { problems: [problem] },
    },
  );
}

function decodeKey(text: string, setting: string): Buffer {
  const key = Buffer.from(text, 'base64');
  if (key.length !== keyLength || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
    throw configProblem(`${setting}: expected the base64 of exactly 32 random bytes`);
  }
  return key;
}

/** Parses configured keys; a `config_invalid` error names what is wrong (never a key). */
export function parseDataKeys(
  dataKeys: string,
  dataKeyId: string | undefined,
  blindIndexKey: string | undefined,
): DataKeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(dataKeys);
  } catch {
    throw configProblem('VERDICT_DATA_KEYS: expected JSON such as {"k1":"<base64 of 32 bytes>"}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw configProblem('VERDICT_DATA_KEYS: expected a JSON object of key id to base64 key');
  }
  const keys = new Map<string, Buffer>();
  for (const [kid, value] of Object.entries(parsed)) {
    if (!keyIdPattern.test(kid)) {
      throw configProblem(
        `VERDICT_DATA_KEYS: key id ${JSON.stringify(kid)} must be 1-64 letters, digits, _ or -`,
      );
    }
    if (typeof value !== 'string') {
      throw configProblem(`VERDICT_DATA_KEYS: key ${kid} must be a base64 string`);
    }
    keys.set(kid, decodeKey(value, `VERDICT_DATA_KEYS (key ${kid})`));
  }
  if (keys.size === 0) throw configProblem('VERDICT_DATA_KEYS: holds no key');
  const activeKeyId = dataKeyId ?? (keys.size === 1 ? [...keys.keys()][0] : undefined);
  if (activeKeyId === undefined) {
    throw configProblem('VERDICT_DATA_KEY_ID: required when VERDICT_DATA_KEYS holds several keys');
  }
  if (!keys.has(activeKeyId)) {
    throw configProblem(
      `VERDICT_DATA_KEY_ID=${JSON.stringify(activeKeyId)}: not a key id of VERDICT_DATA_KEYS`,
    );
  }
  if (blindIndexKey === undefined) {
    throw configProblem(
      'VERDICT_BLIND_INDEX_KEY: required with VERDICT_DATA_KEYS (base64 of 32 random bytes)',
    );
  }
  const indexKey = decodeKey(blindIndexKey, 'VERDICT_BLIND_INDEX_KEY');
  for (const key of keys.values()) {
    if (key.equals(indexKey)) {
      throw configProblem('VERDICT_BLIND_INDEX_KEY: must differ from every data key');
    }
  }
  return { activeKeyId, keys, indexKey };
}

/** The key file written into the data folder when no keys are configured. */
interface KeyFile {
  data_keys: Record<string, string>;
  active_data_key: string;
  blind_index_key: string;
}

export const generatedKeyFileName = 'identity-keys.json';

function readOrCreateKeyFile(dataDir: string, logger: Logger): KeyFile {
  const file = path.join(dataDir, generatedKeyFileName);
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as KeyFile;
  fs.mkdirSync(dataDir, { recursive: true });
  const kid = `dev-${randomBytes(4).toString('hex')}`;
  const contents: KeyFile = {
    data_keys: { [kid]: randomBytes(keyLength).toString('base64') },
    active_data_key: kid,
    blind_index_key: randomBytes(keyLength).toString('base64'),
  };
  // `wx` fails when another process created it first; that one's keys are read below.
  try {
    fs.writeFileSync(file, `${JSON.stringify(contents, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return JSON.parse(fs.readFileSync(file, 'utf8')) as KeyFile;
  }
  logger.warn(
    { file },
    'no VERDICT_DATA_KEYS configured: generated data keys into the data folder; fine for one development instance, but set VERDICT_DATA_KEYS, VERDICT_DATA_KEY_ID and VERDICT_BLIND_INDEX_KEY in production',
  );
  return contents;
}

/** The configured keys, or those of the data folder's key file (created when missing). */
export function loadDataKeys(settings: DataKeySettings, logger: Logger): DataKeySet {
  if (settings.dataKeys !== undefined) {
    return parseDataKeys(settings.dataKeys, settings.dataKeyId, settings.blindIndexKey);
  }
  if (settings.dataKeyId !== undefined || settings.blindIndexKey !== undefined) {
    throw configProblem(
      'VERDICT_DATA_KEYS: required when VERDICT_DATA_KEY_ID or VERDICT_BLIND_INDEX_KEY is set',
    );
  }
  const file = readOrCreateKeyFile(settings.dataDir, logger);
  return parseDataKeys(JSON.stringify(file.data_keys), file.active_data_key, file.blind_index_key);
}

/** Where an encrypted value lives; bound into its ciphertext. */
export type FieldContext = string;

/** `table.column:rowId`, the context a column's value is bound to. */
export function fieldContext(table: string, column: string, rowId: string): FieldContext {
  return `${table}.${column}:${rowId}`;
}

function undecryptable(detail: string): VerdictError {
  return new VerdictError('internal', `An encrypted value could not be decrypted: ${detail}.`);
}

export class FieldCipher {
  readonly activeKeyId: string;
  private readonly keys: ReadonlyMap<string, Buffer>;
  private readonly indexKey: Buffer;

  constructor(keys: DataKeySet) {
    this.activeKeyId = keys.activeKeyId;
    this.keys = keys.keys;
    this.indexKey = keys.indexKey;
  }

  encrypt(plaintext: string | Buffer, context: FieldContext): string {
    const key = this.keys.get(this.activeKeyId) as Buffer;
    const iv = randomBytes(ivLength);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: tagLength });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
    return [
      formatVersion,
      this.activeKeyId,
      iv.toString('base64url'),
      ciphertext.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
    ].join(':');
  }

  /** The plaintext bytes; throws when the value was tampered with or its key is unknown. */
  decrypt(value: string, context: FieldContext): Buffer {
    const parts = value.split(':');
    const [version, kid, ivText, ciphertextText, tagText] = parts;
    if (parts.length !== 5 || version !== formatVersion || kid === undefined) {
      throw undecryptable('not a v1 encrypted value');
    }
    const key = this.keys.get(kid);
    if (key === undefined) {
      throw undecryptable(`data key "${kid}" is not configured (keep it in VERDICT_DATA_KEYS)`);
    }
    const iv = Buffer.from(ivText as string, 'base64url');
    const tag = Buffer.from(tagText as string, 'base64url');
    if (iv.length !== ivLength || tag.length !== tagLength) throw undecryptable('malformed');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: tagLength });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([
        decipher.update(Buffer.from(ciphertextText as string, 'base64url')),
        decipher.final(),
      ]);
    } catch (err) {
      throw new VerdictError(
        'internal',
        'An encrypted value failed its integrity check (tampered, or moved from another row).',
        { cause: err },
      );
    }
  }

  decryptText(value: string, context: FieldContext): string {
    return this.decrypt(value, context).toString('utf8');
  }

  /** Whether `value` is encrypted under the active key (false for plaintext too). */
  isCurrent(value: string): boolean {
    return value.startsWith(`${formatVersion}:${this.activeKeyId}:`);
  }

  /** Whether `value` has the form of an encrypted value at all. */
  static isEncrypted(value: string): boolean {
    return value.startsWith(`${formatVersion}:`);
  }

  /** HMAC-SHA256 of `purpose` and `value` under the index key, base64url. */
  blindIndex(purpose: string, value: string): string {
    return createHmac('sha256', this.indexKey)
      .update(purpose, 'utf8')
      .update('\u0000')
      .update(value, 'utf8')
      .digest('base64url');
  }
}

/** The form of an e-mail address lookups compare: trimmed and lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
