/**
 * The stale-while-revalidate cache on a load the test answers by hand and a clock it moves:
 * fresh values served as they are, stale ones served while one background read runs, the hard
 * age honored, failed reads, deletion during a read, and the LRU bound. No sleeps.
 */
import { RefreshingCache } from '../../../../api/services/refreshing-cache';

interface Value {
  readonly n: number;
}

/** A load whose reads stay pending until the test settles them, in order. */
function manualLoad(): {
  load: (key: string) => Promise<Value>;
  reads: () => number;
  pending: () => number;
  answer: (n: number) => Promise<void>;
  fail: (message?: string) => Promise<void>;
} {
  const waiting: { resolve: (v: Value) => void; reject: (e: Error) => void }[] = [];
  let reads = 0;
  // Lets the cache's own callbacks (store the value, clear the read) run.
  const settle = (): Promise<void> =>
    new Promise((resolve) => {
      setImmediate(resolve);
    });
  return {
    load: () => {
      reads++;
      return new Promise<Value>((resolve, reject) => waiting.push({ resolve, reject }));
    },
    reads: () => reads,
    pending: () => waiting.length,
    answer: async (n) => {
      const next = waiting.shift();
      if (next === undefined) throw new Error('no read is pending');
      next.resolve({ n });
      await settle();
    },
    fail: async (message = 'database down') => {
      const next = waiting.shift();
      if (next === undefined) throw new Error('no read is pending');
      next.reject(new Error(message));
      await settle();
    },
  };
}

function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let current = 1_000_000;
  return {
    now: () => current,
    advance: (ms) => {
      current += ms;
    },
  };
}

