import { MemoryCache } from '../../../../../api/services/cache/memory';
import { createLogger } from '../../../../../api/logger';

const logger = createLogger({ level: 'silent' });

describe('MemoryCache', () => {
  it('evicts the least recently used entry beyond its capacity', async () => {
    const cache = new MemoryCache({ logger, maxEntries: 2 });
    await cache.set('a', '1');
    await cache.set('b', '2');
    await cache.get('a');
    await cache.set('c', '3');
    expect(await cache.get('a')).toBe('1');
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('c')).toBe('3');
  });

  it('delivers messages on a later tick, never inside publish', async () => {
    const cache = new MemoryCache({ logger });
    const received: string[] = [];
    const delivered = new Promise<void>((resolve) => {
      void cache.subscribe('ch', (m) => {
        received.push(m);
        resolve();
      });
    });
    await cache.publish('ch', 'hello');
    expect(received).toEqual([]);
    await delivered;
    expect(received).toEqual(['hello']);
  });

  it('keeps delivering to other listeners when one throws', async () => {
    const cache = new MemoryCache({ logger });
    await cache.subscribe('ch', () => {
      throw new Error('listener bug');
    });
    const delivered = new Promise<string>((resolve) => {
      void cache.subscribe('ch', resolve);
    });
    await cache.publish('ch', 'still here');
    expect(await delivered).toBe('still here');
  });

  it('drops entries and subscriptions when closed', async () => {
    const cache = new MemoryCache({ logger });
    await cache.set('k', 'v');
    await cache.close();
    expect(await cache.get('k')).toBeUndefined();
  });
});
