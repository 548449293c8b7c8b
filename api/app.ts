/**
 * The Express application: security headers, request logging, JSON bodies, the routes,
 * and problem+json for everything that goes wrong. It takes its dependencies ready-made
 * and opens nothing itself, so tests can build it around whatever they need.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Tracer } from '@opentelemetry/api';
import express, { type RequestHandler } from 'express';
import { PlatformAccess } from './auth/access';
import type { AccessTokenVerifier } from './auth/principal';
import { ApiKeyService } from './services/api-keys';
import type { AuditSink } from './services/audit/sink';
import type { CacheStore } from './services/cache';
import { TenantService } from './services/tenants';
import type { Database } from './db/database';
import type { Logger } from './logger';
import {
  defaultBodyLimits,
  edgeMiddleware,
  trustProxyValue,
  type EdgeOptions,
} from './middleware/edges';
import { notFoundHandler, problemHandler } from './middleware/problem';
import { httpMetrics } from './middleware/http-metrics';
import { requestLogger } from './middleware/request-log';
import { requestTracing } from './middleware/request-tracing';
import { securityHeaders } from './middleware/security-headers';
import { adminRouter } from './routes/admin';
import { bundlesRouter } from './routes/bundles';
import { caslRouter } from './routes/casl';
import { identityRouter } from './routes/identity';
import { CaslRulesService } from './services/casl/user-rules';
import { BundleRegistry } from './services/bundles/registry';
import { dataRouter } from './routes/data';
import { dataLane, type TrustProxy } from './routes/data-lane';
import { replayRouter } from './routes/replay';
import { rolloutsRouter } from './routes/rollouts';
import { RolloutService } from './services/rollouts/service';
import { ReplayService } from './services/replay';
import { decisionsRouter } from './routes/decisions';
import { decisionStatsRouter } from './routes/decision-stats';
import { consoleRouter } from './routes/console';
import { consoleSessionRouter } from './routes/console-session';
import { ConsoleSessionAuth } from './auth/console-session';
import { ConsoleSessions } from './services/console/sessions';
import { openApiRouter } from './routes/openapi';
import type { DecisionService } from './services/decisions';
import { defaultMaxInputDepth } from './services/decisions/input';
import type { IdentityService } from './services/identity/service';
import type { SecurityEventSink } from './services/security/events';
import { healthRouter, type ReadinessCheck } from './routes/health';
import type { CircuitBreaker } from './services/breaker';
import { metricsRouter, type MetricsExposition } from './routes/metrics';
import type { VerdictMetrics } from './services/metrics';

export interface AppDependencies {
  logger: Logger;
  db: Database;
  cache: CacheStore;
  /** True once shutdown has begun. */
  isShuttingDown: () => boolean;
  /** Bootstrap admin token (VERDICT_ADMIN_TOKEN); the admin API answers 503 without it. */
  adminToken?: string | undefined;
  /** Tenant API keys; one over `db` is made when not given. */
  apiKeys?: ApiKeyService;
  /** Users' access tokens; without it, only API keys and the admin token authenticate. */
  accessTokens?: AccessTokenVerifier;
  /** Where the platform policy's answers about admin requests are logged. */
  audit?: Pick<AuditSink, 'record'>;
  /** The decision API (`/v1/data/...`); mounted only when given. */
  decisions?: { service: DecisionService; maxInputDepth?: number };
  /** CORS, body shape limits and rate limits (api/middleware/edges.ts). */
  edges?: EdgeOptions & {
    /** VERDICT_TRUST_PROXY: proxies whose X-Forwarded-For names the client. */
    trustProxy?: string | undefined;
  };
  /** Platform users: logins, sessions, MFA and user administration; mounted only when given. */
  identity?: IdentityService;
  /** The auditor console's cookie sessions; by default kept in `cache` for 8 hours. */
  consoleSessions?: ConsoleSessions;
  /** Where denied admin requests and revoked keys are reported; by default only logged. */
  securityEvents?: SecurityEventSink;
  /**
   * The database's circuit breaker, shown by readiness, and whether this instance holds
   * tenants it can keep deciding for while the database is down (readiness then stays 200).
   */
  databaseOutage?: { breaker: CircuitBreaker; tenantsLoaded: () => boolean };
  /**
   * Whether plain decision requests take the lane past Express (routes/data-lane.ts); default
   * true. Tests turn it off to hold the Express route beside the lane.
   */
  decisionLane?: boolean;
  /** Where request spans go (api/services/tracing); undefined with tracing off. */
  tracer?: Tracer | undefined;
  /**
   * Prometheus metrics (api/services/metrics): responses are counted into `collector`, and
   * `GET /metrics` answers with `scrape()` (default: the collector's own text), behind
   * `token` when one is set. Neither happens without it.
   */
  metrics?: {
    readonly collector: Pick<VerdictMetrics, 'http' | 'contentType' | 'text'>;
    readonly token?: string | undefined;
    readonly scrape?: () => Promise<MetricsExposition>;
  };
}