/** Whether the promise has settled, after letting pending callbacks run. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => {
    setImmediate(resolve);
  });
  return settled;
}

function setup(options: { maxAgeMs?: number; refreshAfterMs?: number; max?: number } = {}) {
  const loads = manualLoad();
  const clock = manualClock();
  const cache = new RefreshingCache<Value>({
    load: loads.load,
    maxAgeMs: options.maxAgeMs ?? 30_000,
    refreshAfterMs: options.refreshAfterMs,
    max: options.max ?? 100,
    clock: clock.now,
  });
  return { loads, clock, cache };
}

describe('RefreshingCache', () => {
  it('makes the first callers of a key wait for one shared read, then serves it', async () => {
    const { loads, cache } = setup();
    const first = Promise.all([cache.get('k'), cache.get('k'), cache.get('k')]);
    expect(await isSettled(first)).toBe(false);
    expect(loads.reads()).toBe(1);
    await loads.answer(1);
    expect(await first).toEqual([{ n: 1 }, { n: 1 }, { n: 1 }]);
    expect(await cache.get('k')).toEqual({ n: 1 });
    expect(loads.reads()).toBe(1);
  });

  it('re-reads nothing while a value is younger than half the max age (the default)', async () => {
    const { loads, clock, cache } = setup({ maxAgeMs: 30_000 });
    const first = cache.get('k');
    await loads.answer(1);
    await first;
    clock.advance(14_999);
    expect(await cache.get('k')).toEqual({ n: 1 });
    expect(loads.reads()).toBe(1);
  });

  it('serves a stale value at once while one background read runs, then the new value', async () => {
    const { loads, clock, cache } = setup({ maxAgeMs: 30_000, refreshAfterMs: 15_000 });
    const first = cache.get('k');
    await loads.answer(1);
    await first;
    clock.advance(15_000);
    // Many callers, all answered from the stale value, one read between them.
    const stale = await Promise.all(Array.from({ length: 50 }, () => cache.get('k')));
    expect(stale.every((v) => v.n === 1)).toBe(true);
    expect(loads.reads()).toBe(2);
    expect(loads.pending()).toBe(1);
    clock.advance(5_000);
    expect(await cache.get('k')).toEqual({ n: 1 });
    expect(loads.reads()).toBe(2);
    await loads.answer(2);
    expect(await cache.get('k')).toEqual({ n: 2 });
    expect(loads.reads()).toBe(2);
  });

  it('counts a value’s age from when its read started', async () => {
    const { loads, clock, cache } = setup({ maxAgeMs: 30_000, refreshAfterMs: 15_000 });
    const first = cache.get('k');
    clock.advance(10_000); // the read takes 10 s
    await loads.answer(1);
    await first;
    clock.advance(5_000);
    expect(await cache.get('k')).toEqual({ n: 1 });
    expect(loads.reads()).toBe(2); // 15 s since the read started: re-read
  });

  it('never serves a value past the max age: callers wait for a read', async () => {
    const { loads, clock, cache } = setup({ maxAgeMs: 30_000, refreshAfterMs: 15_000 });
    const first = cache.get('k');
    await loads.answer(1);
    await first;
    clock.advance(30_000);
    expect(await cache.get('k')).toEqual({ n: 1 }); // exactly the max age: still served
    await loads.answer(2);
    clock.advance(30_001);
    const waiting = [cache.get('k'), cache.get('k')];
    expect(await isSettled(Promise.race(waiting))).toBe(false);
    expect(loads.reads()).toBe(3);
    await loads.answer(3);
    expect(await Promise.all(waiting)).toEqual([{ n: 3 }, { n: 3 }]);
  });

  it('makes a caller past the max age wait for the background read already running', async () => {
    const { loads, clock, cache } = setup({ maxAgeMs: 30_000, refreshAfterMs: 15_000 });
    const first = cache.get('k');
    await loads.answer(1);
    await first;
    clock.advance(20_000);
    expect(await cache.get('k')).toEqual({ n: 1 });
    clock.advance(10_001);
    const waiting = cache.get('k');
    expect(await isSettled(waiting)).toBe(false);
    expect(loads.reads()).toBe(2);
    await loads.answer(2);
    expect(await waiting).toEqual({ n: 2 });
  });

  it('keeps serving the last value while reads fail, until the max age, then fails', async () => {
    const { loads, clock, cache } = setup({ maxAgeMs: 30_000, refreshAfterMs: 15_000 });
    const first = cache.get('k');
    await loads.answer(1);
    await first;
    clock.advance(15_000);
    expect(await cache.get('k')).toEqual({ n: 1 });
    await loads.fail();
    // Each later request tries again, one read at a time, and is still answered.
    clock.advance(10_000);
    expect(await Promise.all([cache.get('k'), cache.get('k')])).toEqual([{ n: 1 }, { n: 1 }]);
    expect(loads.reads()).toBe(3);
    await loads.fail();
    clock.advance(5_000);
    expect(await cache.get('k')).toEqual({ n: 1 });
    await loads.fail();
    clock.advance(1);
    const late = cache.get('k');
    await loads.fail('still down');
    await expect(late).rejects.toThrow('still down');
    // Once a read succeeds again, its value is served.
    const recovered = cache.get('k');
    await loads.answer(2);
    expect(await recovered).toEqual({ n: 2 });
  });

  it('gives a key that has never been read the error of its failed read', async () => {
    const { loads, cache } = setup();
    const first = cache.get('k');
    await loads.fail('no database');
    await expect(first).rejects.toThrow('no database');
    const second = cache.get('k');
    expect(loads.reads()).toBe(2);
    await loads.answer(7);
    expect(await second).toEqual({ n: 7 });
  });

  it('does not store a read that was in flight when the key was deleted', async () => {
    const { loads, clock, cache } = setup({ maxAgeMs: 30_000, refreshAfterMs: 15_000 });
    const first = cache.get('k');
    await loads.answer(1);
    await first;
    clock.advance(20_000);
    expect(await cache.get('k')).toEqual({ n: 1 }); // background read 2 starts
    cache.delete('k');
    // The next caller waits for a read of its own (3), not the one from before the delete.
    const after = cache.get('k');
    expect(loads.reads()).toBe(3);
    await loads.answer(2); // the read from before the delete lands: ignored
    expect(await isSettled(after)).toBe(false);
    await loads.answer(3);
    expect(await after).toEqual({ n: 3 });
    expect(await cache.get('k')).toEqual({ n: 3 });
  });

  it('keeps keys apart, each with its own read, and holds at most `max` of them', async () => {
    const { loads, cache } = setup({ max: 2 });
    const a = cache.get('a');
    const b = cache.get('b');
    expect(loads.reads()).toBe(2);
    await loads.answer(1);
    await loads.answer(2);
    expect([await a, await b]).toEqual([{ n: 1 }, { n: 2 }]);
    const c = cache.get('c');
    await loads.answer(3);
    await c;
    // 'a' was the least recently used: evicted, read again.
    const again = cache.get('a');
    expect(loads.reads()).toBe(4);
    await loads.answer(4);
    expect(await again).toEqual({ n: 4 });
  });

  it('reports when the reads in flight have settled', async () => {
    const { loads, cache } = setup();
    const first = cache.get('k');
    const settled = cache.settled();
    expect(await isSettled(settled)).toBe(false);
    await loads.fail();
    await expect(first).rejects.toThrow();
    await settled;
    await cache.settled();
  });
});

describe('RefreshingCache during a database outage (serveStale)', () => {
  function outageSetup() {
    const loads = manualLoad();
    const clock = manualClock();
    const outage = { on: false };
    const cache = new RefreshingCache<Value>({
      load: loads.load,
      maxAgeMs: 30_000,
      max: 100,
      clock: clock.now,
      serveStale: () => outage.on,
    });
    return { loads, clock, cache, outage };
  }

  it('serves a value past the max age at once while the outage lasts, reading in the background', async () => {
    const { loads, clock, cache, outage } = outageSetup();
    const first = cache.get('k');
    await loads.answer(1);
    await first;
    outage.on = true;
    clock.advance(120_000);
    expect(await cache.get('k')).toEqual({ n: 1 });
    expect(loads.pending()).toBe(1);
    await loads.fail();
    expect(await cache.get('k')).toEqual({ n: 1 });
    // Once the outage is over, the hard age holds again: the caller waits for a read.
    await loads.fail();
    outage.on = false;
    const after = cache.get('k');
    expect(await isSettled(after)).toBe(false);
    await loads.answer(2);
    expect(await after).toEqual({ n: 2 });
  });

  it('falls back to the held value when the read that waited fails as the outage begins', async () => {
    const { loads, clock, cache, outage } = outageSetup();
    const first = cache.get('k');
    await loads.answer(1);
    await first;
    clock.advance(31_000);
    const waiting = cache.get('k');
    expect(await isSettled(waiting)).toBe(false);
    outage.on = true; // the failure that opens the breaker
    await loads.fail();
    expect(await waiting).toEqual({ n: 1 });
  });

  it('still fails a key never read, and a too-old key when no outage is declared', async () => {
    const { loads, clock, cache } = outageSetup();
    const never = expect(cache.get('other')).rejects.toThrow('database down');
    await loads.fail();
    await never;
    const first = cache.get('k');
    await loads.answer(1);
    await first;
    clock.advance(31_000);
    const old = expect(cache.get('k')).rejects.toThrow('database down');
    await loads.fail();
    await old;
  });
});
