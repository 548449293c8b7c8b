/**
 * A bounded in-process cache of values read from the database, served stale while they are
 * re-read in the background, never past a hard age.
 *
 * A value younger than `refreshAfterMs` is served as is. Between `refreshAfterMs` and
 * `maxAgeMs` it is still served at once, and one background read per key (never more, however
 * many requests ask) replaces it when it lands. Older than `maxAgeMs` (or never read), the
 * caller waits for a read, shared with every other caller of that key. Ages count from when the
 * read that produced the value started, so a change committed in the database is seen by every
 * answer given more than `maxAgeMs` after it (as long as a read lasts less than that).
 *
 * A read that fails changes nothing: the last value keeps being served until it is `maxAgeMs`
 * old, each request past `refreshAfterMs` trying again in the background (one at a time); past
 * `maxAgeMs` callers get the error. With `refreshAfterMs` at half of `maxAgeMs` (the default),
 * a key asked for at least once per `maxAgeMs` never waits.
 *
 * `serveStale` lifts the hard age while it returns true (the database's circuit breaker is
 * open): a held value of any age is served, as no read could replace it anyway, and a read
 * that fails because the outage just began falls back to it (docs/architecture.md, "API keys
 * and tenant settings while the database is down").
 *
 * Not lru-cache's own `fetchMethod`/`allowStale`: it has one TTL (no hard age past which the
 * stale value must not be served), and deleting a key aborts its fetch, which fails whoever
 * waits on it; here a deleted key's read is simply not stored, and the next caller reads anew.
 */
import { LRUCache } from 'lru-cache';

export interface RefreshingCacheOptions<V> {
  /** Reads the current value of a key; a rejection is a failed read. */
  readonly load: (key: string) => Promise<V>;
  /** Age past which a value is no longer served: callers wait for a read. */
  readonly maxAgeMs: number;
  /** Age past which a served value is re-read in the background (default: half of maxAgeMs). */
  readonly refreshAfterMs?: number | undefined;
  /** Most keys held (least recently used ones go first). */
  readonly max: number;
  /** Milliseconds since the epoch; tests pass a clock they control. */
  readonly clock?: (() => number) | undefined;
  /** While true, held values are served past `maxAgeMs` (a database outage). */
  readonly serveStale?: (() => boolean) | undefined;
}

interface Held<V> {
  readonly value: V;
  /** When the read that produced the value started. */
  readonly readAt: number;
}

const ignore = (): undefined => undefined;

export class RefreshingCache<V extends object> {
  private readonly load: (key: string) => Promise<V>;
  private readonly maxAgeMs: number;
  private readonly refreshAfterMs: number;
  private readonly clock: () => number;
  private readonly serveStale: () => boolean;
  private readonly held: LRUCache<string, Held<V>>;
  /** The read in flight per key: at most one. */
  private readonly reads = new Map<string, Promise<V>>();

  constructor(options: RefreshingCacheOptions<V>) {
    this.load = options.load;
    this.maxAgeMs = Math.max(0, options.maxAgeMs);
    this.refreshAfterMs = Math.min(
      this.maxAgeMs,
      Math.max(0, options.refreshAfterMs ?? this.maxAgeMs / 2),
    );
    this.clock = options.clock ?? Date.now;
    this.serveStale = options.serveStale ?? (() => false);
    this.held = new LRUCache<string, Held<V>>({ max: Math.max(1, options.max) });
  }

  /** The key's value: at once while one young enough is held, else once a read lands. */
  get(key: string): Promise<V> {
    const held = this.held.get(key);
    if (held !== undefined) {
      const age = this.clock() - held.readAt;
      if (age < this.refreshAfterMs) return Promise.resolve(held.value);
      if (age <= this.maxAgeMs || this.serveStale()) {
        // Served now; the failure of a background read only shows once the value is too old.
        this.read(key).catch(ignore);
        return Promise.resolve(held.value);
      }
      return this.read(key).catch((err: unknown) => {
        if (this.serveStale()) return held.value;
        throw err;
      });
    }
    return this.read(key);
  }

  /**
   * Forgets the key's value and any read in flight (which will not be stored): the next
   * caller waits for a read that starts after this call.
   */
  delete(key: string): void {
    this.held.delete(key);
    this.reads.delete(key);
  }

  /** Resolves once every read in flight now has settled, failed ones included. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.reads.values()]);
  }

  private read(key: string): Promise<V> {
    const inFlight = this.reads.get(key);
    if (inFlight !== undefined) return inFlight;
    const startedAt = this.clock();
    const read: Promise<V> = new Promise<V>((resolve) => {
      resolve(this.load(key));
    })
      .then((value) => {
        if (this.reads.get(key) === read) this.held.set(key, { value, readAt: startedAt });
        return value;
      })
      .finally(() => {
        if (this.reads.get(key) === read) this.reads.delete(key);
      });
    this.reads.set(key, read);
    return read;
  }
}
