import express, { Router } from 'express';
import request from 'supertest';
import { createLogger } from '../../../../api/logger';
import { httpMetrics } from '../../../../api/middleware/http-metrics';
import { notFoundHandler, problemHandler } from '../../../../api/middleware/problem';
import { VerdictError } from '../../../../api/errors';
import { VerdictMetrics } from '../../../../api/services/metrics';
import { parseExposition, samplesNamed } from '../../../helpers/prometheus-text';

const logger = createLogger({ level: 'silent' });

function app(metrics: VerdictMetrics): express.Express {
  const result = express();
  result.use(httpMetrics(metrics.http));
  const router = Router();
  router.get('/v1/tenants/:tenant', (_req, res) => {
    res.json({ ok: true });
  });
  router.post('/v1/tenants/:tenant/keys', () => {
    throw new VerdictError('forbidden', 'no');
  });
  result.use(router);
  result.use('/console', (_req, res) => {
    res.send('page');
  });
  result.use(notFoundHandler);
  result.use(problemHandler(logger));
  return result;
}

describe('httpMetrics', () => {
  it('counts responses by route pattern, never by the URL sent', async () => {
    const metrics = new VerdictMetrics();
    const server = app(metrics);
    await request(server).get('/v1/tenants/acme').expect(200);
    await request(server).get('/v1/tenants/globex').expect(200);
    await request(server).post('/v1/tenants/acme/keys').expect(403);
    await request(server).get('/no/such/path/123').expect(404);
    await request(server).get('/another-made-up-path').expect(404);
    await request(server).get('/console/index.html').expect(200);
    const samples = samplesNamed(
      parseExposition(await metrics.text()),
      'verdict_http_requests_total',
    ).map(({ labels, value }) => ({ ...labels, value }));
    expect(samples).toEqual(
      expect.arrayContaining([
        { method: 'GET', route: '/v1/tenants/:tenant', status_class: '2xx', value: 2 },
        { method: 'POST', route: '/v1/tenants/:tenant/keys', status_class: '4xx', value: 1 },
        { method: 'GET', route: '(unmatched)', status_class: '4xx', value: 2 },
        { method: 'GET', route: '/console/*', status_class: '2xx', value: 1 },
      ]),
    );
    expect(samples).toHaveLength(4);
  });
});
