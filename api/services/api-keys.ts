/**
 * Tenant API keys: create (the plain key is returned once and never stored), list, revoke,
 * and verify a presented key.
 *
 * A key reads `vdk_<prefix>_<secret>`. The prefix (12 hex digits) is public: it finds the row
 * and names the key in listings. The secret is 32 random bytes, so a plain SHA-256 of it is
 * as strong as a slow hash would be (nothing to brute-force) and cheap enough for every
 * request; comparison is constant-time.
 *
 * Creating, listing and revoking work on one tenant's keys in a tenant-scoped transaction
 * (api/db/tenant-scope.ts). Verification cannot: the key names its tenant only once its row
 * is found, so it reads by prefix as the table owner, and so does the `last_used_at` write.
 *
 * Verification sits on the decision hot path, so what was read for a prefix is kept in a small
 * in-process LRU (api/services/refreshing-cache.ts): re-read in the background once it is 15 s
 * old, never used once it is 30 s old. A revocation takes effect at once on the instance that
 * performed it and within 30 s on every other one, as before; a key in use no longer waits for
 * Postgres every 30 s. When Postgres cannot be read, a key keeps working until what was read
 * is 30 s old, then verification fails (503). `last_used_at` is written at most once a minute
 * per key, off the request path.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';
import { LRUCache } from 'lru-cache';
import { withTenant } from '../db/tenant-scope';
import type { Logger } from '../logger';
import { ApiKey, type ApiKeyScope } from '../models/api-key';
import { isUuid } from '../uuid';
import type { CircuitBreaker } from './breaker';
import { RefreshingCache } from './refreshing-cache';

/** Who a verified key speaks for and what it may do. */
export interface ApiKeyPrincipal {
  readonly tenantId: string;
  readonly tenantSlug: string;
  readonly keyId: string;
  readonly scopes: readonly ApiKeyScope[];
}

export type VerifyFailure = 'malformed' | 'unknown' | 'revoked' | 'expired';

export type VerifyResult =
  | { readonly ok: true; readonly principal: ApiKeyPrincipal }
  | { readonly ok: false; readonly reason: VerifyFailure };

/** A key as listings show it: everything but the secret. */
export interface ApiKeySummary {
  readonly id: string;
  readonly tenant_id: string;
  readonly name: string;
  readonly prefix: string;
  readonly scopes: readonly ApiKeyScope[];
  readonly status: 'active' | 'revoked' | 'expired';
  readonly expires_at: Date | null;
  readonly last_used_at: Date | null;
  readonly revoked_at: Date | null;
  readonly created_at: Date;
}

export interface NewApiKey {
  readonly name: string;
  readonly scopes: readonly ApiKeyScope[];
  /** Seconds from now until the key stops working; absent for a key that never expires. */
  readonly expiresInSeconds?: number;
}

export interface ApiKeyServiceOptions {
  readonly knex: Knex;
  readonly logger: Logger;
  /**
   * Age past which what was read for a key is no longer trusted: verification waits for
   * Postgres (default 30 s, the bound on a revocation reaching other instances).
   */
  readonly cacheMaxAgeMs?: number;
  /** Age past which a key in use is re-read in the background (default: half the max age). */
  readonly cacheRefreshAfterMs?: number;
  /** Most keys kept in the cache (default 10 000). */
  readonly cacheMax?: number;
  /** Least time between two writes of a key's `last_used_at` (default one minute). */
  readonly lastUsedIntervalMs?: number;
  /** Milliseconds since the epoch; tests pass a clock they control. */
  readonly clock?: () => number;
  /**
   * The database's circuit breaker: key reads go through it, and while it is not closed keys
   * already verified are served past `cacheMaxAgeMs` (docs/architecture.md).
   */
  readonly breaker?: CircuitBreaker;
}

/** How long verification waits for a key's row before the read counts as failed. */
const keyReadTimeoutMs = 2000;

export const apiKeyMarker = 'vdk';
const keyPattern = /^vdk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

