import { Registry } from 'prom-client';
import { CircuitBreaker } from '../../../../../api/services/breaker';
import { BreakerMetrics } from '../../../../../api/services/metrics/breakers';
import { parseExposition, sampleSum } from '../../../../helpers/prometheus-text';

describe('BreakerMetrics', () => {
  it("shows each breaker's state when scraped and counts its transitions", async () => {
    const registry = new Registry();
    const metrics = new BreakerMetrics(registry);
    let now = 0;
    const redis = new CircuitBreaker({
      name: 'redis',
      failureThreshold: 1,
      openMs: 100,
      clock: () => now,
    });
    const database = new CircuitBreaker({ name: 'database' });
    metrics.watch(redis);
    metrics.watch(database);

    const closed = parseExposition(await registry.metrics());
    expect(sampleSum(closed, 'verdict_breaker_state', { dependency: 'redis' })).toBe(0);
    expect(sampleSum(closed, 'verdict_breaker_state', { dependency: 'database' })).toBe(0);

    await expect(redis.run(() => Promise.reject(new Error('down')))).rejects.toThrow();
    const open = parseExposition(await registry.metrics());
    expect(sampleSum(open, 'verdict_breaker_state', { dependency: 'redis' })).toBe(2);
    expect(sampleSum(open, 'verdict_breaker_state', { dependency: 'database' })).toBe(0);

    now = 100;
    let finish: () => void = () => undefined;
    const probe = redis.run(() => new Promise<void>((resolve) => (finish = resolve)));
    const probing = parseExposition(await registry.metrics());
    expect(sampleSum(probing, 'verdict_breaker_state', { dependency: 'redis' })).toBe(1);
    finish();
    await probe;

    const text = parseExposition(await registry.metrics());
    expect(sampleSum(text, 'verdict_breaker_state', { dependency: 'redis' })).toBe(0);
    const moves = (to: string) =>
      sampleSum(text, 'verdict_breaker_transitions_total', { dependency: 'redis', to });
    expect([moves('open'), moves('half-open'), moves('closed')]).toEqual([1, 1, 1]);
  });
});
