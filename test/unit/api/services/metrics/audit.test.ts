import { Registry } from 'prom-client';
import { AuditMetrics, type AuditWriterState } from '../../../../../api/services/metrics/audit';
import { parseExposition, sampleSum } from '../../../../helpers/prometheus-text';

describe('AuditMetrics', () => {
  it("reads the writer's queue, spool and counts when scraped", async () => {
    const registry = new Registry();
    const metrics = new AuditMetrics(registry);
    const zero = parseExposition(await registry.metrics());
    expect(sampleSum(zero, 'verdict_audit_queue_rows')).toBe(0);
    expect(sampleSum(zero, 'verdict_audit_rows_written_total')).toBe(0);

    const writer: AuditWriterState = {
      queueLength: 12,
      spoolRows: 30,
      spoolBytes: 4096,
      counters: { queued: 100, written: 50, spooled: 30, replayed: 8, dropped: 1 },
    };
    metrics.watch(writer);
    const text = parseExposition(await registry.metrics());
    expect(sampleSum(text, 'verdict_audit_queue_rows')).toBe(12);
    expect(sampleSum(text, 'verdict_audit_spool_rows')).toBe(30);
    expect(sampleSum(text, 'verdict_audit_spool_bytes')).toBe(4096);
    expect(sampleSum(text, 'verdict_audit_rows_recorded_total')).toBe(100);
    expect(sampleSum(text, 'verdict_audit_rows_written_total', { source: 'queue' })).toBe(50);
    expect(sampleSum(text, 'verdict_audit_rows_written_total', { source: 'spool' })).toBe(8);
    expect(sampleSum(text, 'verdict_audit_rows_spooled_total')).toBe(30);
    expect(sampleSum(text, 'verdict_audit_rows_dropped_total')).toBe(1);
  });

  it('times every insert and counts the rows of failed ones', async () => {
    const registry = new Registry();
    const metrics = new AuditMetrics(registry);
    metrics.inserted({ source: 'queue', rows: 500, seconds: 0.004, ok: true });
    metrics.inserted({ source: 'queue', rows: 200, seconds: 5, ok: false });
    metrics.inserted({ source: 'spool', rows: 500, seconds: 0.02, ok: true });
    const text = parseExposition(await registry.metrics());
    const count = (labels: Record<string, string>) =>
      sampleSum(text, 'verdict_audit_flush_duration_seconds_count', labels);
    expect(count({ source: 'queue', outcome: 'written' })).toBe(1);
    expect(count({ source: 'queue', outcome: 'failed' })).toBe(1);
    expect(count({ source: 'spool', outcome: 'written' })).toBe(1);
    expect(
      sampleSum(text, 'verdict_audit_flush_duration_seconds_bucket', {
        source: 'queue',
        outcome: 'written',
        le: '0.005',
      }),
    ).toBe(1);
    expect(sampleSum(text, 'verdict_audit_rows_failed_total', { source: 'queue' })).toBe(200);
    expect(sampleSum(text, 'verdict_audit_rows_failed_total', { source: 'spool' })).toBe(0);
  });
});