/** True when `value` has the shape of a Verdict API key (says nothing about its validity). */
export function looksLikeApiKey(value: string): boolean {
  return value.startsWith(`${apiKeyMarker}_`);
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** What the cache remembers about a prefix; `absent` when no key has it. */
type CachedKey =
  | { readonly kind: 'absent' }
  | {
      readonly kind: 'present';
      readonly secretHash: Buffer;
      readonly principal: ApiKeyPrincipal;
      readonly expiresAt: number | null;
      readonly revoked: boolean;
    };

/** The columns verification reads. */
interface KeyRow {
  id: string;
  tenant_id: string;
  tenant_slug: string;
  secret_hash: string;
  scopes: ApiKeyScope[];
  expires_at: Date | null;
  revoked_at: Date | null;
}

/** Compared against when no key matches, so an unknown prefix costs the same as a known one. */
const decoyHash = sha256('verdict decoy secret');

function statusOf(key: ApiKey, now: number): ApiKeySummary['status'] {
  if (key.revoked_at !== null) return 'revoked';
  if (key.expires_at !== null && key.expires_at.getTime() <= now) return 'expired';
  return 'active';
}

export class ApiKeyService {
  private readonly knex: Knex;
  private readonly logger: Logger;
  private readonly clock: () => number;
  private readonly lastUsedIntervalMs: number;
  private readonly cache: RefreshingCache<CachedKey>;
  /** When this instance last wrote each key's `last_used_at`. */
  private readonly lastTouched: LRUCache<string, number>;
  private readonly pendingWrites = new Set<Promise<void>>();
  private readonly breaker: CircuitBreaker | undefined;

  constructor(options: ApiKeyServiceOptions) {
    this.knex = options.knex;
    this.logger = options.logger;
    this.clock = options.clock ?? Date.now;
    this.lastUsedIntervalMs = options.lastUsedIntervalMs ?? 60_000;
    const breaker = options.breaker;
    this.breaker = breaker;
    const max = options.cacheMax ?? 10_000;
    // Concurrent requests with one key share a single database read.
    this.cache = new RefreshingCache<CachedKey>({
      load: (prefix) => this.load(prefix),
      maxAgeMs: options.cacheMaxAgeMs ?? 30_000,
      refreshAfterMs: options.cacheRefreshAfterMs,
      max,
      clock: this.clock,
      serveStale: breaker === undefined ? undefined : () => breaker.state !== 'closed',
    });
    this.lastTouched = new LRUCache<string, number>({ max });
  }

  async create(
    tenantId: string,
    input: NewApiKey,
  ): Promise<{ key: ApiKeySummary; plainKey: string }> {
    const prefix = randomBytes(6).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const now = this.clock();
    const expiresAt =
      input.expiresInSeconds === undefined ? null : new Date(now + input.expiresInSeconds * 1000);
    const key = await withTenant(this.knex, tenantId, (trx) =>
      ApiKey.query(trx).insertAndFetch({
        tenant_id: tenantId,
        name: input.name,
        prefix,
        secret_hash: sha256(secret).toString('hex'),
        scopes: [...new Set(input.scopes)],
        expires_at: expiresAt,
      }),
    );
    return { key: this.summarize(key), plainKey: `${apiKeyMarker}_${prefix}_${secret}` };
  }

  /** The tenant's keys, newest first, revoked and expired ones included. */
  async list(tenantId: string): Promise<ApiKeySummary[]> {
    const keys = await withTenant(this.knex, tenantId, (trx) =>
      ApiKey.query(trx)
        .where({ tenant_id: tenantId })
        .orderBy([
          { column: 'created_at', order: 'desc' },
          { column: 'id', order: 'asc' },
        ]),
    );
    return keys.map((key) => this.summarize(key));
  }

  /**
   * Revokes the tenant's key `keyId`; undefined when the tenant has no such key. Revoking
   * twice keeps the first revocation time.
   */
  async revoke(tenantId: string, keyId: string): Promise<ApiKeySummary | undefined> {
    if (!isUuid(keyId)) return undefined;
    const [revoked] = await withTenant(this.knex, tenantId, (trx) =>
      ApiKey.query(trx)
        .where({ tenant_id: tenantId, id: keyId })
        .patch({ revoked_at: trx.raw('coalesce(revoked_at, ?)', [new Date(this.clock())]) })
        .returning('*'),
    );
    if (revoked === undefined) return undefined;
    this.cache.delete(revoked.prefix);
    return this.summarize(revoked);
  }

  async verify(presented: string): Promise<VerifyResult> {
    const match = keyPattern.exec(presented);
    if (match === null) return { ok: false, reason: 'malformed' };
    const [, prefix, secret] = match as unknown as [string, string, string];
    const cached = await this.cache.get(prefix);
    const expected = cached.kind === 'present' ? cached.secretHash : decoyHash;
    const matches = timingSafeEqual(sha256(secret), expected);
    if (cached.kind !== 'present' || !matches) return { ok: false, reason: 'unknown' };
    if (cached.revoked) return { ok: false, reason: 'revoked' };
    const now = this.clock();
    if (cached.expiresAt !== null && cached.expiresAt <= now) {
      return { ok: false, reason: 'expired' };
    }
    this.touch(cached.principal.keyId, now);
    return { ok: true, principal: cached.principal };
  }

  /**
   * Resolves once the background work started so far has finished: `last_used_at` writes and
   * re-reads of keys in use.
   */
  async flush(): Promise<void> {
    await Promise.all([...this.pendingWrites, this.cache.settled()]);
  }

  private load(prefix: string): Promise<CachedKey> {
    return this.breaker === undefined
      ? this.read(prefix)
      : this.breaker.run(() => this.read(prefix), keyReadTimeoutMs);
  }

  private async read(prefix: string): Promise<CachedKey> {
    const row = await this.knex('api_keys')
      .join('tenants', 'tenants.id', 'api_keys.tenant_id')
      .where('api_keys.prefix', prefix)
      .first<KeyRow | undefined>(
        'api_keys.id',
        'api_keys.tenant_id',
        'tenants.slug as tenant_slug',
        'api_keys.secret_hash',
        'api_keys.scopes',
        'api_keys.expires_at',
        'api_keys.revoked_at',
      );
    if (row === undefined) return { kind: 'absent' };
    return {
      kind: 'present',
      secretHash: Buffer.from(row.secret_hash, 'hex'),
      principal: {
        tenantId: row.tenant_id,
        tenantSlug: row.tenant_slug,
        keyId: row.id,
        scopes: row.scopes,
      },
      expiresAt: row.expires_at?.getTime() ?? null,
      revoked: row.revoked_at !== null,
    };
  }

  /** Records use of a key, at most once per interval, without holding up the request. */
  private touch(keyId: string, now: number): void {
    const last = this.lastTouched.get(keyId);
    if (last !== undefined && now - last < this.lastUsedIntervalMs) return;
    this.lastTouched.set(keyId, now);
    const write = ApiKey.query(this.knex)
      .findById(keyId)
      // Other instances write too; the condition keeps it to once per interval across all.
      .whereRaw('(last_used_at is null or last_used_at <= ?)', [
        new Date(now - this.lastUsedIntervalMs),
      ])
      .patch({ last_used_at: new Date(now) })
      .then(
        () => undefined,
        (err: unknown) => {
          this.logger.warn({ err, keyId }, 'could not record API key use');
        },
      )
      .finally(() => {
        this.pendingWrites.delete(write);
      });
    this.pendingWrites.add(write);
  }

  private summarize(key: ApiKey): ApiKeySummary {
    return {
      id: key.id,
      tenant_id: key.tenant_id,
      name: key.name,
      prefix: key.prefix,
      scopes: key.scopes,
      status: statusOf(key, this.clock()),
      expires_at: key.expires_at,
      last_used_at: key.last_used_at,
      revoked_at: key.revoked_at,
      created_at: key.created_at,
    };
  }
}
