import { Registry } from 'prom-client';
import {
  HttpMetrics,
  decisionRoute,
  statusClassIndex,
} from '../../../../../api/services/metrics/http';
import { parseExposition, samplesNamed } from '../../../../helpers/prometheus-text';

describe('statusClassIndex', () => {
  it.each([
    [101, 0],
    [200, 1],
    [204, 1],
    [304, 2],
    [404, 3],
    [429, 3],
    [500, 4],
    [503, 4],
    [600, 4],
    [0, 4],
  ])('puts %i in class %i', (status, index) => {
    expect(statusClassIndex(status)).toBe(index);
  });
});

describe('HttpMetrics', () => {
  it('counts responses by method, route and status class', async () => {
    const registry = new Registry();
    const metrics = new HttpMetrics(registry);
    const lane = metrics.route('POST', decisionRoute);
    expect(metrics.route('POST', decisionRoute)).toBe(lane);
    lane.add(200);
    lane.add(200);
    lane.add(401);
    metrics.count('GET', '/health/ready', 503);
    metrics.count('POST', decisionRoute, 500);

    const samples = samplesNamed(
      parseExposition(await registry.metrics()),
      'verdict_http_requests_total',
    );
    expect(samples.map(({ labels, value }) => ({ ...labels, value }))).toEqual(
      expect.arrayContaining([
        { method: 'POST', route: decisionRoute, status_class: '2xx', value: 2 },
        { method: 'POST', route: decisionRoute, status_class: '4xx', value: 1 },
        { method: 'POST', route: decisionRoute, status_class: '5xx', value: 1 },
        { method: 'GET', route: '/health/ready', status_class: '5xx', value: 1 },
      ]),
    );
    expect(samples).toHaveLength(4);
  });
});
