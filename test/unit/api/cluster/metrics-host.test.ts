/**
 * The primary's gathering of cluster metrics, over fake worker channels: every connected
 * worker is asked, the reports and the primary's own metrics are summed, the asking worker
 * gets the text; workers that exit are left out, and a worker that never answers fails the
 * scrape.
 */
import { createLogger } from '../../../../api/logger';
import { MetricsHost, type MetricsPeer } from '../../../../api/cluster/metrics-host';
import type { MetricsPrimaryMessage } from '../../../../api/cluster/messages';
import { VerdictMetrics } from '../../../../api/services/metrics';
import { parseExposition, sampleSum } from '../../../helpers/prometheus-text';

const logger = createLogger({ level: 'silent' });
const tenant = '55555555-5555-4555-8555-555555555555';

interface FakeWorker extends MetricsPeer {
  readonly metrics: VerdictMetrics;
  readonly received: MetricsPrimaryMessage[];
  connected: boolean;
  /** Whether it reports its metrics when asked. */
  answers: boolean;
}

function fakeWorker(id: number, host: MetricsHost): FakeWorker {
  const worker: FakeWorker = {
    id,
    metrics: new VerdictMetrics(),
    received: [],
    connected: true,
    answers: true,
    isConnected: () => worker.connected,
    send(message) {
      worker.received.push(message);
      if (message.kind !== 'verdict:metrics-collect' || !worker.answers) return;
      void worker.metrics.snapshot().then((metrics) => {
        host.handle(worker, { kind: 'verdict:metrics-report', id: message.id, metrics });
      });
    },
  };
  return worker;
}

function decide(metrics: VerdictMetrics, times: number): void {
  for (let i = 0; i < times; i++) {
    metrics.decisions.decided(tenant, 'rbac/allow', { defined: true, result: false }, 1e5, 5e4);
    metrics.http.count('POST', '/v1/data{/*path}', 200);
  }
}

function setUp(timeoutMs = 5000) {
  const primary = new VerdictMetrics();
  const workers: FakeWorker[] = [];
  const host = new MetricsHost({
    own: () => primary.snapshot(),
    workers: () => workers,
    logger,
    timeoutMs,
  });
  workers.push(fakeWorker(1, host), fakeWorker(2, host));
  return { primary, workers, host };
}

/** Asks as worker `asking` would for GET /metrics; resolves with the primary's answer. */
async function request(host: MetricsHost, asking: FakeWorker): Promise<MetricsPrimaryMessage> {
  const before = asking.received.length;
  host.handle(asking, { kind: 'verdict:metrics-request', id: 42 });
  for (;;) {
    const answer = asking.received
      .slice(before)
      .find((m) => m.kind === 'verdict:metrics-text' || m.kind === 'verdict:metrics-failed');
    if (answer !== undefined) return answer;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('MetricsHost', () => {
  it("sums every worker's metrics with the primary's and answers the asking worker", async () => {
    const { primary, workers, host } = setUp();
    const [first, second] = workers as [FakeWorker, FakeWorker];
    decide(first.metrics, 2);
    decide(second.metrics, 3);
    primary.audit.watch({
      queueLength: 4,
      spoolRows: 0,
      spoolBytes: 0,
      counters: { queued: 5, written: 1, spooled: 0, replayed: 0, dropped: 0 },
    });
    const answer = await request(host, second);
    if (answer.kind !== 'verdict:metrics-text') throw new Error(JSON.stringify(answer));
    expect(answer.id).toBe(42);
    expect(answer.contentType).toBe(primary.contentType);
    const text = parseExposition(answer.text);
    expect(sampleSum(text, 'verdict_decisions_total', { tenant, outcome: 'deny' })).toBe(5);
    expect(sampleSum(text, 'verdict_decision_duration_seconds_count')).toBe(5);
    expect(sampleSum(text, 'verdict_http_requests_total', { status_class: '2xx' })).toBe(5);
    // The audit writer's metrics come from the primary alone.
    expect(sampleSum(text, 'verdict_audit_queue_rows')).toBe(4);
    expect(sampleSum(text, 'verdict_audit_rows_recorded_total')).toBe(5);
    // Both workers were asked, each once.
    for (const worker of workers) {
      expect(worker.received.filter((m) => m.kind === 'verdict:metrics-collect')).toHaveLength(1);
    }
    // Series of one process (its start time) are left out rather than summed.
    expect(text.types.has('process_start_time_seconds')).toBe(false);
    expect(text.types.has('process_resident_memory_bytes')).toBe(true);
  });

  it('leaves out workers that are not connected or exit while it gathers', async () => {
    const { workers, host } = setUp();
    const [first, second] = workers as [FakeWorker, FakeWorker];
    decide(first.metrics, 1);
    decide(second.metrics, 10);
    second.connected = false;
    const answer = await request(host, first);
    if (answer.kind !== 'verdict:metrics-text') throw new Error(JSON.stringify(answer));
    expect(sampleSum(parseExposition(answer.text), 'verdict_decisions_total')).toBe(1);

    // A worker that exits before reporting no longer holds the gathering up.
    second.connected = true;
    second.answers = false;
    const pending = request(host, first);
    host.workerGone(second.id);
    const later = await pending;
    expect(later.kind).toBe('verdict:metrics-text');
  });

  it('fails the scrape when a worker does not report in time', async () => {
    const { workers, host } = setUp(20);
    const [first, second] = workers as [FakeWorker, FakeWorker];
    second.answers = false;
    const answer = await request(host, first);
    expect(answer).toMatchObject({ kind: 'verdict:metrics-failed', id: 42 });
    expect(answer.kind === 'verdict:metrics-failed' && answer.detail).toMatch(
      /^Worker 2 did not report its metrics within 20 ms/,
    );
  });

  it('ignores messages that are not about metrics, and reports nobody asked for', async () => {
    const { workers, host } = setUp();
    const [first] = workers as [FakeWorker];
    host.handle(first, { kind: 'verdict:audit-flush', id: 1 });
    host.handle(first, { kind: 'verdict:metrics-report', id: 999, metrics: [] });
    host.handle(first, 'verdict:metrics-request');
    expect(first.received).toEqual([]);
    // Without workers, the primary's own metrics are the answer.
    const alone = new MetricsHost({
      own: () => new VerdictMetrics().snapshot(),
      workers: () => [],
      logger,
    });
    const gathered = await alone.gather();
    expect(parseExposition(gathered.text).types.has('verdict_decisions_total')).toBe(true);
  });
});