/** Largest JSON body accepted, in bytes (1 MiB); decision inputs are small documents. */
export const jsonBodyLimit = 1024 * 1024;

/** The whole HTTP service as Node's request listener: the decision lane, then Express. */
export type VerdictApp = (req: IncomingMessage, res: ServerResponse) => void;

const expressApps = new WeakMap<VerdictApp, express.Express>();

/**
 * The Express application inside an app `createApp` made (undefined for any other function):
 * its router lists the routes served, which the OpenAPI conformance test compares with the
 * document.
 */
export function expressAppOf(app: VerdictApp): express.Express | undefined {
  return expressApps.get(app);
}

export function readinessChecks(
  deps: Pick<AppDependencies, 'db' | 'cache' | 'databaseOutage'>,
): ReadinessCheck[] {
  const outage = deps.databaseOutage;
  const checks: ReadinessCheck[] = [
    {
      name: 'database',
      check: () => deps.db.ping(),
      ...(outage === undefined
        ? {}
        : { breaker: () => outage.breaker.state, tolerated: outage.tenantsLoaded }),
    },
  ];
  // The in-process cache cannot be down; only a Redis connection is worth checking. Decisions
  // go on without it (no L2, local rate limits), so its failure never takes the instance out.
  const { breaker } = deps.cache;
  if (deps.cache.kind === 'redis') {
    checks.push({
      name: 'redis',
      check: () => deps.cache.ping(),
      ...(breaker === undefined ? {} : { breaker: () => breaker.state }),
      tolerated: () => true,
    });
  }
  return checks;
}

/**
 * During shutdown, ask keep-alive clients to reconnect elsewhere after this response: decided
 * when the headers go out, so a request already under way when shutdown begins closes too.
 */
function closeConnectionsWhenShuttingDown(isShuttingDown: () => boolean): RequestHandler {
  return (_req, res, next) => {
    if (isShuttingDown()) {
      res.setHeader('Connection', 'close');
    } else {
      const writeHead = res.writeHead.bind(res);
      res.writeHead = ((...args: Parameters<typeof writeHead>) => {
        if (isShuttingDown()) res.setHeader('Connection', 'close');
        return writeHead(...args);
      }) as typeof writeHead;
    }
    next();
  };
}

