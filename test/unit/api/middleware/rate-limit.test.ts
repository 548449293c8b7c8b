/**
 * RateLimits on both stores: in-process, and the real Redis (with a fresh key prefix), plus
 * what happens when Redis cannot answer: a Redis that refuses connections, and one that
 * accepts them but never replies (a hung server on loopback). `allow` limiters let requests
 * through uncounted, `local` ones count in-process instead.
 */
import net from 'node:net';
import express from 'express';
import { Redis } from 'ioredis';
import request from 'supertest';
import { problemHandler } from '../../../../api/middleware/problem';
import { RateLimits, type RateLimitStore } from '../../../../api/middleware/rate-limit';
import { CircuitBreaker } from '../../../../api/services/breaker';
import {
  capturingLogger,
  redisUrl,
  silentLogger,
  uniqueName,
} from '../../../integration/helpers/services';

function appWith(limits: RateLimits, points: number, onStoreFailure?: 'allow' | 'local') {
  const app = express();
  app.use(
    limits.rateLimit('test', {
      rule: { points, durationSeconds: 2 },
      key: (req) => (typeof req.query.key === 'string' ? req.query.key : undefined),
      ...(onStoreFailure === undefined ? {} : { onStoreFailure }),
    }),
  );
  app.get('/', (_req, res) => res.json({ ok: true }));
  app.use(problemHandler(silentLogger));
  return app;
}

/** A Redis client that fails fast, as the service's own is configured. */
function redisClient(url: string, prefix: string): Redis {
  return new Redis(url, {
    keyPrefix: prefix,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 1000,
    // ioredis arms this timer even for a socket that never connected.
    disconnectTimeout: 100,
    retryStrategy: () => null,
  });
}

describe.each<[string, () => Promise<{ store: RateLimitStore; close: () => Promise<void> }>]>([
  [
    'in-process',
    () => Promise.resolve({ store: { kind: 'memory' }, close: () => Promise.resolve() }),
  ],
  [
    'in Redis',
    async () => {
      const client = redisClient(redisUrl, `${uniqueName('rl')}:`);
      await client.connect();
      return {
        store: { kind: 'redis', client },
        close: async () => {
          await client.quit();
        },
      };
    },
  ],
])('rate limits %s', (_name, open) => {
  let store: RateLimitStore;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ store, close } = await open());
  });
  afterAll(async () => {
    await close();
  });

  it('counts per key, announces the limit, and refuses with 429 past it', async () => {
    const limits = new RateLimits({ store, logger: silentLogger });
    expect(limits.storeKind).toBe(store.kind);
    const app = appWith(limits, 2);
    const first = await request(app).get('/?key=a').expect(200);
    expect(first.headers['ratelimit-limit']).toBe('2');
    expect(first.headers['ratelimit-remaining']).toBe('1');
    expect(first.headers['ratelimit-policy']).toBe('2;w=2');
    expect(Number(first.headers['ratelimit-reset'])).toBeLessThanOrEqual(2);
    await request(app).get('/?key=a').expect(200);
    const refused = await request(app).get('/?key=a').expect(429);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.headers['ratelimit-remaining']).toBe('0');
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(2);
    expect(refused.body).toMatchObject({
      code: 'too_many_requests',
      status: 429,
      limit: 'test',
      retryAfterSeconds: retryAfter,
    });
    // Another key has its own allowance; no key, no limit.
    await request(app).get('/?key=b').expect(200);
    const unlimited = await request(app).get('/').expect(200);
    expect(unlimited.headers['ratelimit-limit']).toBeUndefined();
  });

  it('applies several limits at once and announces the tightest', async () => {
    const limits = new RateLimits({ store, logger: silentLogger });
    const wide = limits.counter('wide', { points: 10, durationSeconds: 2 });
    const narrow = limits.counter('narrow', { points: 1, durationSeconds: 2 });
    const app = express();
    app.use(
      limits.all([
        { name: 'wide', count: wide, key: () => 'k' },
        { name: 'narrow', count: narrow, key: () => 'k' },
        { name: 'skipped', count: narrow, key: () => undefined },
      ]),
    );
    app.get('/', (_req, res) => res.json({}));
    app.use(problemHandler(silentLogger));
    const ok = await request(app).get('/').expect(200);
    expect(ok.headers['ratelimit-limit']).toBe('1');
    expect(ok.headers['ratelimit-remaining']).toBe('0');
    const refused = await request(app).get('/').expect(429);
    expect(refused.body).toMatchObject({ limit: 'narrow' });
  });
});

