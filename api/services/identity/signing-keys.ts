/**
 * The Ed25519 keys access tokens are signed with, kept in `signing_keys` (private keys
 * encrypted with the data key) so every instance signs and verifies with the same ones.
 *
 * One key signs at a time: the newest that is not retired. Rotation (automatic once the
 * signing key is older than the rotation interval, or `verdict keys rotate-signing-key`)
 * adds a new key and retires the others; a retired key still verifies until every token it
 * signed has expired (`verify_until`), so nobody is logged out by a rotation. Each token
 * names its key in the `kid` header.
 *
 * Keys are cached in process; an unknown `kid` (a key another instance just made) reloads
 * the table, at most once a second, so a flood of made-up kids cannot hammer the database.
 */
import {
  generateKeyPairSync,
  createPrivateKey,
  createPublicKey,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import type { Knex } from 'knex';
import { fieldContext, type FieldCipher } from './data-keys';
import { loadJose, type JWK } from './jose';

export const signingAlgorithm = 'EdDSA';

interface SigningKeyRow {
  kid: string;
  algorithm: string;
  public_key: string;
  private_key: string;
  created_at: Date;
  retired_at: Date | null;
  verify_until: Date | null;
}

interface LoadedKey {
  readonly kid: string;
  readonly publicKey: KeyObject;
  readonly createdAt: number;
  readonly retired: boolean;
  readonly verifyUntil: number | null;
  /** Decrypted only for the key that signs. */
  privateKey?: KeyObject;
  readonly encryptedPrivateKey: string;
}

export interface SigningKeysOptions {
  readonly knex: Knex;
  readonly cipher: FieldCipher;
  /** How long an access token lives: a retired key verifies this much longer. */
  readonly tokenTtlMs: number;
  /** Age at which the signing key is replaced automatically. */
  readonly rotationIntervalMs: number;
  readonly clock?: () => number;
  /** Told of each rotation: by age (automatic) or on command (`rotate`); not of the first key. */
  readonly onRotated?: (kid: string, trigger: SigningKeyRotationTrigger) => void;
}

export type SigningKeyRotationTrigger = 'age' | 'command';

/** Least time between two reloads of the table for an unknown kid. */
const reloadIntervalMs = 1000;
/** How long the loaded keys are trusted before the table is read again. */
const refreshIntervalMs = 60_000;

function privateKeyContext(kid: string): string {
  return fieldContext('signing_keys', 'private_key', kid);
}

export class SigningKeys {
  private readonly knex: Knex;
  private readonly cipher: FieldCipher;
  private readonly tokenTtlMs: number;
  private readonly rotationIntervalMs: number;
  private readonly clock: () => number;
  private readonly onRotated:
    ((kid: string, trigger: SigningKeyRotationTrigger) => void) | undefined;
  private keys = new Map<string, LoadedKey>();
  private loadedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | undefined;

  constructor(options: SigningKeysOptions) {
    this.knex = options.knex;
    this.cipher = options.cipher;
    this.tokenTtlMs = options.tokenTtlMs;
    this.rotationIntervalMs = options.rotationIntervalMs;
    this.clock = options.clock ?? Date.now;
    this.onRotated = options.onRotated;
  }

  /** The key to sign with now; made (or rotated) first when there is none or it is too old. */
  async signingKey(): Promise<{ kid: string; privateKey: KeyObject }> {
    if (this.clock() - this.loadedAt > refreshIntervalMs) await this.reload();
    let active = this.active();
    if (active === undefined || this.clock() - active.createdAt >= this.rotationIntervalMs) {
      await this.rotateIfStale();
      active = this.active();
    }
    const key = active as LoadedKey;
    key.privateKey ??= createPrivateKey(
      this.cipher.decryptText(key.encryptedPrivateKey, privateKeyContext(key.kid)),
    );
    return { kid: key.kid, privateKey: key.privateKey };
  }

  /** The public key of `kid` while it may verify; undefined for unknown or expired kids. */
  async verificationKey(kid: string): Promise<KeyObject | undefined> {
    if (!this.keys.has(kid) && this.clock() - this.loadedAt >= reloadIntervalMs) {
      await this.reload();
    }
    const key = this.keys.get(kid);
    if (key === undefined) return undefined;
    if (key.verifyUntil !== null && key.verifyUntil <= this.clock()) return undefined;
    return key.publicKey;
  }

  /** Public keys that still verify, as a JWK set (for other services checking tokens). */
  async jwks(): Promise<{ keys: JWK[] }> {
    if (this.clock() - this.loadedAt > refreshIntervalMs) await this.reload();
    const { exportJWK } = await loadJose();
    const now = this.clock();
    const keys: JWK[] = [];
    for (const key of this.keys.values()) {
      if (key.verifyUntil !== null && key.verifyUntil <= now) continue;
      keys.push({
        ...(await exportJWK(key.publicKey)),
        kid: key.kid,
        alg: signingAlgorithm,
        use: 'sig',
      });
    }
    return { keys };
  }

  /** Adds a new signing key and retires the others; returns the new kid. */
  async rotate(): Promise<string> {
    const kid = await this.knex.transaction(async (trx) => {
      await trx.raw('lock table signing_keys in share row exclusive mode');
      return this.insertKey(trx);
    });
    this.onRotated?.(kid, 'command');
    await this.reload();
    return kid;
  }

  /** Rotates unless another instance rotated in the meantime. */
  private async rotateIfStale(): Promise<void> {
    const rotated = await this.knex.transaction(async (trx) => {
      await trx.raw('lock table signing_keys in share row exclusive mode');
      const newest = await trx<SigningKeyRow>('signing_keys')
        .whereNull('retired_at')
        .orderBy('created_at', 'desc')
        .first();
      if (
        newest !== undefined &&
        this.clock() - newest.created_at.getTime() < this.rotationIntervalMs
      ) {
        return undefined;
      }
      const kid = await this.insertKey(trx);
      // The very first key replaces nothing: no rotation to report.
      return newest === undefined ? undefined : kid;
    });
    if (rotated !== undefined) this.onRotated?.(rotated, 'age');
    await this.reload();
  }

  private async insertKey(trx: Knex.Transaction): Promise<string> {
    const now = new Date(this.clock());
    const kid = `${now.toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(6).toString('hex')}`;
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    await trx('signing_keys')
      .whereNull('retired_at')
      .update({ retired_at: now, verify_until: new Date(now.getTime() + this.tokenTtlMs) });
    await trx('signing_keys').insert({
      kid,
      algorithm: signingAlgorithm,
      public_key: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      private_key: this.cipher.encrypt(
        privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        privateKeyContext(kid),
      ),
      created_at: now,
    });
    return kid;
  }

  private active(): LoadedKey | undefined {
    let newest: LoadedKey | undefined;
    for (const key of this.keys.values()) {
      if (!key.retired && (newest === undefined || key.createdAt > newest.createdAt)) newest = key;
    }
    return newest;
  }

  /** Reads the table again; concurrent callers share one read. */
  private reload(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const rows = await this.knex<SigningKeyRow>('signing_keys').where((query) => {
          void query.whereNull('verify_until').orWhere('verify_until', '>', new Date(this.clock()));
        });
        const keys = new Map<string, LoadedKey>();
        for (const row of rows) {
          const known = this.keys.get(row.kid);
          keys.set(row.kid, {
            kid: row.kid,
            publicKey: known?.publicKey ?? createPublicKey(row.public_key),
            createdAt: row.created_at.getTime(),
            retired: row.retired_at !== null,
            verifyUntil: row.verify_until?.getTime() ?? null,
            encryptedPrivateKey: row.private_key,
            ...(known?.privateKey === undefined ? {} : { privateKey: known.privateKey }),
          });
        }
        this.keys = keys;
        this.loadedAt = this.clock();
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }
}
