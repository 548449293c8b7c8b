import { Registry } from 'prom-client';
import { SecurityMetrics } from '../../../../../api/services/metrics/security';
import { securityEventTypes } from '../../../../../api/services/security/events';
import { parseExposition, sampleSum } from '../../../../helpers/prometheus-text';

describe('SecurityMetrics', () => {
  it('renders every event type at zero before any event', async () => {
    const registry = new Registry();
    new SecurityMetrics(registry);
    const text = parseExposition(await registry.metrics());
    const series = text.samples.filter((s) => s.name === 'verdict_security_events_total');
    expect(series.map((s) => s.labels.type).sort()).toEqual([...securityEventTypes].sort());
    expect(series.every((s) => s.value === 0)).toBe(true);
  });

  it('counts each type apart', async () => {
    const registry = new Registry();
    const metrics = new SecurityMetrics(registry);
    metrics.count('login_failed');
    metrics.count('login_failed');
    metrics.count('cross_tenant_denied');
    const text = parseExposition(await registry.metrics());
    const count = (type: string): number =>
      sampleSum(text, 'verdict_security_events_total', { type });
    expect(count('login_failed')).toBe(2);
    expect(count('cross_tenant_denied')).toBe(1);
    expect(count('access_denied')).toBe(0);
    expect(sampleSum(text, 'verdict_security_events_total')).toBe(3);
  });
});
