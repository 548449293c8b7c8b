/**
 * A worker's side of cluster metrics, over a fake channel: a scrape asks the primary and
 * answers with its text (or its failure); the primary's collect request is answered with
 * the worker's own metrics; a primary that is gone or silent fails the scrape.
 */
import { createLogger } from '../../../../api/logger';
import { MetricsRelay, type MetricsChannel } from '../../../../api/cluster/metrics-relay';
import type { MetricsWorkerMessage } from '../../../../api/cluster/messages';
import { VerdictMetrics } from '../../../../api/services/metrics';

const logger = createLogger({ level: 'silent' });

function fakeChannel() {
  const listeners: ((message: unknown) => void)[] = [];
  const disconnects: (() => void)[] = [];
  const state = { sent: [] as MetricsWorkerMessage[], closed: false };
  const channel: MetricsChannel = {
    send(message) {
      if (state.closed) throw new Error('channel closed');
      state.sent.push(message);
    },
    onMessage(listener) {
      listeners.push(listener);
    },
    onDisconnect(listener) {
      disconnects.push(listener);
    },
  };
  return {
    channel,
    state,
    deliver: (message: unknown) => {
      for (const listener of listeners) listener(message);
    },
    disconnect: () => {
      state.closed = true;
      for (const listener of disconnects) listener();
    },
  };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

describe('MetricsRelay', () => {
  it("asks the primary and answers with the process group's text", async () => {
    const { channel, state, deliver } = fakeChannel();
    const relay = new MetricsRelay({ channel, own: () => Promise.resolve([]), logger });
    const scraped = relay.scrape();
    expect(state.sent).toEqual([{ kind: 'verdict:metrics-request', id: 1 }]);
    deliver({ kind: 'verdict:metrics-text', id: 99, contentType: 'x', text: 'other' });
    deliver({ kind: 'verdict:metrics-text', id: 1, contentType: 'text/plain', text: 'up 1\n' });
    await expect(scraped).resolves.toEqual({ contentType: 'text/plain', text: 'up 1\n' });
  });

  it('fails the scrape with not_ready when the primary could not gather', async () => {
    const { channel, deliver } = fakeChannel();
    const relay = new MetricsRelay({ channel, own: () => Promise.resolve([]), logger });
    const scraped = relay.scrape();
    deliver({ kind: 'verdict:metrics-failed', id: 1, detail: 'Worker 3 did not report' });
    await expect(scraped).rejects.toMatchObject({
      code: 'not_ready',
      message: "The cluster's metrics could not be gathered: Worker 3 did not report",
    });
  });

  it("reports this worker's own metrics when the primary collects", async () => {
    const { channel, state, deliver } = fakeChannel();
    const metrics = new VerdictMetrics();
    metrics.http.count('GET', '/health/live', 200);
    new MetricsRelay({ channel, own: () => metrics.snapshot(), logger });
    deliver({ kind: 'verdict:metrics-collect', id: 7 });
    await until(() => state.sent.length > 0);
    const [report] = state.sent;
    if (report?.kind !== 'verdict:metrics-report') throw new Error('no report');
    expect(report.id).toBe(7);
    const http = report.metrics.find((m) => m.name === 'verdict_http_requests_total');
    expect(http?.values).toEqual([
      { labels: { method: 'GET', route: '/health/live', status_class: '2xx' }, value: 1 },
    ]);
  });

  it('fails scrapes when the primary is gone or silent', async () => {
    const gone = fakeChannel();
    const relay = new MetricsRelay({
      channel: gone.channel,
      own: () => Promise.resolve([]),
      logger,
    });
    const waiting = relay.scrape();
    gone.disconnect();
    await expect(waiting).rejects.toMatchObject({ code: 'not_ready' });
    await expect(relay.scrape()).rejects.toThrow('channel closed');

    const silent = fakeChannel();
    const slow = new MetricsRelay({
      channel: silent.channel,
      own: () => Promise.resolve([]),
      logger,
      timeoutMs: 10,
    });
    await expect(slow.scrape()).rejects.toMatchObject({
      code: 'not_ready',
      message: "The primary process did not answer with the cluster's metrics within 10 ms.",
    });
  });
});
