/**
 * In-process cache and pub/sub for a single instance: an LRU map with per-entry expiry, and
 * channels delivered on a later tick, as Redis delivers them, so callers cannot come to
 * rely on a synchronous delivery that the Redis adapter would not give them.
 */
import { LRUCache } from 'lru-cache';
import type { Logger } from '../../logger';
import type { CacheStore, MessageListener, Unsubscribe } from './types';

export interface MemoryCacheOptions {
  /** Most entries kept; the least recently used go first. */
  maxEntries?: number;
  logger: Logger;
}

export class MemoryCache implements CacheStore {
  readonly kind = 'memory';
  private readonly entries: LRUCache<string, string>;
  private readonly channels = new Map<string, Set<MessageListener>>();
  private readonly logger: Logger;
  private closed = false;

  constructor(options: MemoryCacheOptions) {
    this.entries = new LRUCache<string, string>({ max: options.maxEntries ?? 10_000 });
    this.logger = options.logger;
  }

  get(key: string): Promise<string | undefined> {
    return Promise.resolve(this.entries.get(key));
  }

  set(key: string, value: string, ttlMs?: number): Promise<void> {
    this.entries.set(key, value, ttlMs === undefined ? {} : { ttl: ttlMs });
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    this.entries.delete(key);
    return Promise.resolve();
  }

  remainingTtl(key: string): Promise<number | undefined> {
    if (!this.entries.has(key)) return Promise.resolve(undefined);
    const remaining = this.entries.getRemainingTTL(key);
    return Promise.resolve(remaining > 0 && Number.isFinite(remaining) ? remaining : undefined);
  }

  increment(key: string, windowMs: number): Promise<number> {
    const current = this.entries.get(key);
    const count = (current === undefined ? 0 : Number(current)) + 1;
    if (current === undefined) this.entries.set(key, String(count), { ttl: windowMs });
    else this.entries.set(key, String(count), { noUpdateTTL: true });
    return Promise.resolve(count);
  }

  publish(channel: string, message: string): Promise<void> {
    const listeners = this.channels.get(channel);
    if (listeners !== undefined) {
      for (const listener of [...listeners]) {
        setImmediate(() => {
          this.deliver(channel, listener, message);
        });
      }
    }
    return Promise.resolve();
  }

  subscribe(channel: string, listener: MessageListener): Promise<Unsubscribe> {
    let listeners = this.channels.get(channel);
    if (listeners === undefined) {
      listeners = new Set();
      this.channels.set(channel, listeners);
    }
    // A wrapper, so the same function subscribed twice gets two independent subscriptions.
    const subscription: MessageListener = (message) => {
      listener(message);
    };
    listeners.add(subscription);
    return Promise.resolve(() => {
      listeners.delete(subscription);
      if (listeners.size === 0) this.channels.delete(channel);
      return Promise.resolve();
    });
  }

  ping(): Promise<void> {
    return this.closed
      ? Promise.reject(new Error('in-process cache is closed'))
      : Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    this.channels.clear();
    this.entries.clear();
    return Promise.resolve();
  }

  private deliver(channel: string, listener: MessageListener, message: string): void {
    if (this.closed || this.channels.get(channel)?.has(listener) !== true) return;
    try {
      listener(message);
    } catch (err) {
      this.logger.error({ err, channel }, 'pub/sub listener failed');
    }
  }
}
