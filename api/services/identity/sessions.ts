/**
 * Login sessions and their refresh tokens. A session is one login on one device; it holds a
 * family of refresh tokens of which only the newest is valid. Refreshing trades the newest
 * for a new one; presenting an older one again means a copy is in someone else's hands, so
 * the whole session is revoked (reuse detection).
 *
 * Two stores share this contract: Redis when REDIS_URL is configured (redis-sessions.ts),
 * the database otherwise (this file). Both answer `isActive` on every authenticated request:
 * Redis with one EXISTS, the database store from a short-lived in-process cache that its own
 * revocations clear at once (without Redis, Verdict runs as one instance).
 */
import type { Knex } from 'knex';
import { LRUCache } from 'lru-cache';

export interface Session {
  readonly id: string;
  readonly userId: string;
  readonly tenantId: string | null;
  /** Whether the login passed a second factor. */
  readonly mfa: boolean;
  readonly userAgent: string | null;
  readonly ip: string | null;
  readonly createdAt: Date;
  readonly lastSeenAt: Date;
  readonly expiresAt: Date;
}

export type RotateOutcome =
  | { readonly status: 'rotated'; readonly session: Session }
  | { readonly status: 'reused'; readonly sessionId: string }
  | { readonly status: 'invalid' };

export interface SessionStore {
  readonly kind: 'database' | 'redis';
  /** Stores a new session with its first refresh token (by hash). */
  create(session: Session, refreshHash: string): Promise<void>;
  /**
   * Trades the refresh token `presentedHash` for `nextHash`, atomically: of two concurrent
   * uses of one token, one rotates and the other is a reuse.
   */
  rotate(presentedHash: string, nextHash: string, now: Date): Promise<RotateOutcome>;
  /** Whether the session exists, is not revoked and has not expired. */
  isActive(sessionId: string, now: Date): Promise<boolean>;
  /** The user's active sessions, newest first. */
  listForUser(userId: string, now: Date): Promise<Session[]>;
  /** Revokes one session; false when it was not active. */
  revoke(sessionId: string, reason: string, now: Date): Promise<boolean>;
  /** Revokes every session of the user, but `except`; returns how many. */
  revokeForUser(userId: string, reason: string, now: Date, except?: string): Promise<number>;
  close(): Promise<void>;
}

interface SessionRow {
  id: string;
  user_id: string;
  tenant_id: string | null;
  mfa: boolean;
  user_agent: string | null;
  ip: string | null;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
}

function fromRow(row: SessionRow): Session {
  return {
    id: row.id,
    userId: row.user_id,
    tenantId: row.tenant_id,
    mfa: row.mfa,
    userAgent: row.user_agent,
    ip: row.ip,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
  };
}

/** How long the database store trusts that a session is active without asking again. */
const activeCacheTtlMs = 5000;

export class DatabaseSessionStore implements SessionStore {
  readonly kind = 'database';
  private readonly knex: Knex;
  /** Session id → expiry (ms), for sessions seen active lately. */
  private readonly active: LRUCache<string, number>;

  constructor(knex: Knex, clock: () => number = Date.now) {
    this.knex = knex;
    this.active = new LRUCache<string, number>({
      max: 50_000,
      ttl: activeCacheTtlMs,
      perf: { now: clock },
      ttlResolution: 0,
    });
  }

  async create(session: Session, refreshHash: string): Promise<void> {
    await this.knex.transaction(async (trx) => {
      await trx('sessions').insert({
        id: session.id,
        user_id: session.userId,
        tenant_id: session.tenantId,
        mfa: session.mfa,
        user_agent: session.userAgent,
        ip: session.ip,
        created_at: session.createdAt,
        last_seen_at: session.lastSeenAt,
        expires_at: session.expiresAt,
      });
      await trx('refresh_tokens').insert({
        token_hash: refreshHash,
        session_id: session.id,
        created_at: session.createdAt,
      });
    });
  }

  async rotate(presentedHash: string, nextHash: string, now: Date): Promise<RotateOutcome> {
    return this.knex.transaction(async (trx) => {
      const [claimed] = await trx('refresh_tokens')
        .where({ token_hash: presentedHash })
        .whereNull('used_at')
        .update({ used_at: now })
        .returning<{ session_id: string }[]>('session_id');
      if (claimed === undefined) {
        const used = await trx('refresh_tokens')
          .where({ token_hash: presentedHash })
          .first<{ session_id: string } | undefined>('session_id');
        return used === undefined
          ? { status: 'invalid' }
          : { status: 'reused', sessionId: used.session_id };
      }
      const [row] = await trx('sessions')
        .where({ id: claimed.session_id })
        .whereNull('revoked_at')
        .where('expires_at', '>', now)
        .update({ last_seen_at: now })
        .returning<SessionRow[]>('*');
      if (row === undefined) return { status: 'invalid' };
      await trx('refresh_tokens').insert({
        token_hash: nextHash,
        session_id: row.id,
        created_at: now,
      });
      return { status: 'rotated', session: fromRow(row) };
    });
  }

  async isActive(sessionId: string, now: Date): Promise<boolean> {
    const cached = this.active.get(sessionId);
    if (cached !== undefined) return cached > now.getTime();
    const row = await this.knex('sessions')
      .where({ id: sessionId })
      .whereNull('revoked_at')
      .where('expires_at', '>', now)
      .first<{ expires_at: Date } | undefined>('expires_at');
    if (row === undefined) return false;
    this.active.set(sessionId, row.expires_at.getTime());
    return true;
  }

  async listForUser(userId: string, now: Date): Promise<Session[]> {
    const rows = await this.knex<SessionRow>('sessions')
      .where({ user_id: userId })
      .whereNull('revoked_at')
      .where('expires_at', '>', now)
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'asc' },
      ]);
    return rows.map(fromRow);
  }

  async revoke(sessionId: string, reason: string, now: Date): Promise<boolean> {
    this.active.delete(sessionId);
    const count = await this.knex('sessions')
      .where({ id: sessionId })
      .whereNull('revoked_at')
      .update({ revoked_at: now, revoked_reason: reason });
    return count > 0;
  }

  async revokeForUser(userId: string, reason: string, now: Date, except?: string): Promise<number> {
    const query = this.knex('sessions').where({ user_id: userId }).whereNull('revoked_at');
    if (except !== undefined) void query.whereNot({ id: except });
    const revoked = await query
      .update({ revoked_at: now, revoked_reason: reason })
      .returning<{ id: string }[]>('id');
    for (const { id } of revoked) this.active.delete(id);
    return revoked.length;
  }

  close(): Promise<void> {
    this.active.clear();
    return Promise.resolve();
  }
}
