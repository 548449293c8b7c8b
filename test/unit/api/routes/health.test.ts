import express from 'express';
import request from 'supertest';
import { healthRouter, type ReadinessCheck } from '../../../../api/routes/health';

function app(checks: ReadinessCheck[], shuttingDown = false): express.Express {
  const result = express();
  result.use(healthRouter({ checks, isShuttingDown: () => shuttingDown, checkTimeoutMs: 50 }));
  return result;
}

const ok = (name: string): ReadinessCheck => ({ name, check: () => Promise.resolve() });
const failing = (name: string, reason: string): ReadinessCheck => ({
  name,
  check: () => Promise.reject(new Error(reason)),
});

describe('health routes', () => {
  it('is live regardless of dependencies', async () => {
    await request(app([failing('database', 'down')]))
      .get('/health/live')
      .expect(200, { status: 'live' });
  });

  it('is ready when every check passes', async () => {
    const res = await request(app([ok('database'), ok('redis')]))
      .get('/health/ready')
      .expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      status: 'ready',
      checks: { database: { status: 'ok' }, redis: { status: 'ok' } },
    });
  });

  it('names every failing check and its reason in a 503 problem', async () => {
    const res = await request(
      app([failing('database', 'connection refused'), ok('redis'), failing('other', 'gone')]),
    )
      .get('/health/ready')
      .expect(503);
    expect(res.body).toMatchObject({
      code: 'not_ready',
      detail: 'Not ready: database: connection refused; other: gone',
      checks: {
        database: { status: 'failed', reason: 'connection refused' },
        redis: { status: 'ok' },
        other: { status: 'failed', reason: 'gone' },
      },
    });
  });

  it('stays ready (degraded) when only tolerated checks fail, showing each breaker', async () => {
    const redis: ReadinessCheck = {
      ...failing('redis', 'connection refused'),
      breaker: () => 'open',
      tolerated: () => true,
    };
    const database: ReadinessCheck = {
      ...ok('database'),
      breaker: () => 'closed',
      tolerated: () => false,
    };
    const res = await request(app([database, redis]))
      .get('/health/ready')
      .expect(200);
    expect(res.body).toEqual({
      status: 'degraded',
      checks: {
        database: { status: 'ok', breaker: 'closed' },
        redis: { status: 'failed', reason: 'connection refused', breaker: 'open' },
      },
    });
  });

  it('is not ready when a check fails that is not tolerated now', async () => {
    let tenantsLoaded = false;
    const database: ReadinessCheck = {
      ...failing('database', 'connection refused'),
      breaker: () => 'open',
      tolerated: () => tenantsLoaded,
    };
    const res = await request(app([database]))
      .get('/health/ready')
      .expect(503);
    expect(res.body).toMatchObject({
      code: 'not_ready',
      detail: 'Not ready: database: connection refused',
      checks: { database: { status: 'failed', reason: 'connection refused', breaker: 'open' } },
    });
    tenantsLoaded = true;
    await request(app([database]))
      .get('/health/ready')
      .expect(200);
  });

  it('counts a check that never answers as failed', async () => {
    const hanging: ReadinessCheck = { name: 'database', check: () => new Promise(() => undefined) };
    const res = await request(app([hanging]))
      .get('/health/ready')
      .expect(503);
    expect(res.body).toMatchObject({
      checks: { database: { status: 'failed', reason: 'no answer within 50 ms' } },
    });
  });

  it('is not ready while shutting down, without running the checks', async () => {
    let ran = false;
    const spy: ReadinessCheck = {
      name: 'database',
      check: () => {
        ran = true;
        return Promise.resolve();
      },
    };
    const res = await request(app([spy], true))
      .get('/health/ready')
      .expect(503);
    expect(res.body).toMatchObject({ code: 'not_ready', detail: 'The server is shutting down.' });
    expect(ran).toBe(false);
  });
});