describe('when Redis cannot answer', () => {
  it('lets `allow` requests through uncounted, once logged, when Redis is unreachable', async () => {
    // A port nothing listens on: the client never becomes ready.
    const client = redisClient('redis://127.0.0.1:1', 'x:');
    await client.connect().catch(() => undefined);
    const { logger, lines } = capturingLogger();
    const app = appWith(new RateLimits({ store: { kind: 'redis', client }, logger }), 1);
    for (let i = 0; i < 3; i += 1) {
      const res = await request(app).get('/?key=a').expect(200);
      expect(res.headers['ratelimit-limit']).toBeUndefined();
    }
    // Reported once per interval, not per request.
    expect(lines().filter((line) => line.limit === 'test')).toEqual([
      expect.objectContaining({
        level: 40,
        msg: 'rate limit store failed: requests pass uncounted meanwhile',
      }),
    ]);
    client.disconnect();
  });

  it('counts `local` requests in-process when Redis is unreachable', async () => {
    const client = redisClient('redis://127.0.0.1:1', 'x:');
    await client.connect().catch(() => undefined);
    const app = appWith(
      new RateLimits({ store: { kind: 'redis', client }, logger: silentLogger }),
      2,
      'local',
    );
    await request(app).get('/?key=a').expect(200);
    await request(app).get('/?key=a').expect(200);
    await request(app).get('/?key=a').expect(429);
    client.disconnect();
  });

  const helloReply = [
    '%7',
    '+server',
    '+redis',
    '+version',
    '+7.0.0',
    '+proto',
    ':3',
    '+id',
    ':1',
    '+mode',
    '+standalone',
    '+role',
    '+master',
    '+modules',
    '*0',
    '',
  ].join('\r\n');

  it('gives up on a Redis that never replies after the store timeout', async () => {
    // Completes the client's handshake (HELLO answered as Redis 7 does, CLIENT SETINFO
    // accepted), then answers no command at all.
    const sockets: net.Socket[] = [];
    const hung = net.createServer((socket) => {
      sockets.push(socket);
      socket.on('data', (data: Buffer) => {
        for (const command of data
          .toString('latin1')
          .split(/\*\d+\r\n/)
          .slice(1)) {
          if (/^\$5\r\nhello\r\n/i.test(command)) socket.write(helloReply);
          else if (/^\$6\r\nclient\r\n/i.test(command)) socket.write('+OK\r\n');
        }
      });
    });
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    const { port } = hung.address() as net.AddressInfo;
    const client = new Redis(port, '127.0.0.1', {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
      lazyConnect: true,
      // No ready check: the hung server never answers INFO.
      enableReadyCheck: false,
    });
    await client.connect();
    const limits = new RateLimits({
      store: { kind: 'redis', client },
      logger: silentLogger,
      storeTimeoutMs: 100,
    });
    const allowApp = appWith(limits, 1);
    const started = Date.now();
    await request(allowApp).get('/?key=a').expect(200);
    await request(allowApp).get('/?key=a').expect(200);
    expect(Date.now() - started).toBeLessThan(2000);
    const localApp = appWith(limits, 1, 'local');
    await request(localApp).get('/?key=b').expect(200);
    await request(localApp).get('/?key=b').expect(429);
    client.disconnect();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => {
      hung.close(() => {
        resolve();
      });
    });
  });
});

describe('rate limits behind the Redis circuit breaker', () => {
  it('skips Redis while the breaker is open, and does not count a refusal as a failure', async () => {
    const client = redisClient(redisUrl, `${uniqueName('rl')}:`);
    await client.connect();
    const breaker = new CircuitBreaker({ name: 'redis', failureThreshold: 1, openMs: 60_000 });
    const limits = new RateLimits({
      store: { kind: 'redis', client, breaker },
      logger: silentLogger,
    });
    try {
      const app = appWith(limits, 1);
      await request(app).get('/?key=a').expect(200);
      await request(app).get('/?key=a').expect(429);
      expect(breaker.state).toBe('closed');
      expect(await client.exists('rl:test:a')).toBe(1); // counted in Redis

      // Redis fails once: the breaker opens, and from then on no count reaches Redis.
      await expect(breaker.run(() => Promise.reject(new Error('down')))).rejects.toThrow();
      expect(breaker.state).toBe('open');
      const allowApp = appWith(limits, 1);
      for (let i = 0; i < 3; i += 1) await request(allowApp).get('/?key=b').expect(200);
      const localApp = appWith(limits, 1, 'local');
      await request(localApp).get('/?key=c').expect(200);
      await request(localApp).get('/?key=c').expect(429);
      // Nothing counted while the breaker is open reached Redis.
      expect(await client.exists('rl:test:b')).toBe(0);
      expect(await client.exists('rl:test:c')).toBe(0);
    } finally {
      await client.quit();
    }
  });
});
