import { Writable } from 'node:stream';
import express from 'express';
import request from 'supertest';
import { createLogger } from '../../../../api/logger';
import { requestLogger } from '../../../../api/middleware/request-log';

function loggedApp(): { app: express.Express; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const logger = createLogger({
    level: 'info',
    destination: new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString('utf8'));
        callback();
      },
    }),
  });
  const app = express();
  app.use(requestLogger(logger));
  app.get('/health/live', (_req, res) => res.json({ ok: true }));
  app.get('/thing', (_req, res) => res.status(404).json({}));
  app.get('/ok', (_req, res) => res.json({}));
  return {
    app,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('request logging', () => {
  it('keeps a sane caller request id and echoes it', async () => {
    const { app, lines } = loggedApp();
    const res = await request(app).get('/ok').set('X-Request-Id', 'abc-123').expect(200);
    expect(res.headers['x-request-id']).toBe('abc-123');
    expect(lines()).toEqual([
      expect.objectContaining({
        level: 30,
        msg: 'request completed',
        req: expect.objectContaining({ id: 'abc-123', method: 'GET', url: '/ok' }) as unknown,
        res: { statusCode: 200 },
      }),
    ]);
  });

  it('replaces a request id that could corrupt logs with a fresh UUID', async () => {
    const { app } = loggedApp();
    const res = await request(app).get('/ok').set('X-Request-Id', 'x'.repeat(300)).expect(200);
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs client errors as warnings, never the auth header, and skips health probes', async () => {
    const { app, lines } = loggedApp();
    await request(app).get('/health/live').expect(200);
    await request(app).get('/thing').set('Authorization', 'Bearer top-secret').expect(404);
    const logged = lines();
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 40, res: { statusCode: 404 } });
    expect(JSON.stringify(logged)).not.toContain('top-secret');
  });
});
