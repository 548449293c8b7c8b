/**
 * Sessions in Redis (see sessions.ts for the contract), shared by every instance:
 *
 * - `session:<id>`: the session as JSON, expiring with it; revoking deletes it, so checking a
 *   request's session is one EXISTS.
 * - `user-sessions:<userId>`: the ids of the user's sessions (stale ids are dropped when read).
 * - `refresh:<hash>`: `<sessionId>|current` for the newest refresh token, `|used` for the ones
 *   traded in, kept as long as the session lives so a reuse is recognised. A Lua script
 *   trades a token atomically.
 *
 * Redis here keeps nothing on disk by default: a Redis restart signs everyone out.
 */
import { Redis } from 'ioredis';
import { messageOf } from '../../errors';
import type { Logger } from '../../logger';
import type { RotateOutcome, Session, SessionStore } from './sessions';

interface StoredSession {
  id: string;
  userId: string;
  tenantId: string | null;
  mfa: boolean;
  userAgent: string | null;
  ip: string | null;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

function toStored(session: Session): StoredSession {
  return {
    ...session,
    createdAt: session.createdAt.getTime(),
    lastSeenAt: session.lastSeenAt.getTime(),
    expiresAt: session.expiresAt.getTime(),
  };
}

function fromStored(text: string): Session {
  const stored = JSON.parse(text) as StoredSession;
  return {
    ...stored,
    createdAt: new Date(stored.createdAt),
    lastSeenAt: new Date(stored.lastSeenAt),
    expiresAt: new Date(stored.expiresAt),
  };
}

// KEYS[1] the presented token, KEYS[2] the next one; ARGV[1] the key prefix (keys built here
// do not get ioredis's prefix). Answers {outcome, session id}.
const rotateScript = `
local value = redis.call('GET', KEYS[1])
if not value then return {'invalid', ''} end
local bar = string.find(value, '|', 1, true)
local sid = string.sub(value, 1, bar - 1)
if string.sub(value, bar + 1) ~= 'current' then return {'reused', sid} end
redis.call('SET', KEYS[1], sid .. '|used', 'KEEPTTL')
local ttl = redis.call('PTTL', ARGV[1] .. 'session:' .. sid)
if ttl <= 0 then return {'invalid', sid} end
redis.call('SET', KEYS[2], sid .. '|current', 'PX', ttl)
return {'rotated', sid}`;

export interface RedisSessionStoreOptions {
  readonly url: string;
  readonly keyPrefix: string;
  readonly logger: Logger;
}

export class RedisSessionStore implements SessionStore {
  readonly kind = 'redis';
  private readonly redis: Redis;
  private readonly keyPrefix: string;

  private constructor(redis: Redis, keyPrefix: string) {
    this.redis = redis;
    this.keyPrefix = keyPrefix;
  }

  /** Connects; fails when Redis cannot be reached (the cache's connect has already tried). */
  static async connect(options: RedisSessionStoreOptions): Promise<RedisSessionStore> {
    const redis = new Redis(options.url, {
      keyPrefix: options.keyPrefix,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 5000,
      disconnectTimeout: 100,
      commandTimeout: 2000,
      connectionName: 'verdict-sessions',
    });
    redis.on('error', (err: unknown) => {
      options.logger.warn(
        { err: messageOf(err), connection: 'sessions' },
        'redis connection error',
      );
    });
    await redis.connect();
    return new RedisSessionStore(redis, options.keyPrefix);
  }

  async create(session: Session, refreshHash: string): Promise<void> {
    const ttl = Math.max(1, session.expiresAt.getTime() - session.lastSeenAt.getTime());
    await this.redis
      .multi()
      .set(`session:${session.id}`, JSON.stringify(toStored(session)), 'PX', ttl)
      .sadd(`user-sessions:${session.userId}`, session.id)
      .pexpireat(`user-sessions:${session.userId}`, session.expiresAt.getTime(), 'GT')
      .pexpireat(`user-sessions:${session.userId}`, session.expiresAt.getTime(), 'NX')
      .set(`refresh:${refreshHash}`, `${session.id}|current`, 'PX', ttl)
      .exec();
  }

  async rotate(presentedHash: string, nextHash: string, now: Date): Promise<RotateOutcome> {
    const [outcome, sessionId] = (await this.redis.eval(
      rotateScript,
      2,
      `refresh:${presentedHash}`,
      `refresh:${nextHash}`,
      this.keyPrefix,
    )) as [string, string];
    if (outcome === 'reused') return { status: 'reused', sessionId };
    if (outcome !== 'rotated') return { status: 'invalid' };
    const text = await this.redis.get(`session:${sessionId}`);
    if (text === null) return { status: 'invalid' };
    const session = { ...fromStored(text), lastSeenAt: now };
    await this.redis.set(
      `session:${sessionId}`,
      JSON.stringify(toStored(session)),
      'KEEPTTL',
      'XX',
    );
    return { status: 'rotated', session };
  }

  async isActive(sessionId: string): Promise<boolean> {
    return (await this.redis.exists(`session:${sessionId}`)) === 1;
  }

  async listForUser(userId: string): Promise<Session[]> {
    const ids = await this.redis.smembers(`user-sessions:${userId}`);
    if (ids.length === 0) return [];
    const values = await this.redis.mget(ids.map((id) => `session:${id}`));
    const stale = ids.filter((_, i) => values[i] === null);
    if (stale.length > 0) await this.redis.srem(`user-sessions:${userId}`, ...stale);
    return values
      .filter((value): value is string => value !== null)
      .map(fromStored)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || a.id.localeCompare(b.id));
  }

  async revoke(sessionId: string): Promise<boolean> {
    const text = await this.redis.get(`session:${sessionId}`);
    if (text === null) return false;
    const deleted = await this.redis.del(`session:${sessionId}`);
    await this.redis.srem(`user-sessions:${fromStored(text).userId}`, sessionId);
    return deleted > 0;
  }

  async revokeForUser(
    userId: string,
    _reason: string,
    _now: Date,
    except?: string,
  ): Promise<number> {
    const ids = (await this.redis.smembers(`user-sessions:${userId}`)).filter(
      (id) => id !== except,
    );
    if (ids.length === 0) return 0;
    const deleted = await this.redis.del(...ids.map((id) => `session:${id}`));
    await this.redis.srem(`user-sessions:${userId}`, ...ids);
    return deleted;
  }

  async close(): Promise<void> {
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => undefined);
    this.redis.disconnect();
  }
}