export function createApp(deps: AppDependencies): VerdictApp {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', trustProxyValue(deps.edges?.trustProxy));
  const edges = edgeMiddleware(deps.edges);
  const { metrics } = deps;
  if (deps.tracer !== undefined) app.use(requestTracing(deps.tracer));
  if (metrics !== undefined) app.use(httpMetrics(metrics.collector.http));
  app.use(securityHeaders());
  app.use(requestLogger(deps.logger));
  app.use(closeConnectionsWhenShuttingDown(deps.isShuttingDown));
  app.use(edges.beforeBody);
  app.use(express.json({ limit: jsonBodyLimit }));
  app.use(edges.afterBody);
  const apiKeys = deps.apiKeys ?? new ApiKeyService({ knex: deps.db.knex, logger: deps.logger });
  // The decision routes come first: they carry nearly all the traffic, and every router
  // mounted ahead of them would test its routes against each decision request.
  if (deps.decisions !== undefined) {
    app.use(
      dataRouter({
        apiKeys,
        decisions: deps.decisions.service,
        ...(deps.decisions.maxInputDepth === undefined
          ? {}
          : { maxInputDepth: deps.decisions.maxInputDepth }),
      }),
    );
  }
  app.use(healthRouter({ checks: readinessChecks(deps), isShuttingDown: deps.isShuttingDown }));
  if (metrics !== undefined) {
    const { collector } = metrics;
    app.use(
      metricsRouter({
        token: metrics.token,
        scrape:
          metrics.scrape ??
          (async () => ({ contentType: collector.contentType, text: await collector.text() })),
      }),
    );
  }
  app.use(consoleRouter({ logger: deps.logger }));
  app.use(openApiRouter());
  const tenants = new TenantService(deps.db.knex);
  const consoleAuth = new ConsoleSessionAuth(
    deps.consoleSessions ?? new ConsoleSessions({ cache: deps.cache }),
  );
  const access = new PlatformAccess({
    adminToken: deps.adminToken,
    apiKeys,
    tenants,
    logger: deps.logger,
    // Users' access tokens: the identity service checks them, unless a test gives its own.
    accessTokens: deps.accessTokens ?? deps.identity,
    audit: deps.audit,
    consoleSessions: consoleAuth,
    securityEvents: deps.securityEvents,
  });
  // After the console's files, which answer only GET and HEAD of files that exist, so
  // /console/session passes them to here.
  app.use(consoleSessionRouter({ access, auth: consoleAuth }));
  app.use(adminRouter({ access, tenants, apiKeys }));
  app.use(
    bundlesRouter({
      access,
      tenants,
      registry: new BundleRegistry({ knex: deps.db.knex, cache: deps.cache }),
    }),
  );
  app.use(
    rolloutsRouter({
      access,
      tenants,
      rollouts: new RolloutService({ knex: deps.db.knex, cache: deps.cache }),
    }),
  );
  app.use(replayRouter({ access, tenants, replay: new ReplayService({ knex: deps.db.knex }) }));
  // Before the decisions router, whose `/decisions/:id` would take `stats` for an id.
  app.use(decisionStatsRouter({ access, tenants, knex: deps.db.knex }));
  app.use(decisionsRouter({ access, tenants, knex: deps.db.knex, logger: deps.logger }));
  app.use(caslRouter({ apiKeys, rules: new CaslRulesService(deps.db.knex) }));
  if (deps.identity !== undefined) {
    app.use(identityRouter({ access, identity: deps.identity, tenants }));
  }
  app.use(notFoundHandler);
  app.use(problemHandler(deps.logger));
  if (deps.decisions === undefined || deps.decisionLane === false) {
    expressApps.set(app, app);
    return app;
  }
  const lane = dataLane({
    logger: deps.logger,
    apiKeys,
    decisions: deps.decisions.service,
    maxInputDepth: deps.decisions.maxInputDepth ?? defaultMaxInputDepth,
    bodyLimitBytes: jsonBodyLimit,
    bodyLimits: deps.edges?.bodyLimits ?? defaultBodyLimits,
    corsEnabled: (deps.edges?.corsOrigins ?? []).length > 0,
    decisionLimits: edges.decisionLimits,
    // Express compiles VERDICT_TRUST_PROXY into this function; the lane asks it the same way.
    trustProxy: app.get('trust proxy fn') as TrustProxy,
    isShuttingDown: deps.isShuttingDown,
    httpRequests: metrics?.collector.http,
    tracer: deps.tracer,
  });
  const listener: VerdictApp = (req, res) => {
    if (!lane(req, res)) app(req, res);
  };
  expressApps.set(listener, app);
  return listener;
}
