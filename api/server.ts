/**
 * Starting and stopping the service. `start` reads the configuration, opens the database
 * (embedded or external), applies pending migrations, opens the cache and listens; `stop`
 * leaves the load balancer (readiness turns 503, and every response asks its client to close
 * the connection), keeps serving for the shutdown delay while the balancer catches up, stops
 * accepting connections, lets in-flight requests finish (up to the shutdown timeout), then
 * closes the pools. The CLI's `serve` command calls `stop` on SIGTERM and SIGINT; tests call
 * both directly.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { createApp } from './app';
import { describeConfig, loadConfig, type Config } from './config';
import { databaseBreaker } from './db/breaker';
import { openDatabase, type Database } from './db/database';
import { migrateUp } from './db/migrator';
import { VerdictError } from './errors';
import { answerClientError } from './middleware/client-error';
import { edgesFromConfig } from './middleware/edges';
import { createLogger, type Logger } from './logger';
import { ApiKeyService } from './services/api-keys';
import type { CircuitBreaker } from './services/breaker';
import { createAuditWriter, type AuditSink, type AuditWriter } from './services/audit';
import { loadActiveBundles } from './services/bundles';
import { openCache, type CacheStore } from './services/cache';
import { openDecisions, type DecisionStack } from './services/decisions';
import { openIdentity, type IdentityService } from './services/identity';
import { VerdictMetrics } from './services/metrics';
import { startTracing, traceDatabase, traceRedis, type Tracing } from './services/tracing';
import { SecurityEvents } from './services/security/events';
import type { MetricsExposition } from './routes/metrics';

export interface StartOptions {
  /** Used as is when given; otherwise read from `env`. */
  config?: Config;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** The metrics to count into (VERDICT_METRICS on); made here when not given. */
  metrics?: VerdictMetrics;
  /** What `GET /metrics` answers; default: this process's metrics. */
  scrapeMetrics?: () => Promise<MetricsExposition>;
  /** Used as is when given (tests pass an in-memory exporter); else made from the config. */
  tracing?: Tracing;
}

export interface RunningServer<Audit extends AuditSink = AuditWriter> {
  readonly config: Config;
  readonly logger: Logger;
  readonly db: Database;
  readonly cache: CacheStore;
  /** Tenant API keys, with the cache of verified keys the request path uses. */
  readonly apiKeys: ApiKeyService;
  /** Platform users: logins, sessions, MFA; the verifier of users' access tokens. */
  readonly identity: IdentityService;
  /** The decision log: this process's writer, or a cluster worker's relay to the primary. */
  readonly audit: Audit;
  /** Engine pool, decision cache and decision service. */
  readonly decisions: DecisionStack;
  /** Circuit breakers of the database and, when configured, Redis. */
  readonly breakers: { readonly database: CircuitBreaker; readonly redis?: CircuitBreaker };
  /** This process's Prometheus metrics; undefined with VERDICT_METRICS=off. */
  readonly metrics: VerdictMetrics | undefined;
  readonly httpServer: http.Server;
  /** Base URL on the loopback interface, e.g. `http://127.0.0.1:8181`. */
  readonly url: string;
  readonly port: number;
  /** Graceful shutdown; resolves once every pool is closed. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Connections waiting to be accepted. Node's default (511) refuses bursts of new clients that
 * a busy event loop has not accepted yet; the kernel caps it at net.core.somaxconn.
 */
export const listenBacklog = 4096;

/**
 * Idle keep-alive connections are kept longer than the usual load balancer idle timeout
 * (60 s), so the balancer, not Verdict, closes them: a connection Verdict closes just as the
 * balancer reuses it fails that request.
 */
export const keepAliveTimeoutMs = 65_000;

async function listen(server: http.Server, port: number, host: string): Promise<AddressInfo> {
  server.keepAliveTimeout = keepAliveTimeoutMs;
  // Headers must be allowed to arrive for longer than an idle connection is kept.
  server.headersTimeout = keepAliveTimeoutMs + 1000;
  server.listen({ port, host, backlog: listenBacklog });
  try {
    await once(server, 'listening');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new VerdictError(
        'address_in_use',
        `Port ${port} on ${host} is already in use; stop the process using it or set PORT to another port.`,
        { cause: err },
      );
    }
    throw err;
  }
  return server.address() as AddressInfo;
}

