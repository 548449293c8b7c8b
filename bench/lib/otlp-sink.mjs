// A loopback OTLP/HTTP traces receiver for benchmarks: accepts every export (200 `{}`), keeps
// nothing, and counts requests and bytes, so a traced Verdict pays the full cost of building
// and sending spans without a collector in the measurement.
import http from 'node:http';
import { once } from 'node:events';

/** Starts the sink on a free loopback port; `stop()` closes it. */
export async function startOtlpSink() {
  const received = { requests: 0, bytes: 0 };
  const server = http.createServer((req, res) => {
    req.on('data', (chunk) => {
      received.bytes += chunk.length;
    });
    req.on('end', () => {
      received.requests += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  return {
    endpoint: `http://127.0.0.1:${port}/v1/traces`,
    received,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
