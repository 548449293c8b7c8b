import express from 'express';
import request from 'supertest';
import { VerdictError } from '../../../../api/errors';
import { createLogger } from '../../../../api/logger';
import { notFoundHandler, problemHandler } from '../../../../api/middleware/problem';
import { metricsRouter, type MetricsRouteOptions } from '../../../../api/routes/metrics';

const logger = createLogger({ level: 'silent' });
const token = 'scrape-token-0123456789abcdef';
const exposition = {
  contentType: 'text/plain; version=0.0.4; charset=utf-8',
  text: '# TYPE up gauge\nup 1\n',
};

function app(options: Partial<MetricsRouteOptions> = {}): express.Express {
  const result = express();
  result.use(metricsRouter({ scrape: () => Promise.resolve(exposition), ...options }));
  result.use(notFoundHandler);
  result.use(problemHandler(logger));
  return result;
}

describe('GET /metrics', () => {
  it('answers the exposition text, never cached', async () => {
    const res = await request(app()).get('/metrics').expect(200);
    expect(res.headers['content-type']).toBe(exposition.contentType);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toBe(exposition.text);
  });

  it('requires the bearer token when one is set', async () => {
    const guarded = app({ token });
    for (const authorization of [undefined, 'Bearer wrong-token-0123456789abcdef', 'Basic x']) {
      const req = request(guarded).get('/metrics');
      const res = await (authorization === undefined
        ? req
        : req.set('Authorization', authorization));
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="verdict"');
      expect(res.text).not.toContain('up 1');
      expect(res.body).toMatchObject({ status: 401, code: 'unauthorized' });
    }
    const res = await request(guarded).get('/metrics').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.text).toBe(exposition.text);
  });

  it('answers a problem when the metrics cannot be gathered', async () => {
    const res = await request(
      app({ scrape: () => Promise.reject(new VerdictError('not_ready', 'workers are away')) }),
    )
      .get('/metrics')
      .expect(503);
    expect(res.body).toMatchObject({ code: 'not_ready', detail: 'workers are away' });
  });
});
