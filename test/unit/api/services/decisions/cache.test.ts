/**
 * The decision cache: the bypass rule (`cachePlan`), canonical input JSON, keys, L1, and L2
 * over a store that behaves like Redis (kind `redis`), including a store that fails.
 */
import { createLogger } from '../../../../../api/logger';
import type { CacheStore } from '../../../../../api/services/cache';
import { MemoryCache } from '../../../../../api/services/cache/memory';
import {
  DecisionCache,
  cachePlan,
  canonicalInputJson,
  type CostStats,
} from '../../../../../api/services/decisions';
import {
  autoReprobeEvery,
  autoWarmupSamples,
  emptyCostStats,
  movingAverage,
} from '../../../../../api/services/decisions/cache';

const logger = createLogger({ level: 'silent' });

function stats(overrides: Partial<CostStats>): CostStats {
  return { ...emptyCostStats(), decisions: 1, ...overrides };
}

const noL2 = { available: false, roundTripNs: undefined };

describe('cachePlan', () => {
  it('off never caches, on always does (L2 when there is one)', () => {
    const cheap = stats({ evalNs: 10, evalSamples: 100, lookupNs: 1000, lookupSamples: 100 });
    expect(cachePlan('off', cheap, { available: true, roundTripNs: 1 })).toEqual({
      l1: false,
      l2: false,
    });
    expect(cachePlan('on', cheap, { available: true, roundTripNs: 1e9 })).toEqual({
      l1: true,
      l2: true,
    });
    expect(cachePlan('on', cheap, noL2)).toEqual({ l1: true, l2: false });
  });

  it('auto caches while warming up, then only when evaluating costs more than a lookup', () => {
    const warming = stats({
      evalNs: 10,
      evalSamples: autoWarmupSamples - 1,
      lookupNs: 1000,
      lookupSamples: 5,
    });
    expect(cachePlan('auto', warming, noL2).l1).toBe(true);
    const cheap = stats({ evalNs: 500, evalSamples: 100, lookupNs: 1000, lookupSamples: 100 });
    expect(cachePlan('auto', cheap, noL2).l1).toBe(false);
    const dear = stats({ evalNs: 5000, evalSamples: 100, lookupNs: 1000, lookupSamples: 100 });
    expect(cachePlan('auto', dear, noL2).l1).toBe(true);
  });

  it('auto re-probes a bypassing bundle every so often', () => {
    const cheap = stats({ evalNs: 500, evalSamples: 100, lookupNs: 1000, lookupSamples: 100 });
    cheap.decisions = autoReprobeEvery * 3;
    expect(cachePlan('auto', cheap, noL2).l1).toBe(true);
  });

  it('auto uses L2 only while evaluating costs more than a round trip', () => {
    const dear = stats({ evalNs: 50_000, evalSamples: 100, lookupNs: 1000, lookupSamples: 100 });
    expect(cachePlan('auto', dear, { available: true, roundTripNs: 100_000 })).toEqual({
      l1: true,
      l2: false,
    });
    expect(cachePlan('auto', dear, { available: true, roundTripNs: 20_000 })).toEqual({
      l1: true,
      l2: true,
    });
    expect(cachePlan('auto', dear, { available: true, roundTripNs: undefined })).toEqual({
      l1: true,
      l2: true,
    });
  });

  it('auto re-probes L2 too, so one slow round trip cannot keep it off for good', () => {
    const dear = stats({ evalNs: 50_000, evalSamples: 100, lookupNs: 1000, lookupSamples: 100 });
    dear.decisions = autoReprobeEvery * 5 + 1;
    const slowRedis = { available: true, roundTripNs: 100_000 };
    expect(cachePlan('auto', dear, slowRedis).l2).toBe(false);
    dear.decisions = autoReprobeEvery * 5;
    expect(cachePlan('auto', dear, slowRedis)).toEqual({ l1: true, l2: true });
    expect(cachePlan('auto', dear, noL2)).toEqual({ l1: true, l2: false });
  });

  it('averages with the first sample taken as is', () => {
    expect(movingAverage(0, 0, 100)).toBe(100);
    expect(movingAverage(100, 1, 200)).toBeCloseTo(110);
  });
});

describe('canonicalInputJson', () => {
  it('sorts keys at every depth and writes no white space', () => {
    expect(canonicalInputJson({ b: [{ z: 1, a: null }], a: 'x' })).toBe(
      '{"a":"x","b":[{"a":null,"z":1}]}',
    );
    expect(canonicalInputJson([undefined, 1])).toBe('[null,1]');
    expect(canonicalInputJson({ gone: undefined, kept: true })).toBe('{"kept":true}');
    expect(canonicalInputJson(undefined)).toBe('null');
    expect(canonicalInputJson('s')).toBe('"s"');
  });
});

