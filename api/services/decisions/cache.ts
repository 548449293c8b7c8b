/**
 * The decision cache: L1, an in-process LRU, and L2, Redis shared by every instance (when
 * Redis is configured). The key is tenant + bundle revision + path + SHA-256 of the input's
 * canonical JSON (keys sorted at every depth), so a new revision never serves an old answer
 * and `{"a":1,"b":2}` and `{"b":2,"a":1}` share an entry.
 *
 * Each bundle says whether to cache (`cache` in its manifest): `off` never, `on` always, and
 * `auto` (the default) by measurement — caching must never make the hot path slower, so a
 * bundle whose evaluation is cheaper than a lookup skips the cache. The rule is `cachePlan`.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { messageOf } from '../../errors';
import type { Logger } from '../../logger';
import type { CacheStore } from '../cache';
import type { CacheMode } from './engine-pool';

/** A cached answer: `defined` false is OPA's undefined (no `result` key). */
export interface CachedAnswer {
  readonly defined: boolean;
  readonly result?: unknown;
}

/** Running costs of one (tenant, revision), in nanoseconds (exponential moving averages). */
export interface CostStats {
  evalNs: number;
  evalSamples: number;
  /** Canonical JSON + SHA-256 + L1 lookup. */
  lookupNs: number;
  lookupSamples: number;
  /** Decisions asked of this revision (drives the periodic re-probe). */
  decisions: number;
}

export interface CachePlan {
  readonly l1: boolean;
  readonly l2: boolean;
}

/** Evaluations measured before `auto` trusts its averages. */
export const autoWarmupSamples = 16;
/** While bypassing, every this-many-th decision takes the cached path, to measure again. */
export const autoReprobeEvery = 64;
/** Weight of the newest sample in each moving average. */
const smoothing = 0.1;

export function emptyCostStats(): CostStats {
  return { evalNs: 0, evalSamples: 0, lookupNs: 0, lookupSamples: 0, decisions: 0 };
}

/** Adds a sample to a moving average (the first sample is taken as is). */
export function movingAverage(average: number, samples: number, value: number): number {
  return samples === 0 ? value : average + smoothing * (value - average);
}

/**
 * Whether this decision uses L1 and L2.
 *
 * - `off`: neither. `on`: L1, and L2 when there is one.
 * - `auto`: until `autoWarmupSamples` evaluations are measured, like `on`. Then L1 is used
 *   while the average evaluation costs more than the average lookup (canonical JSON, hash and
 *   L1 get): a hit then saves more than every lookup costs. L2 (a network round trip) is used
 *   only while evaluation also costs more than the average L2 round trip (`l2Ns`, unknown
 *   until measured). A bundle that bypasses either still takes the cached path (L1, then L2
 *   on a miss) once every `autoReprobeEvery` decisions, so the averages follow a policy,
 *   load or Redis that changes.
 */
export function cachePlan(
  mode: CacheMode,
  stats: Readonly<CostStats>,
  l2: { available: boolean; roundTripNs: number | undefined },
): CachePlan {
  if (mode === 'off') return { l1: false, l2: false };
  if (mode === 'on') return { l1: true, l2: l2.available };
  const warming = stats.evalSamples < autoWarmupSamples || stats.lookupSamples === 0;
  const reprobe = stats.decisions % autoReprobeEvery === 0;
  const l1 = warming || reprobe || stats.evalNs > stats.lookupNs;
  // The re-probe reads L2 too (on an L1 miss): without it, one slow round trip could lift
  // the L2 average above the evaluation time and keep L2 off for good, as nothing else would
  // time a round trip again.
  const l2Pays =
    l2.roundTripNs === undefined || warming || reprobe || stats.evalNs > l2.roundTripNs;
  return { l1, l2: l1 && l2.available && l2Pays };
}

/** The input's canonical JSON: object keys sorted at every depth, no white space. */
export function canonicalInputJson(value: unknown): string {
  // undefined has no JSON text; as an array element JSON.stringify writes null for it too.
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    return `[${value.map((item: unknown) => canonicalInputJson(item)).join(',')}]`;
  }
  const record = value as Record<string, unknown>;
  const members: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const item = record[key];
    if (item !== undefined) members.push(`${JSON.stringify(key)}:${canonicalInputJson(item)}`);
  }
  return `{${members.join(',')}}`;
}

export interface DecisionCacheOptions {
  /** Most L1 entries (default 100000). */
  maxEntries?: number;
  /** How long an entry lives in L1 and L2 (default 5 minutes). */
  ttlMs?: number;
  /** The shared store; used as L2 only when it is Redis. */
  store?: CacheStore;
  logger: Logger;
  /** Most (tenant, revision) cost records kept (default 10000). */
  maxStats?: number;
}

export interface DecisionCacheCounters {
  l1Hits: number;
  l2Hits: number;
  /** Reads of L2 (Redis), failed ones included. */
  l2Lookups: number;
  misses: number;
  bypasses: number;
  l2Errors: number;
  entries: number;
}

const l2KeySpace = 'decision:';

