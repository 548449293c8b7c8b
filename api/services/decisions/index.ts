/** The decision service: engine pool, decision cache, tenant settings, and their wiring. */
import type { Tracer } from '@opentelemetry/api';
import type { Knex } from 'knex';
import type { Config } from '../../config';
import type { Logger } from '../../logger';
import type { CircuitBreaker } from '../breaker';
import type { CacheStore, Unsubscribe } from '../cache';
import type { VerdictMetrics } from '../metrics';
import { DecisionCache } from './cache';
import { EnginePool, type ActiveBundle } from './engine-pool';
import { DecisionService, type DecisionAudit } from './service';
import { TenantSettings } from './tenant-settings';

export {
  DecisionCache,
  cachePlan,
  canonicalInputJson,
  type CachedAnswer,
  type CachePlan,
  type CostStats,
} from './cache';
export {
  EnginePool,
  activationChannel,
  parseActivation,
  routePath,
  type ActivationOutcome,
  type ActiveBundle,
  type ActiveBundleLoader,
  type LoadedBundle,
  type TenantEngines,
} from './engine-pool';
export {
  DecisionService,
  type Decision,
  type DecideRequest,
  type DecisionAudit,
  type DecisionObserver,
} from './service';
export { TenantSettings } from './tenant-settings';

/**
 * How long a tenant's first decision waits for its active bundles to be read before the read
 * counts as failed (a hung database would otherwise hold every decision of a cold tenant).
 */
const bundleReadTimeoutMs = 10_000;

/** 64 KiB WebAssembly pages per MiB. */
const pagesPerMb = 16;

export interface DecisionServiceSetup {
  knex: Knex;
  cache: CacheStore;
  audit: DecisionAudit;
  logger: Logger;
  /** The tenant's active bundle versions (the bundle registry's `loadActiveBundles`). */
  loadActiveBundles: (knex: Knex, tenantId: string) => Promise<readonly ActiveBundle[]>;
  config: Pick<
    Config,
    | 'enginePoolMax'
    | 'engineMemoryMb'
    | 'engineStepBudget'
    | 'decisionCacheMax'
    | 'decisionCacheTtlMs'
  >;
  /**
   * The database's circuit breaker: bundle and settings reads go through it, so a tenant not
   * yet loaded gets a 503 at once while the database is down.
   */
  databaseBreaker?: CircuitBreaker | undefined;
  /** Where decision spans go; undefined with tracing off. */
  tracer?: Tracer | undefined;
  /** Where decisions, activations, the pool and the cache are measured; nowhere when absent. */
  metrics?: Pick<VerdictMetrics, 'decisions' | 'engines'> | undefined;
}

export interface DecisionStack {
  readonly service: DecisionService;
  readonly pool: EnginePool;
  readonly cache: DecisionCache;
  /** Stops listening for activations. */
  readonly stop: Unsubscribe;
}

/** Builds the decision service and subscribes its pool to bundle activations. */
export async function openDecisions(setup: DecisionServiceSetup): Promise<DecisionStack> {
  const { knex, config, logger, metrics } = setup;
  const pool = new EnginePool({
    load: (tenantId) =>
      setup.databaseBreaker === undefined
        ? setup.loadActiveBundles(knex, tenantId)
        : setup.databaseBreaker.run(
            () => setup.loadActiveBundles(knex, tenantId),
            bundleReadTimeoutMs,
          ),
    logger,
    ...(metrics === undefined ? {} : { onActivation: metrics.engines.activated }),
    maxEngines: config.enginePoolMax,
    engine: {
      maxMemoryPages: config.engineMemoryMb * pagesPerMb,
      stepBudget: config.engineStepBudget,
    },
  });
  const cache = new DecisionCache({
    maxEntries: config.decisionCacheMax,
    ttlMs: config.decisionCacheTtlMs,
    store: setup.cache,
    logger,
  });
  const service = new DecisionService({
    pool,
    cache,
    audit: setup.audit,
    settings: new TenantSettings({ knex, breaker: setup.databaseBreaker }),
    logger,
    observer: metrics?.decisions,
    tracer: setup.tracer,
  });
  metrics?.engines.watch({ pool, cache }, config.enginePoolMax);
  const stop = await pool.listen(setup.cache);
  return { service, pool, cache, stop };
}
