/**
 * The HTTP service end to end on each storage mode: it starts (running migrations), reports
 * ready, reports 503 with the reason once its database is gone, and shuts down gracefully.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import request from 'supertest';
import { migrationStatus } from '../../api/db/migrator';
import { VerdictError } from '../../api/errors';
import { start, type RunningServer } from '../../api/server';
import {
  capturingLogger,
  createTestDatabase,
  redisUrl,
  silentLogger,
  tempDir,
  testConfig,
  uniqueName,
  type TestDatabase,
} from './helpers/services';

// Creating an embedded database takes several seconds, more on a busy machine.
jest.setTimeout(120_000);

interface ReadyBody {
  status: string;
  code?: string;
  detail?: string;
  checks: Record<string, { status: string; reason?: string }>;
}

describe('server on the real Postgres and Redis', () => {
  let database: TestDatabase;
  let server: RunningServer;

  beforeAll(async () => {
    database = await createTestDatabase('server');
    server = await start({
      config: testConfig({
        DATABASE_URL: database.url,
        REDIS_URL: redisUrl,
        VERDICT_REDIS_PREFIX: `${uniqueName('server')}:`,
      }),
      logger: silentLogger,
    });
  });
  afterAll(async () => {
    await server.stop();
    await database.drop();
  });

  it('ran the migrations on start', async () => {
    expect(server.db.mode).toBe('external');
    expect((await migrationStatus(server.db)).every((m) => m.applied)).toBe(true);
  });

  it('is live and ready, with the database and Redis checked', async () => {
    await request(server.url).get('/health/live').expect(200, { status: 'live' });
    const ready = await request(server.url).get('/health/ready').expect(200);
    expect(ready.body).toEqual({
      status: 'ready',
      checks: {
        database: { status: 'ok', breaker: 'closed' },
        redis: { status: 'ok', breaker: 'closed' },
      },
    });
    expect(server.cache.kind).toBe('redis');
  });

  it('answers 503 problem+json naming the database once it is dropped (no tenant loaded)', async () => {
    await database.drop();
    const res = await request(server.url).get('/health/ready').expect(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = res.body as ReadyBody;
    expect(body.code).toBe('not_ready');
    expect(body.checks.redis).toEqual({ status: 'ok', breaker: 'closed' });
    expect(body.checks.database?.status).toBe('failed');
    expect(body.checks.database?.reason).toContain(database.name);
    expect(body.detail).toMatch(/^Not ready: database: /);
    // Liveness is about the process, not its dependencies.
    await request(server.url).get('/health/live').expect(200);
  });
});

describe('server on the embedded database', () => {
  const dataDir = tempDir('server');
  let server: RunningServer;

  beforeAll(async () => {
    server = await start({
      config: testConfig({ VERDICT_DATA_DIR: dataDir.path }),
      logger: silentLogger,
    });
  });
  afterAll(async () => {
    await server.stop();
    dataDir.remove();
  });

  it('is ready with only the database checked', async () => {
    expect(server.db.mode).toBe('embedded');
    expect(server.cache.kind).toBe('memory');
    const ready = await request(server.url).get('/health/ready').expect(200);
    expect(ready.body).toEqual({
      status: 'ready',
      checks: { database: { status: 'ok', breaker: 'closed' } },
    });
  });

  it('answers 503 once the embedded database is stopped', async () => {
    await server.db.embedded?.stop();
    const res = await request(server.url).get('/health/ready').expect(503);
    const body = res.body as ReadyBody;
    expect(body.code).toBe('not_ready');
    expect(body.checks.database?.status).toBe('failed');
    expect(body.checks.database?.reason).toMatch(/ECONNREFUSED|closed|terminated|Connection/i);
  });
});

describe('server whose Redis goes away', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('redisdown');
  });
  afterAll(async () => {
    await database.drop();
  });

  it('stays ready (degraded) naming Redis once its Redis server is shut down', async () => {
    // A Redis server of this test's own, so shutting it down disturbs no other test.
    const port = await freePort();
    const redis = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise<void>((resolve) =>
      redis.once('exit', () => {
        resolve();
      }),
    );
    try {
      await new Promise<void>((resolve, reject) => {
        let output = '';
        redis.once('error', reject);
        redis.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString('utf8');
          if (output.includes('Ready to accept connections')) resolve();
        });
        redis.once('exit', (code) => {
          reject(new Error(`redis-server exited with ${String(code)}: ${output}`));
        });
      });
      const server = await start({
        config: testConfig({ DATABASE_URL: database.url, REDIS_URL: `redis://127.0.0.1:${port}` }),
        logger: silentLogger,
      });
      try {
        await request(server.url).get('/health/ready').expect(200);
        redis.kill('SIGTERM');
        await exited;
        // Decisions go on without Redis, so the instance stays in the balancer.
        const res = await request(server.url).get('/health/ready').expect(200);
        const body = res.body as ReadyBody;
        expect(body.status).toBe('degraded');
        expect(body.checks.database).toEqual({ status: 'ok', breaker: 'closed' });
        expect(body.checks.redis?.status).toBe('failed');
        expect(body.checks.redis?.reason).toEqual(expect.any(String));
      } finally {
        await server.stop();
      }
    } finally {
      redis.kill('SIGKILL');
    }
  });
});

describe('graceful shutdown', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('shutdown');
  });
  afterAll(async () => {
    await database.drop();
  });

  it('finishes an in-flight request, refuses new connections, then closes the pool', async () => {
    const { logger, lines } = capturingLogger();
    const server = await start({
      config: testConfig({ DATABASE_URL: database.url }),
      logger,
    });

    // A request whose body is still arriving is in flight: the server has accepted it
    // and cannot answer before the last byte.
    const socket = net.connect(server.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    const body = '{"input":{"x":1}}';
    socket.write(
      `POST /health/nowhere HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    socket.write(body.slice(0, 5));
    const response = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      socket.on('end', () => {
        resolve(text);
      });
    });

    const stopped = server.stop();
    // Readiness turns false at once, before the drain completes.
    const logged = lines().map((line) => line.msg);
    expect(logged).toContain('shutting down: draining requests');
    expect(logged).not.toContain('verdict stopped');

    socket.write(body.slice(5));
    const text = await response;
    expect(text).toMatch(/^HTTP\/1\.1 404 /);
    expect(text).toMatch(/\r\nConnection: close\r\n/i);
    expect(text).toContain('"code":"not_found"');
    await stopped;

    expect(lines().map((line) => line.msg)).toContain('verdict stopped');
    await expect(
      new Promise((resolve, reject) => {
        const probe = net.connect(server.port, '127.0.0.1');
        probe.once('connect', () => {
          probe.destroy();
          resolve('connected');
        });
        probe.once('error', reject);
      }),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(server.db.knex.raw('select 1')).rejects.toThrow();
    // Stopping twice is harmless.
    await server.stop();
  });
});

describe('start-up failures', () => {
  it('fails with database_unavailable when Postgres cannot be reached', async () => {
    const closedPort = await freePort();
    const attempt = start({
      config: testConfig({ DATABASE_URL: `postgres://postgres@127.0.0.1:${closedPort}/none` }),
      logger: silentLogger,
    });
    await expect(attempt).rejects.toBeInstanceOf(VerdictError);
    await expect(attempt).rejects.toMatchObject({
      code: 'database_unavailable',
      message: expect.stringContaining(`127.0.0.1:${closedPort}`) as unknown,
    });
  });

  it('fails with cache_unavailable when Redis cannot be reached, closing the database', async () => {
    const database = await createTestDatabase('noredis');
    try {
      const closedPort = await freePort();
      await expect(
        start({
          config: testConfig({
            DATABASE_URL: database.url,
            REDIS_URL: `redis://127.0.0.1:${closedPort}`,
          }),
          logger: silentLogger,
        }),
      ).rejects.toMatchObject({ code: 'cache_unavailable' });
      // The database pool opened before Redis was tried has been closed again.
      expect(await database.sessions()).toBe(0);
    } finally {
      await database.drop();
    }
  });

  it('fails with address_in_use when the port is taken', async () => {
    const database = await createTestDatabase('port');
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await expect(
        start({
          config: testConfig({ DATABASE_URL: database.url, PORT: String(port) }),
          logger: silentLogger,
        }),
      ).rejects.toMatchObject({ code: 'address_in_use' });
    } finally {
      blocker.close();
      await database.drop();
    }
  });
});

/** A loopback port that nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) =>
    probe.close(() => {
      resolve();
    }),
  );
  return port;
}
