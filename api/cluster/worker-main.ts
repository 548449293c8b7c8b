/**
 * A cluster worker's process: the HTTP service of api/server.ts, with the primary's
 * configuration and its decisions logged through the primary (audit-relay.ts). It drains
 * and exits on SIGTERM or SIGINT, and when the primary goes away (nothing could log its
 * decisions any more; entries not yet handed over are lost, a few milliseconds' worth).
 */
import cluster from 'node:cluster';
import { messageOf } from '../errors';
import { createLogger } from '../logger';
import { startWorker } from '../server';
import { VerdictMetrics } from '../services/metrics';
import { AuditRelay, processChannel } from './audit-relay';
import { MetricsRelay, processMetricsChannel } from './metrics-relay';
import { readClusterConfig } from './worker-config';

async function main(): Promise<void> {
  const config = readClusterConfig(process.env);
  const logger = createLogger({ level: config.logLevel }).child({ worker: cluster.worker?.id });
  const audit = new AuditRelay(processChannel(logger));
  // A scrape of this worker answers for the whole process group, gathered by the primary.
  const metrics = config.metricsEnabled
    ? new VerdictMetrics({ tenantLabel: config.metricsTenantLabel })
    : undefined;
  const relay =
    metrics === undefined
      ? undefined
      : new MetricsRelay({
          channel: processMetricsChannel(logger),
          own: () => metrics.snapshot(),
          logger,
        });
  const server = await startWorker({
    config,
    logger,
    audit,
    ...(metrics === undefined || relay === undefined
      ? {}
      : { metrics, scrapeMetrics: () => relay.scrape() }),
  });
  let stopping = false;
  const stop = (why: string): void => {
    // A terminal's Ctrl-C reaches the primary and every worker, and the primary then asks
    // each worker too: later requests change nothing. The primary kills a worker that
    // drains for too long.
    if (stopping) return;
    stopping = true;
    logger.info({ why }, 'worker stopping');
    server.stop().then(
      () => {
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err: messageOf(err) }, 'worker shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => {
    stop('SIGTERM');
  });
  process.on('SIGINT', () => {
    stop('SIGINT');
  });
  process.on('disconnect', () => {
    stop('the primary process is gone');
  });
}

main().catch((err: unknown) => {
  // The primary reports the exit; this line says why.
  process.stderr.write(`verdict worker failed to start: ${messageOf(err)}\n`);
  process.exit(1);
});
