import { VerdictMetrics } from '../../../../../api/services/metrics';
import { parseExposition, sampleSum } from '../../../../helpers/prometheus-text';

const tenant = '44444444-4444-4444-8444-444444444444';

describe('VerdictMetrics', () => {
  it("renders Node's default metrics beside Verdict's, in the Prometheus text format", async () => {
    const metrics = new VerdictMetrics();
    expect(metrics.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = parseExposition(await metrics.text());
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_heap_size_used_bytes',
      'verdict_decisions_total',
      'verdict_decision_duration_seconds',
      'verdict_http_requests_total',
      'verdict_engine_pool_engines',
      'verdict_decision_cache_lookups_total',
      'verdict_audit_queue_rows',
      'verdict_audit_flush_duration_seconds',
      'verdict_bundle_activations_total',
    ]) {
      expect(text.types.has(name)).toBe(true);
    }
    expect(sampleSum(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('keeps each instance apart (several servers in one process)', async () => {
    const first = new VerdictMetrics();
    const second = new VerdictMetrics({ tenantLabel: false });
    first.decisions.decided(tenant, 'p', { defined: true, result: true }, 1000, 0);
    const one = parseExposition(await first.text());
    const other = parseExposition(await second.text());
    expect(sampleSum(one, 'verdict_decisions_total', { tenant, outcome: 'allow' })).toBe(1);
    expect(sampleSum(other, 'verdict_decisions_total')).toBe(0);
    const snapshot = await first.snapshot();
    expect(snapshot.find((metric) => metric.name === 'verdict_decisions_total')?.values).toEqual([
      { labels: { tenant, path: 'p', outcome: 'allow' }, value: 1 },
    ]);
  });
});