/** A store that says it is Redis, over an in-process map, optionally failing. */
function fakeRedis(fail: { get?: boolean; set?: boolean } = {}): CacheStore & { sets: number } {
  const memory = new MemoryCache({ logger });
  const store: CacheStore & { sets: number } = {
    kind: 'redis',
    sets: 0,
    get: (key) => (fail.get ? Promise.reject(new Error('down')) : memory.get(key)),
    set: (key, value, ttl) => {
      store.sets++;
      return fail.set ? Promise.reject(new Error('down')) : memory.set(key, value, ttl);
    },
    delete: (key) => memory.delete(key),
    remainingTtl: (key) => memory.remainingTtl(key),
    increment: (key, windowMs) => memory.increment(key, windowMs),
    publish: (channel, message) => memory.publish(channel, message),
    subscribe: (channel, listener) => memory.subscribe(channel, listener),
    ping: () => memory.ping(),
    close: () => memory.close(),
  };
  return store;
}

describe('DecisionCache', () => {
  it('keys by tenant, revision, path and the input hash; no input has its own key', () => {
    const cache = new DecisionCache({ logger });
    const a = cache.key('t', 'r1', 'p/q', '{"a":1}');
    expect(a).toMatch(/^t:r1:p\/q:[0-9a-f]{64}$/);
    expect(cache.key('t', 'r2', 'p/q', '{"a":1}')).not.toBe(a);
    expect(cache.key('t', 'r1', 'p/q', undefined)).toBe('t:r1:p/q:-');
  });

  it('hits L1 after a put, counts hits, misses and bypasses', () => {
    const cache = new DecisionCache({ logger, maxEntries: 10 });
    expect(cache.hasL2).toBe(false);
    expect(cache.getL1('k')).toBeUndefined();
    cache.miss();
    cache.put('k', { defined: true, result: false }, true);
    expect(cache.getL1('k')).toEqual({ defined: true, result: false });
    const costs = cache.costs('t', 'r');
    expect(cache.costs('t', 'r')).toBe(costs);
    cache.plan('off', costs);
    cache.recordEval(costs, 100);
    cache.recordLookup(costs, 50);
    expect(costs).toMatchObject({
      evalNs: 100,
      evalSamples: 1,
      lookupNs: 50,
      lookupSamples: 1,
      decisions: 1,
    });
    expect(cache.counters).toEqual({
      l1Hits: 1,
      l2Hits: 0,
      l2Lookups: 0,
      misses: 1,
      bypasses: 1,
      l2Errors: 0,
      entries: 1,
    });
    cache.clear();
    expect(cache.counters.entries).toBe(0);
  });

  it('shares answers through L2, undefined ones included, and promotes them to L1', async () => {
    const store = fakeRedis();
    const writer = new DecisionCache({ logger, store });
    const reader = new DecisionCache({ logger, store });
    expect(writer.hasL2).toBe(true);
    writer.put('yes', { defined: true, result: { allow: true } }, true);
    writer.put('undef', { defined: false }, true);
    writer.put('local', { defined: true, result: 1 }, false);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await reader.getL2('yes')).toEqual({ defined: true, result: { allow: true } });
    expect(await reader.getL2('undef')).toEqual({ defined: false });
    expect(await reader.getL2('local')).toBeUndefined();
    expect(reader.getL1('yes')).toEqual({ defined: true, result: { allow: true } });
    expect(reader.counters.l2Hits).toBe(2);
    expect(reader.l2RoundTripNs).toBeGreaterThan(0);
    expect(store.sets).toBe(2);
    // A value that is not an answer is a miss.
    await store.set('decision:junk', '[1]');
    await store.set('decision:broken', '{');
    expect(await reader.getL2('junk')).toBeUndefined();
    expect(await reader.getL2('broken')).toBeUndefined();
    // Every read of L2 counts as a look-up, hit or not.
    expect(reader.counters.l2Lookups).toBe(5);
  });

  it('treats an L2 that fails as a miss and counts the failures', async () => {
    const cache = new DecisionCache({ logger, store: fakeRedis({ get: true, set: true }) });
    expect(await cache.getL2('k')).toBeUndefined();
    cache.put('k', { defined: true, result: 1 }, true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(cache.counters.l2Errors).toBe(2);
    expect(cache.counters.l2Lookups).toBe(1);
    expect(cache.l2RoundTripNs).toBeUndefined();
  });

  it('uses an in-process store as no L2 at all', async () => {
    const cache = new DecisionCache({ logger, store: new MemoryCache({ logger }) });
    expect(cache.hasL2).toBe(false);
    expect(await cache.getL2('k')).toBeUndefined();
  });
});