export class DecisionCache {
  private readonly l1: LRUCache<string, CachedAnswer>;
  private readonly l2: CacheStore | undefined;
  private readonly ttlMs: number;
  private readonly logger: Logger;
  private readonly stats: LRUCache<string, CostStats>;
  private l2RoundTrip: { ns: number; samples: number } = { ns: 0, samples: 0 };
  private readonly count = {
    l1Hits: 0,
    l2Hits: 0,
    l2Lookups: 0,
    misses: 0,
    bypasses: 0,
    l2Errors: 0,
  };

  constructor(options: DecisionCacheOptions) {
    this.ttlMs = Math.max(1, options.ttlMs ?? 300_000);
    this.l1 = new LRUCache<string, CachedAnswer>({
      max: Math.max(1, options.maxEntries ?? 100_000),
      ttl: this.ttlMs,
    });
    this.l2 = options.store?.kind === 'redis' ? options.store : undefined;
    this.logger = options.logger;
    this.stats = new LRUCache<string, CostStats>({ max: Math.max(1, options.maxStats ?? 10_000) });
  }

  get counters(): DecisionCacheCounters {
    return { ...this.count, entries: this.l1.size };
  }

  /** The average L2 round trip, once one was measured. */
  get l2RoundTripNs(): number | undefined {
    return this.l2RoundTrip.samples === 0 ? undefined : this.l2RoundTrip.ns;
  }

  get hasL2(): boolean {
    return this.l2 !== undefined;
  }

  /** The cost record of a (tenant, revision), made on first use. */
  costs(tenantId: string, revision: string): CostStats {
    const id = `${tenantId}\n${revision}`;
    let stats = this.stats.get(id);
    if (stats === undefined) {
      stats = emptyCostStats();
      this.stats.set(id, stats);
    }
    return stats;
  }

  /** Counts the decision and says which levels it uses. */
  plan(mode: CacheMode, stats: CostStats): CachePlan {
    const plan = cachePlan(mode, stats, {
      // While Redis's breaker is open, L2 is skipped, not counted as lookups and errors.
      available: this.l2 !== undefined && (this.l2.breaker?.allowsCall ?? true),
      roundTripNs: this.l2RoundTripNs,
    });
    stats.decisions++;
    if (!plan.l1) this.count.bypasses++;
    return plan;
  }

  recordEval(stats: CostStats, ns: number): void {
    stats.evalNs = movingAverage(stats.evalNs, stats.evalSamples, ns);
    stats.evalSamples++;
  }

  recordLookup(stats: CostStats, ns: number): void {
    stats.lookupNs = movingAverage(stats.lookupNs, stats.lookupSamples, ns);
    stats.lookupSamples++;
  }

  /** `tenant:revision:path:sha256(canonical input)`; `-` stands for no input at all. */
  key(
    tenantId: string,
    revision: string,
    path: string,
    canonicalInput: string | undefined,
  ): string {
    const digest =
      canonicalInput === undefined
        ? '-'
        : createHash('sha256').update(canonicalInput).digest('hex');
    return `${tenantId}:${revision}:${path}:${digest}`;
  }

  getL1(key: string): CachedAnswer | undefined {
    const answer = this.l1.get(key);
    if (answer !== undefined) this.count.l1Hits++;
    return answer;
  }

  /** Reads L2; a Redis failure is a miss (logged), never a failed decision. */
  async getL2(key: string): Promise<CachedAnswer | undefined> {
    if (this.l2 === undefined) return undefined;
    this.count.l2Lookups++;
    const started = process.hrtime.bigint();
    let text: string | undefined;
    try {
      text = await this.l2.get(l2KeySpace + key);
    } catch (err) {
      this.l2Failed(err);
      return undefined;
    }
    const ns = Number(process.hrtime.bigint() - started);
    this.l2RoundTrip = {
      ns: movingAverage(this.l2RoundTrip.ns, this.l2RoundTrip.samples, ns),
      samples: this.l2RoundTrip.samples + 1,
    };
    const answer = text === undefined ? undefined : parseAnswer(text);
    if (answer === undefined) return undefined;
    this.count.l2Hits++;
    // Promote, so the next lookup on this instance stays in process.
    this.l1.set(key, answer);
    return answer;
  }

  miss(): void {
    this.count.misses++;
  }

  /** Stores the answer in L1, and in L2 (in the background) when `l2` is set. */
  put(key: string, answer: CachedAnswer, l2: boolean): void {
    this.l1.set(key, answer);
    if (l2 && this.l2 !== undefined) {
      const text = JSON.stringify(answer.defined ? { result: answer.result } : {});
      this.l2.set(l2KeySpace + key, text, this.ttlMs).catch((err: unknown) => {
        this.l2Failed(err);
      });
    }
  }

  clear(): void {
    this.l1.clear();
  }

  private l2Failed(err: unknown): void {
    this.count.l2Errors++;
    // One line per hundred failures is enough while Redis is away.
    if (this.count.l2Errors % 100 === 1) {
      this.logger.warn(
        { err: messageOf(err), failures: this.count.l2Errors },
        'decision cache L2 unavailable',
      );
    }
  }
}

function parseAnswer(text: string): CachedAnswer | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    return Object.hasOwn(value, 'result')
      ? { defined: true, result: (value as { result: unknown }).result }
      : { defined: false };
  } catch {
    return undefined;
  }
}
