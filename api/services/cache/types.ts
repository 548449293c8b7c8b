/**
 * The cache and pub/sub port of the service. Two adapters implement it: Redis, shared by
 * every instance behind a load balancer, and in-process, for a single instance with no Redis.
 * Values are strings; callers choose their own encoding.
 */
import type { CircuitBreaker } from '../breaker';

export type MessageListener = (message: string) => void;
export type Unsubscribe = () => Promise<void>;

export interface CacheStore {
  readonly kind: 'redis' | 'memory';
  /** Guards the remote store's commands (Redis); absent for the in-process one. */
  readonly breaker?: CircuitBreaker;
  get(key: string): Promise<string | undefined>;
  /** Stores `value`; with `ttlMs` it expires after that many milliseconds. */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Milliseconds until `key` expires; undefined when it does not exist or never expires. */
  remainingTtl(key: string): Promise<number | undefined>;
  /**
   * Adds one to the counter at `key` and returns the new count; the first increment starts a
   * window of `windowMs` after which the counter disappears (fixed-window rate limits).
   */
  increment(key: string, windowMs: number): Promise<number>;
  /** Delivers `message` to every subscriber of `channel`, on every instance. */
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, listener: MessageListener): Promise<Unsubscribe>;
  /**
   * Calls `listener` each time the subscriptions are restored after the connection was lost:
   * messages published meanwhile were missed. Absent where none can be missed (in-process).
   */
  onResubscribe?(listener: () => void): () => void;
  /** Resolves when the store answers; rejects with the reason otherwise (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
