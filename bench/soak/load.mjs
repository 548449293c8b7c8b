// A paced load: POST requests at a fixed rate over a pool of kept-alive connections, counted
// exactly (every request sent is answered, failed or timed out before `finish` resolves), so
// the soak can compare answered decisions with the audit rows written.
import { Buffer } from 'node:buffer';
import * as http from 'node:http';
import { createHistogram, performance } from 'node:perf_hooks';
import { setInterval, clearInterval, setTimeout, clearTimeout } from 'node:timers';
import { URL } from 'node:url';

/** Latencies in microseconds; the histogram keeps integers of at least 1. */
const record = (histogram, ms) => histogram.record(Math.max(1, Math.round(ms * 1000)));
const percentileMs = (histogram, p) => (histogram.count > 0 ? histogram.percentile(p) / 1000 : 0);

/**
 * Starts sending `rate` requests a second to `url` with bodies taken in turn from `bodies`.
 * Requests start on schedule whether or not earlier ones were answered (an open loop), up to
 * `maxOutstanding` at once; when that many are waiting, the schedule's missed requests are
 * sent as soon as answers free room, and the run reports how far it fell behind.
 */
export function pacedLoad({
  url,
  headers,
  bodies,
  rate,
  connections,
  maxOutstanding = connections * 8,
  timeoutMs = 10_000,
}) {
  const target = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const payloads = bodies.map((body) => Buffer.from(body));
  const total = { sent: 0, answered: 0, allowed: 0, non2xx: 0, errors: 0, timeouts: 0 };
  let interval = { sent: 0, answered: 0, failed: 0 };
  const latency = createHistogram();
  let intervalLatency = createHistogram();
  let outstanding = 0;
  let next = 0;
  let stopped = false;
  let drained;
  const startedAt = performance.now();
  let intervalStartedAt = startedAt;

  const settled = () => {
    outstanding--;
    if (stopped && outstanding === 0) drained?.();
  };

  function send() {
    const payload = payloads[next++ % payloads.length];
    const sentAt = performance.now();
    total.sent++;
    interval.sent++;
    outstanding++;
    // A request ends once: answered, refused, failed or timed out.
    let open = true;
    const answer = (status, text) => {
      if (!open) return;
      open = false;
      const ms = performance.now() - sentAt;
      if (status >= 200 && status < 300) {
        total.answered++;
        interval.answered++;
        if (text.includes('"result":true')) total.allowed++;
        record(latency, ms);
        record(intervalLatency, ms);
      } else {
        total.non2xx++;
        interval.failed++;
      }
      settled();
    };
    const fail = () => {
      if (!open) return;
      open = false;
      total.errors++;
      interval.failed++;
      settled();
    };
    const request = http.request(
      {
        agent,
        hostname: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': payload.length,
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => answer(response.statusCode, text));
        response.on('error', fail);
      },
    );
    request.setTimeout(timeoutMs, () => {
      total.timeouts++;
      request.destroy(new Error('timeout'));
    });
    request.on('error', fail);
    request.end(payload);
  }

  // Every few milliseconds, send what the schedule says is due by now.
  const ticker = setInterval(() => {
    const due = Math.floor(((performance.now() - startedAt) / 1000) * rate);
    while (total.sent < due && outstanding < maxOutstanding) send();
  }, 2);

  return {
    /** Requests the schedule asked for and not yet sent. */
    behind: () =>
      Math.max(0, Math.floor(((performance.now() - startedAt) / 1000) * rate) - total.sent),
    /** Counts and latency since the previous call, then starts a new interval. */
    takeInterval() {
      const now = performance.now();
      const seconds = (now - intervalStartedAt) / 1000;
      const taken = {
        seconds,
        sent: interval.sent,
        answered: interval.answered,
        failed: interval.failed,
        perSecond: interval.answered / seconds,
        p50: percentileMs(intervalLatency, 50),
        p99: percentileMs(intervalLatency, 99),
      };
      interval = { sent: 0, answered: 0, failed: 0 };
      intervalLatency = createHistogram();
      intervalStartedAt = now;
      return taken;
    },
    /** Stops sending, waits for every request in flight, and returns the whole run's figures. */
    async finish() {
      clearInterval(ticker);
      const sendingSeconds = (performance.now() - startedAt) / 1000;
      const behindAtEnd = Math.max(0, Math.floor(sendingSeconds * rate) - total.sent);
      stopped = true;
      if (outstanding > 0) {
        let timer;
        await new Promise((resolve, reject) => {
          drained = resolve;
          timer = setTimeout(
            () => reject(new Error(`${outstanding} requests unanswered after the load stopped`)),
            timeoutMs + 5000,
          );
        }).finally(() => clearTimeout(timer));
      }
      agent.destroy();
      return {
        ...total,
        sendingSeconds,
        behindAtEnd,
        perSecond: total.answered / sendingSeconds,
        p50: percentileMs(latency, 50),
        p90: percentileMs(latency, 90),
        p99: percentileMs(latency, 99),
        p999: percentileMs(latency, 99.9),
        max: latency.count > 0 ? latency.max / 1000 : 0,
      };
    },
  };
}
