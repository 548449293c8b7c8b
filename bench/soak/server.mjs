// Verdict's own server for the soak (bench/soak/run.mjs), started with `start` from
// dist/api/server.js and the configuration from the environment, as `verdict serve` does.
// Run as a forked child: it tells its parent over IPC when it listens, and answers
//   { type: 'sample' }          memory, event-loop delay since the previous sample, audit counters
//   { type: 'sample', gc: true } the same after a full garbage collection (needs --expose-gc)
//   { type: 'sample', mark: true } also starts a new event-loop delay span (see `span` below)
//   { type: 'stop' }            graceful stop (audit rows flushed), then the final audit counters
// Nothing is added to the server: this file only reads process and writer state.
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { start } = require(path.join(root, 'dist/api/server.js'));
const { loadConfig } = require(path.join(root, 'dist/api/config.js'));

if (!process.send) {
  process.stderr.write('bench/soak/server.mjs runs as a forked child of bench/soak/run.mjs\n');
  process.exit(2);
}

// The histogram records the time between timer turns of `resolution` ms; the delay is the
// part beyond the resolution.
const resolutionMs = 10;
const delay = monitorEventLoopDelay({ resolution: resolutionMs });
const beyond = (nanoseconds) => Math.max(0, nanoseconds / 1e6 - resolutionMs);
const summary = (histogram) => ({
  turns: histogram.count,
  p50: histogram.count > 0 ? beyond(histogram.percentile(50)) : 0,
  p99: histogram.count > 0 ? beyond(histogram.percentile(99)) : 0,
  max: histogram.count > 0 ? beyond(histogram.max) : 0,
});
// A second monitor keeps every turn since the last mark (e.g. the end of the soak's warm-up).
const span = monitorEventLoopDelay({ resolution: resolutionMs });

const server = await start({ config: loadConfig(process.env) });
delay.enable();
span.enable();

function sample(mark) {
  const memory = process.memoryUsage();
  const reading = {
    at: Date.now(),
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    heapTotal: memory.heapTotal,
    external: memory.external,
    arrayBuffers: memory.arrayBuffers,
    loopDelay: summary(delay),
    loopDelaySpan: summary(span),
    audit: { ...server.audit.counters, queue: server.audit.queueLength },
  };
  delay.reset();
  if (mark) span.reset();
  return reading;
}

process.on('message', (message) => {
  if (message?.type === 'sample') {
    const reply = () =>
      process.send({ type: 'sample', id: message.id, reading: sample(message.mark) });
    if (message.gc && typeof globalThis.gc === 'function') {
      globalThis.gc();
      // Read after the delay monitors have seen the collection's pause, so it is not counted
      // in the next span.
      setTimeout(reply, 3 * resolutionMs);
    } else reply();
  } else if (message?.type === 'stop') {
    delay.disable();
    span.disable();
    server.stop().then(
      () => {
        process.send({ type: 'stopped', audit: server.audit.counters }, () => {
          process.disconnect();
        });
      },
      (error) => {
        process.send({ type: 'stopped', error: String(error) }, () => {
          process.exit(1);
        });
      },
    );
  }
});
// The parent went away without asking for a stop: stop anyway, so pools close.
process.on('disconnect', () => {
  server.stop().finally(() => process.exit(0));
});
process.send({ type: 'ready', url: server.url });
