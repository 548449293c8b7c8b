/**
 * Redis cache and pub/sub (ioredis), shared by every instance. Keys and channels carry the
 * configured prefix so several deployments or test runs can share one Redis. Commands fail
 * fast while Redis is unreachable (no offline queue), so a request never hangs on it; the
 * client keeps reconnecting in the background and readiness reports the outage meanwhile.
 * Commands go through a circuit breaker: once Redis keeps failing (down, or slower than the
 * command timeout), callers get an error at once instead of each waiting for its own timeout,
 * until a probe finds Redis back (api/services/breaker.ts).
 */
import { Redis } from 'ioredis';
import { maskUrl } from '../../config';
import { VerdictError, messageOf } from '../../errors';
import type { Logger } from '../../logger';
import { CircuitBreaker } from '../breaker';
import type { CacheStore, MessageListener, Unsubscribe } from './types';

export interface RedisCacheOptions {
  url: string;
  keyPrefix: string;
  logger: Logger;
  /** Per-command time limit in milliseconds. */
  commandTimeoutMs?: number;
  /** Consecutive failed commands that open the breaker, and how long it stays open. */
  breaker?: { failureThreshold?: number; openMs?: number };
}

// INCR and start the window in one step, so a crash between the two cannot leave a counter
// that never expires.
const incrementScript = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count`;

export class RedisCache implements CacheStore {
  readonly kind = 'redis';
  /** The command connection, also lent to libraries that speak Redis themselves (rate limits). */
  readonly commands: Redis;
  private readonly subscriber: Redis;
  private readonly keyPrefix: string;
  private readonly listeners = new Map<string, Set<MessageListener>>();
  /** The SUBSCRIBE of each channel with listeners, settled once Redis confirmed it. */
  private readonly subscribed = new Map<string, Promise<unknown>>();
  private readonly resubscribeListeners = new Set<() => void>();
  private readonly logger: Logger;
  readonly breaker: CircuitBreaker;

  private constructor(commands: Redis, subscriber: Redis, options: RedisCacheOptions) {
    this.breaker = new CircuitBreaker({ name: 'redis', ...options.breaker });
    this.commands = commands;
    this.subscriber = subscriber;
    this.keyPrefix = options.keyPrefix;
    this.logger = options.logger;
    subscriber.on('message', (channel: string, message: string) => {
      this.dispatch(channel, message);
    });
    // Built after the first 'ready': any later one is a reconnection, after which ioredis
    // subscribes again to every channel (autoResubscribe); what was published meanwhile is lost.
    subscriber.on('ready', () => {
      for (const listener of [...this.resubscribeListeners]) listener();
    });
  }

  /** Connects both connections; fails with `cache_unavailable` when Redis cannot be reached. */
  static async connect(options: RedisCacheOptions): Promise<RedisCache> {
    const client = (name: string): Redis => {
      let connectedOnce = false;
      const redis = new Redis(options.url, {
        keyPrefix: options.keyPrefix,
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        connectTimeout: 5000,
        // How long a closing socket may linger. ioredis arms this timer even for a socket that
        // never connected, which would otherwise hold the process open after a failed start.
        disconnectTimeout: 100,
        commandTimeout: options.commandTimeoutMs ?? 2000,
        connectionName: `verdict-${name}`,
        // A Redis that was never reached fails the start; one that goes away later is
        // retried forever with a capped backoff while readiness reports the outage.
        retryStrategy: (attempt) => (connectedOnce ? Math.min(attempt * 200, 2000) : null),
      });
      redis.once('ready', () => {
        connectedOnce = true;
      });
      // Without a listener ioredis prints each reconnect failure to stderr.
      redis.on('error', (err: unknown) => {
        options.logger.warn({ err: messageOf(err), connection: name }, 'redis connection error');
      });
      return redis;
    };
    const commands = client('commands');
    const subscriber = client('subscriber');
    // Settle both attempts before giving up, so no connection is left half-open.
    const attempts = await Promise.allSettled([commands.connect(), subscriber.connect()]);
    const failed = attempts.find((attempt) => attempt.status === 'rejected');
    if (failed !== undefined) {
      const err: unknown = failed.reason;
      commands.disconnect();
      subscriber.disconnect();
      throw new VerdictError(
        'cache_unavailable',
        `Cannot reach Redis at ${maskUrl(options.url)} (${messageOf(err)}); start Redis or unset REDIS_URL to use the in-process cache.`,
        { cause: err },
      );
    }
    return new RedisCache(commands, subscriber, options);
  }

  get(key: string): Promise<string | undefined> {
    return this.breaker.run(async () => (await this.commands.get(key)) ?? undefined);
  }

  set(key: string, value: string, ttlMs?: number): Promise<void> {
    return this.breaker.run(async () => {
      if (ttlMs === undefined) await this.commands.set(key, value);
      else await this.commands.set(key, value, 'PX', ttlMs);
    });
  }

  delete(key: string): Promise<void> {
    return this.breaker.run(async () => {
      await this.commands.del(key);
    });
  }

  remainingTtl(key: string): Promise<number | undefined> {
    // PTTL answers -2 for a missing key and -1 for a key without expiry.
    return this.breaker.run(async () => {
      const ms = await this.commands.pttl(key);
      return ms >= 0 ? ms : undefined;
    });
  }

  increment(key: string, windowMs: number): Promise<number> {
    return this.breaker.run(async () => {
      const count = await this.commands.eval(incrementScript, 1, key, windowMs);
      if (typeof count !== 'number') throw new Error(`unexpected INCR reply ${String(count)}`);
      return count;
    });
  }

  publish(channel: string, message: string): Promise<void> {
    return this.breaker.run(async () => {
      await this.commands.publish(this.keyPrefix + channel, message);
    });
  }

  async subscribe(channel: string, listener: MessageListener): Promise<Unsubscribe> {
    const fullChannel = this.keyPrefix + channel;
    let set = this.listeners.get(fullChannel);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(fullChannel, set);
      this.subscribed.set(fullChannel, this.subscriber.subscribe(fullChannel));
    }
    const subscription: MessageListener = (message) => {
      listener(message);
    };
    set.add(subscription);
    // A second subscriber to the same channel also waits until Redis confirmed the channel.
    try {
      await this.subscribed.get(fullChannel);
    } catch (err) {
      set.delete(subscription);
      throw err;
    }
    return async () => {
      const current = this.listeners.get(fullChannel);
      if (current === undefined) return;
      current.delete(subscription);
      if (current.size === 0) {
        this.listeners.delete(fullChannel);
        this.subscribed.delete(fullChannel);
        await this.subscriber.unsubscribe(fullChannel);
      }
    };
  }

  onResubscribe(listener: () => void): () => void {
    // A wrapper, so the same function registered twice is two registrations.
    const registration = (): void => {
      listener();
    };
    this.resubscribeListeners.add(registration);
    return () => {
      this.resubscribeListeners.delete(registration);
    };
  }

  async ping(): Promise<void> {
    await this.commands.ping();
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.subscribed.clear();
    await Promise.all([quietly(this.commands), quietly(this.subscriber)]);
  }

  private dispatch(channel: string, message: string): void {
    for (const listener of [...(this.listeners.get(channel) ?? [])]) {
      try {
        listener(message);
      } catch (err) {
        this.logger.error({ err, channel }, 'pub/sub listener failed');
      }
    }
  }
}

/** QUIT when connected (lets Redis finish replies), drop the socket otherwise. */
async function quietly(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    try {
      await redis.quit();
      return;
    } catch {
      // fall through to a hard disconnect
    }
  }
  redis.disconnect();
}
