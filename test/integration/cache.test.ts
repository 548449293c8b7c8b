/**
 * The cache/pub-sub port, checked against both adapters with the same cases: Redis (the
 * real server, a key prefix of its own per test) and the in-process store.
 */
import { MemoryCache } from '../../api/services/cache/memory';
import { RedisCache } from '../../api/services/cache/redis';
import type { CacheStore } from '../../api/services/cache/types';
import { redisUrl, silentLogger, uniqueName } from './helpers/services';

/**
 * Subscribes to `channel`; once this resolves the subscription is in place, and `message`
 * resolves with the next message delivered there.
 */
async function listenOnce(
  store: CacheStore,
  channel: string,
): Promise<{ message: Promise<string> }> {
  let deliver: (message: string) => void = () => undefined;
  const message = new Promise<string>((resolve) => {
    deliver = resolve;
  });
  const unsubscribe = await store.subscribe(channel, (m) => {
    deliver(m);
  });
  return { message: message.finally(unsubscribe) };
}

function describeCacheStore(label: string, open: () => Promise<CacheStore>): void {
  describe(label, () => {
    let store: CacheStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    it('stores, reads and deletes values', async () => {
      expect(await store.get('missing')).toBeUndefined();
      await store.set('k', 'v1');
      expect(await store.get('k')).toBe('v1');
      await store.set('k', 'v2');
      expect(await store.get('k')).toBe('v2');
      await store.delete('k');
      expect(await store.get('k')).toBeUndefined();
    });

    it('gives values a time to live only when asked', async () => {
      await store.set('forever', 'x');
      expect(await store.remainingTtl('forever')).toBeUndefined();
      await store.set('brief', 'x', 60_000);
      const remaining = await store.remainingTtl('brief');
      expect(remaining).toBeGreaterThan(0);
      expect(remaining).toBeLessThanOrEqual(60_000);
      expect(await store.remainingTtl('missing')).toBeUndefined();
    });

    it('counts in a window that starts with the first increment', async () => {
      expect(await store.increment('hits', 30_000)).toBe(1);
      expect(await store.increment('hits', 30_000)).toBe(2);
      expect(await store.increment('hits', 30_000)).toBe(3);
      expect(await store.get('hits')).toBe('3');
      const remaining = await store.remainingTtl('hits');
      expect(remaining).toBeGreaterThan(0);
      expect(remaining).toBeLessThanOrEqual(30_000);
    });

    it('delivers a published message to every subscriber of the channel', async () => {
      const received: string[] = [];
      await Promise.all([
        store.subscribe('rollouts', (m) => received.push(`one:${m}`)),
        store.subscribe('rollouts', (m) => received.push(`two:${m}`)),
        store.subscribe('elsewhere', (m) => received.push(`wrong:${m}`)),
      ]);
      const last = await listenOnce(store, 'rollouts');
      await store.publish('rollouts', 'v2 active');
      expect(await last.message).toBe('v2 active');
      // Listeners of a channel are called in subscription order, so both ran already.
      expect(received).toEqual(['one:v2 active', 'two:v2 active']);
    });

    it('stops delivering to a listener once it unsubscribes', async () => {
      const first: string[] = [];
      const unsubscribeFirst = await store.subscribe('c', (m) => first.push(m));
      const second = await listenOnce(store, 'c');
      await unsubscribeFirst();
      await store.publish('c', 'after');
      expect(await second.message).toBe('after');
      expect(first).toEqual([]);
    });

    it('answers ping while open and refuses once closed', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
      await store.close();
      await expect(store.ping()).rejects.toThrow();
    });
  });
}

describeCacheStore('in-process cache', () =>
  Promise.resolve(new MemoryCache({ logger: silentLogger })),
);

describeCacheStore('Redis cache', () =>
  RedisCache.connect({ url: redisUrl, keyPrefix: `${uniqueName('cache')}:`, logger: silentLogger }),
);

describe('Redis cache shared between instances', () => {
  const prefix = `${uniqueName('shared')}:`;
  let a: RedisCache;
  let b: RedisCache;
  let stranger: RedisCache;
  beforeAll(async () => {
    [a, b, stranger] = await Promise.all([
      RedisCache.connect({ url: redisUrl, keyPrefix: prefix, logger: silentLogger }),
      RedisCache.connect({ url: redisUrl, keyPrefix: prefix, logger: silentLogger }),
      RedisCache.connect({
        url: redisUrl,
        keyPrefix: `${uniqueName('other')}:`,
        logger: silentLogger,
      }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close(), stranger.close()]);
  });

  it('shares keys under the same prefix and hides them from another prefix', async () => {
    await a.set('decision', 'allow');
    expect(await b.get('decision')).toBe('allow');
    expect(await stranger.get('decision')).toBeUndefined();
  });

  it('delivers pub/sub messages across instances, within the prefix only', async () => {
    const strangerMessages: string[] = [];
    await stranger.subscribe('activate', (m) => strangerMessages.push(m));
    const onB = await listenOnce(b, 'activate');
    await a.publish('activate', 'tenant-1@r42');
    expect(await onB.message).toBe('tenant-1@r42');
    // Had the stranger received a's message, it would arrive before this marker.
    const marker = await listenOnce(stranger, 'activate');
    await stranger.publish('activate', 'marker');
    expect(await marker.message).toBe('marker');
    expect(strangerMessages).toEqual(['marker']);
  });
});
