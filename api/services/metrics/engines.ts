/**
 * The engine pool, the decision cache and bundle activations. Pool and cache already keep
 * their own counts; these metrics read them when Prometheus scrapes, so nothing is added to
 * the decision path. Until `watch` is given a decision stack, they read zero.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DecisionCacheCounters } from '../decisions/cache';
import type { ActivationOutcome, EnginePoolStats } from '../decisions/engine-pool';

/** What these metrics read: the pool's and the cache's own counts. */
export interface DecisionStackCounts {
  readonly pool: { readonly counters: EnginePoolStats };
  readonly cache: { readonly counters: DecisionCacheCounters };
}

export interface EngineMetricsOptions {
  readonly registry: Registry;
  /** Whether activations are counted per tenant (default true). */
  readonly tenantLabel?: boolean;
}

/** A counter whose value is read from a source at scrape time. */
function readCounter(
  registry: Registry,
  name: string,
  help: string,
  read: () => number | undefined,
): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read() ?? 0);
    },
  });
}

function readGauge(
  registry: Registry,
  name: string,
  help: string,
  read: () => number | undefined,
): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read() ?? 0);
    },
  });
}

export class EngineMetrics {
  private stack: DecisionStackCounts | undefined;
  private maxEngines = 0;
  private readonly activations: Counter;
  private readonly tenantLabel: boolean;

  constructor(options: EngineMetricsOptions) {
    const { registry } = options;
    this.tenantLabel = options.tenantLabel ?? true;
    const pool = (): EnginePoolStats | undefined => this.stack?.pool.counters;
    const cache = (): DecisionCacheCounters | undefined => this.stack?.cache.counters;

    readGauge(
      registry,
      'verdict_engine_pool_engines',
      'Compiled policy engines (bundle versions) in memory.',
      () => pool()?.engines,
    );
    readGauge(
      registry,
      'verdict_engine_pool_tenants',
      'Tenants whose engines are in memory.',
      () => pool()?.tenants,
    );
    readGauge(
      registry,
      'verdict_engine_pool_max_engines',
      'Most engines kept in memory (VERDICT_ENGINE_POOL_MAX); least recently used tenants are evicted beyond.',
      () => this.maxEngines,
    );
    readCounter(
      registry,
      'verdict_engine_pool_loads_total',
      "Loads of a tenant's engines (first decision, reload after an activation).",
      () => pool()?.loads,
    );
    readCounter(
      registry,
      'verdict_engine_pool_load_failures_total',
      "Loads of a tenant's engines that failed (database unavailable, bundle that does not load).",
      () => pool()?.loadFailures,
    );
    readCounter(
      registry,
      'verdict_engine_pool_evictions_total',
      "Tenants' engines evicted to keep the pool within its size.",
      () => pool()?.evictions,
    );
    readCounter(
      registry,
      'verdict_engine_pool_swaps_total',
      "Resident tenants' engines replaced by a reload after an activation.",
      () => pool()?.swaps,
    );

    new Counter({
      name: 'verdict_decision_cache_lookups_total',
      help: 'Decision cache look-ups by layer (l1 in process, l2 Redis) and result (hit, miss).',
      labelNames: ['layer', 'result'],
      registers: [registry],
      collect() {
        this.reset();
        const counts = cache();
        const l1Hits = counts?.l1Hits ?? 0;
        const l2Hits = counts?.l2Hits ?? 0;
        const l2Lookups = counts?.l2Lookups ?? 0;
        // Every L1 miss ends as an L2 hit or a miss of every layer asked.
        this.inc({ layer: 'l1', result: 'hit' }, l1Hits);
        this.inc({ layer: 'l1', result: 'miss' }, l2Hits + (counts?.misses ?? 0));
        this.inc({ layer: 'l2', result: 'hit' }, l2Hits);
        this.inc({ layer: 'l2', result: 'miss' }, Math.max(0, l2Lookups - l2Hits));
      },
    });
    readCounter(
      registry,
      'verdict_decision_cache_misses_total',
      'Decisions no cache layer answered (evaluated, then cached).',
      () => cache()?.misses,
    );
    readCounter(
      registry,
      'verdict_decision_cache_bypasses_total',
      'Decisions that skipped the cache (bundle cache off, or auto measured evaluation as cheaper than a look-up).',
      () => cache()?.bypasses,
    );
    readCounter(
      registry,
      'verdict_decision_cache_l2_errors_total',
      'Redis (L2) reads and writes of the decision cache that failed (each counted as a miss).',
      () => cache()?.l2Errors,
    );
    readGauge(
      registry,
      'verdict_decision_cache_entries',
      'Decisions held in the in-process cache (L1).',
      () => cache()?.entries,
    );

    this.activations = new Counter({
      name: 'verdict_bundle_activations_total',
      help: "Bundle activations (and rollout changes) this process's engine pool was told of, by tenant and outcome: reloaded (the new engines serve), deferred (tenant not in memory: its next decision loads them), failed (the old engines keep serving).",
      labelNames: this.tenantLabel ? ['tenant', 'outcome'] : ['outcome'],
      registers: [registry],
    });
  }

  /** Reads the pool and cache of this decision stack from now on. */
  watch(stack: DecisionStackCounts, maxEngines: number): void {
    this.stack = stack;
    this.maxEngines = maxEngines;
  }

  /** The engine pool's report of one activation (EnginePoolOptions.onActivation). */
  readonly activated = (tenantId: string, outcome: ActivationOutcome): void => {
    const labels = this.tenantLabel ? { tenant: tenantId, outcome } : { outcome };
    this.activations.inc(labels);
  };
}