/**
 * Stops accepting connections, closes the idle ones and waits for the others to finish their
 * requests; after `timeoutMs` the ones still open are closed with their requests.
 */
async function closeHttpServer(
  server: http.Server,
  timeoutMs: number,
  logger: Logger,
): Promise<void> {
  const closed = new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  server.closeIdleConnections();
  const force = setTimeout(() => {
    logger.warn({ timeoutMs }, 'shutdown timeout: closing connections with requests still running');
    server.closeAllConnections();
  }, timeoutMs);
  await closed;
  clearTimeout(force);
}

/** The URL to reach a server listening on `host` from this machine. */
export function loopbackUrl(host: string, port: number): string {
  const name = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${name.includes(':') ? `[${name}]` : name}:${port}`;
}

export async function start(options: StartOptions = {}): Promise<RunningServer> {
  return launch(options, true, async (config, db, logger, metrics) => {
    // The audit spool lives in the data folder, which an external database does not create.
    fs.mkdirSync(config.dataDir, { recursive: true });
    const writer = await createAuditWriter({
      knex: db.knex,
      dataDir: config.dataDir,
      logger,
      embedded: db.mode === 'embedded',
      ...(metrics === undefined ? {} : { onInsert: metrics.audit.inserted }),
    });
    metrics?.audit.watch(writer);
    return writer;
  });
}

/**
 * Starts a cluster worker (api/cluster): the same service, but its decisions are logged
 * through `audit` (the relay to the primary, which writes the log) and migrations are left
 * to the primary, which applied them before starting any worker.
 */
export async function startWorker(
  options: StartOptions & { audit: AuditSink },
): Promise<RunningServer<AuditSink>> {
  return launch(options, false, () => Promise.resolve(options.audit));
}

async function launch<Audit extends AuditSink>(
  options: StartOptions,
  migrate: boolean,
  openAudit: (
    config: Config,
    db: Database,
    logger: Logger,
    metrics: VerdictMetrics | undefined,
  ) => Promise<Audit>,
): Promise<RunningServer<Audit>> {
  const config = options.config ?? loadConfig(options.env);
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  logger.info({ config: describeConfig(config) }, 'starting verdict');
  const metrics = config.metricsEnabled
    ? (options.metrics ?? new VerdictMetrics({ tenantLabel: config.metricsTenantLabel }))
    : undefined;

  // Whatever was opened is closed again, newest first, if a later step fails.
  const cleanups: (() => Promise<void>)[] = [];
  const cleanUp = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  const tracing = options.tracing ?? startTracing(config.tracing);
  cleanups.push(() => tracing.shutdown());
  const { tracer } = tracing;

  try {
    const db = await openDatabase(config, logger);
    cleanups.push(() => db.close());
    if (tracer !== undefined) traceDatabase(db.knex, tracer);
    if (migrate) {
      const applied = await migrateUp(db);
      if (applied.length > 0) logger.info({ migrations: applied }, 'applied migrations');
    }
    const cache = await openCache(config, logger);
    cleanups.push(() => cache.close());
    if (tracer !== undefined) traceRedis(tracer);
    const breakers = {
      database: databaseBreaker({
        failureThreshold: config.breakerFailures,
        openMs: config.breakerOpenMs,
      }),
      ...(cache.breaker === undefined ? {} : { redis: cache.breaker }),
    };
    for (const breaker of Object.values(breakers)) {
      metrics?.breakers.watch(breaker);
      breaker.onTransition((from, to) => {
        const level = to === 'closed' ? 'info' : 'warn';
        logger[level]({ dependency: breaker.name, from, to }, `circuit breaker ${to}`);
      });
    }
    const audit = await openAudit(config, db, logger, metrics);
    cleanups.push(() => audit.close());
    const decisions = await openDecisions({
      knex: db.knex,
      cache,
      audit,
      logger,
      loadActiveBundles,
      config,
      metrics,
      tracer,
      databaseBreaker: breakers.database,
    });
    cleanups.push(() => decisions.stop());
    const securityEvents = new SecurityEvents({ logger, counter: metrics?.security });
    const identity = await openIdentity({ config, knex: db.knex, logger, events: securityEvents });
    cleanups.push(() => identity.close());

    let shuttingDown = false;
    const apiKeys = new ApiKeyService({ knex: db.knex, logger, breaker: breakers.database });
    const app = createApp({
      logger,
      db,
      cache,
      isShuttingDown: () => shuttingDown,
      adminToken: config.adminToken,
      apiKeys,
      identity,
      securityEvents,
      audit,
      decisions: { service: decisions.service, maxInputDepth: config.maxInputDepth },
      tracer,
      databaseOutage: {
        breaker: breakers.database,
        tenantsLoaded: () => decisions.pool.counters.tenants > 0,
      },
      edges: edgesFromConfig(config, cache, logger),
      ...(metrics === undefined
        ? {}
        : {
            metrics: {
              collector: metrics,
              token: config.metricsToken,
              ...(options.scrapeMetrics === undefined ? {} : { scrape: options.scrapeMetrics }),
            },
          }),
    });
    const httpServer = http.createServer(app);
    httpServer.on('clientError', answerClientError);
    const address = await listen(httpServer, config.port, config.host);
    const url = loopbackUrl(config.host, address.port);
    logger.info({ url, database: db.mode, cache: cache.kind }, 'verdict listening');

    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        shuttingDown = true;
        logger.info({ delayMs: config.shutdownDelayMs }, 'shutting down: draining requests');
        if (config.shutdownDelayMs > 0) {
          // Load balancers see the 503 of /health/ready (and Kubernetes takes the pod out of
          // its Service) only a little later: connections arriving meanwhile are still served.
          await delay(config.shutdownDelayMs);
          logger.info('shutdown delay over: no longer accepting connections');
        }
        await closeHttpServer(httpServer, config.shutdownTimeoutMs, logger);
        // No request is left: stop taking activations, then write every audit row (to the
        // table, or to the spool) while the database is still open.
        await decisions.stop().catch((err: unknown) => {
          logger.warn({ err }, 'unsubscribing from bundle activations failed');
        });
        await audit.close();
        await apiKeys.flush();
        await identity.close();
        await cache.close();
        await db.close();
        await tracing.shutdown().catch((err: unknown) => {
          logger.warn({ err }, 'sending the last spans failed');
        });
        logger.info('verdict stopped');
      })();
      return stopping;
    };

    return {
      config,
      logger,
      db,
      cache,
      apiKeys,
      audit,
      decisions,
      identity,
      breakers,
      metrics,
      httpServer,
      url,
      port: address.port,
      stop,
    };
  } catch (err) {
    await cleanUp();
    throw err;
  }
}

/**
 * Stops `server` on the first SIGTERM or SIGINT; a second signal while draining exits at
 * once. Returns a function that removes the handlers.
 */
export function stopOnSignals(server: Pick<RunningServer, 'logger' | 'stop'>): () => void {
  let received = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    received += 1;
    if (received > 1) {
      server.logger.warn({ signal }, 'second signal: exiting without draining');
      process.exit(1);
    }
    server.logger.info({ signal }, 'signal received');
    server.stop().then(
      () => {
        remove();
      },
      (err: unknown) => {
        server.logger.error({ err }, 'shutdown failed');
        process.exitCode = 1;
        remove();
      },
    );
  };
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
  for (const signal of signals) process.on(signal, onSignal);
  const remove = (): void => {
    for (const signal of signals) process.off(signal, onSignal);
  };
  return remove;
}
