import { Registry } from 'prom-client';
import type { DecisionCacheCounters } from '../../../../../api/services/decisions/cache';
import type { EnginePoolStats } from '../../../../../api/services/decisions/engine-pool';
import { EngineMetrics } from '../../../../../api/services/metrics/engines';
import { parseExposition, sampleSum } from '../../../../helpers/prometheus-text';

const tenant = '33333333-3333-4333-8333-333333333333';

function stack(): {
  pool: { counters: EnginePoolStats };
  cache: { counters: DecisionCacheCounters };
} {
  return {
    pool: {
      counters: { tenants: 2, engines: 3, loads: 4, swaps: 1, evictions: 5, loadFailures: 1 },
    },
    cache: {
      counters: {
        l1Hits: 10,
        l2Hits: 3,
        l2Lookups: 7,
        misses: 4,
        bypasses: 6,
        l2Errors: 2,
        entries: 9,
      },
    },
  };
}

describe('EngineMetrics', () => {
  it('reads zero until it watches a decision stack', async () => {
    const registry = new Registry();
    new EngineMetrics({ registry });
    const text = parseExposition(await registry.metrics());
    expect(sampleSum(text, 'verdict_engine_pool_engines')).toBe(0);
    expect(sampleSum(text, 'verdict_engine_pool_loads_total')).toBe(0);
    expect(sampleSum(text, 'verdict_decision_cache_lookups_total')).toBe(0);
  });

  it("reads the pool's and the cache's counts when scraped", async () => {
    const registry = new Registry();
    const metrics = new EngineMetrics({ registry });
    const watched = stack();
    metrics.watch(watched, 1000);
    let text = parseExposition(await registry.metrics());
    expect(sampleSum(text, 'verdict_engine_pool_engines')).toBe(3);
    expect(sampleSum(text, 'verdict_engine_pool_tenants')).toBe(2);
    expect(sampleSum(text, 'verdict_engine_pool_max_engines')).toBe(1000);
    expect(sampleSum(text, 'verdict_engine_pool_loads_total')).toBe(4);
    expect(sampleSum(text, 'verdict_engine_pool_load_failures_total')).toBe(1);
    expect(sampleSum(text, 'verdict_engine_pool_evictions_total')).toBe(5);
    expect(sampleSum(text, 'verdict_engine_pool_swaps_total')).toBe(1);
    const lookups = (layer: string, result: string) =>
      sampleSum(text, 'verdict_decision_cache_lookups_total', { layer, result });
    expect(lookups('l1', 'hit')).toBe(10);
    // Every L1 miss was an L2 hit or a miss of every layer.
    expect(lookups('l1', 'miss')).toBe(3 + 4);
    expect(lookups('l2', 'hit')).toBe(3);
    expect(lookups('l2', 'miss')).toBe(7 - 3);
    expect(sampleSum(text, 'verdict_decision_cache_misses_total')).toBe(4);
    expect(sampleSum(text, 'verdict_decision_cache_bypasses_total')).toBe(6);
    expect(sampleSum(text, 'verdict_decision_cache_l2_errors_total')).toBe(2);
    expect(sampleSum(text, 'verdict_decision_cache_entries')).toBe(9);

    // Counts read at the next scrape are the sources' new counts, not added twice.
    watched.pool.counters = { ...watched.pool.counters, loads: 6 };
    text = parseExposition(await registry.metrics());
    expect(sampleSum(text, 'verdict_engine_pool_loads_total')).toBe(6);
    expect(lookups('l1', 'hit')).toBe(10);
  });

  it('counts activations by tenant and outcome, or by outcome alone', async () => {
    const registry = new Registry();
    const metrics = new EngineMetrics({ registry });
    metrics.activated(tenant, 'reloaded');
    metrics.activated(tenant, 'reloaded');
    metrics.activated(tenant, 'failed');
    const text = parseExposition(await registry.metrics());
    expect(
      sampleSum(text, 'verdict_bundle_activations_total', { tenant, outcome: 'reloaded' }),
    ).toBe(2);
    expect(sampleSum(text, 'verdict_bundle_activations_total', { tenant, outcome: 'failed' })).toBe(
      1,
    );

    const untenanted = new Registry();
    const without = new EngineMetrics({ registry: untenanted, tenantLabel: false });
    without.activated(tenant, 'deferred');
    const samples = parseExposition(await untenanted.metrics()).samples.filter(
      (s) => s.name === 'verdict_bundle_activations_total',
    );
    expect(samples).toEqual([
      { name: 'verdict_bundle_activations_total', labels: { outcome: 'deferred' }, value: 1 },
    ]);
  });
});
