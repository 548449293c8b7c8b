import { Registry } from 'prom-client';
import {
  DecisionMetrics,
  decisionOutcome,
  unroutedPath,
} from '../../../../../api/services/metrics/decisions';
import {
  parseExposition,
  sampleSum,
  samplesNamed,
  type Exposition,
} from '../../../../helpers/prometheus-text';

const tenantA = '11111111-1111-4111-8111-111111111111';
const tenantB = '22222222-2222-4222-8222-222222222222';

async function scrape(registry: Registry): Promise<Exposition> {
  return parseExposition(await registry.metrics());
}

describe('decisionOutcome', () => {
  it.each([
    [{ defined: true, result: true }, 'allow'],
    [{ defined: true, result: false }, 'deny'],
    [{ defined: true, result: { allow: true, reason: 'owner' } }, 'allow'],
    [{ defined: true, result: { allow: false } }, 'deny'],
    [{ defined: true, result: { allow: 'yes' } }, 'defined'],
    [{ defined: true, result: [true] }, 'defined'],
    [{ defined: true, result: 'admin' }, 'defined'],
    [{ defined: true, result: null }, 'defined'],
    [{ defined: false }, 'undefined'],
  ])('reads %j as %s', (answer, outcome) => {
    expect(decisionOutcome(answer)).toBe(outcome);
  });
});

describe('DecisionMetrics', () => {
  it('counts decisions by tenant, entrypoint and outcome, and times them', async () => {
    const registry = new Registry();
    const metrics = new DecisionMetrics({ registry });
    metrics.decided(tenantA, 'rbac/allow', { defined: true, result: true }, 40_000, 30_000);
    metrics.decided(tenantA, 'rbac/allow', { defined: true, result: true }, 2_000_000, 1_500_000);
    metrics.decided(tenantA, 'rbac/allow', { defined: true, result: false }, 20_000, 0);
    metrics.decided(tenantB, undefined, { defined: false }, 5_000, 0);
    metrics.failed(tenantB, 'rbac/allow', 300_000);

    const text = await scrape(registry);
    const decisions = (labels: Record<string, string>) =>
      sampleSum(text, 'verdict_decisions_total', labels);
    expect(decisions({ tenant: tenantA, path: 'rbac/allow', outcome: 'allow' })).toBe(2);
    expect(decisions({ tenant: tenantA, path: 'rbac/allow', outcome: 'deny' })).toBe(1);
    expect(decisions({ tenant: tenantB, path: unroutedPath, outcome: 'undefined' })).toBe(1);
    expect(decisions({ tenant: tenantB, path: 'rbac/allow', outcome: 'error' })).toBe(1);
    // Outcomes never seen are not exported.
    expect(samplesNamed(text, 'verdict_decisions_total')).toHaveLength(4);

    expect(sampleSum(text, 'verdict_decision_duration_seconds_count')).toBe(5);
    expect(sampleSum(text, 'verdict_decision_duration_seconds_sum')).toBeCloseTo(0.002365, 9);
    // 40 µs and 20 µs and 5 µs are within 50 µs; 2 ms and 300 µs are not.
    expect(sampleSum(text, 'verdict_decision_duration_seconds_bucket', { le: '0.00005' })).toBe(3);
    expect(sampleSum(text, 'verdict_decision_duration_seconds_bucket', { le: '0.0025' })).toBe(5);
    // Only decisions the engine evaluated are timed as evaluations.
    expect(sampleSum(text, 'verdict_decision_evaluation_duration_seconds_count')).toBe(2);
  });

  it('keeps counting into the same series between scrapes', async () => {
    const registry = new Registry();
    const metrics = new DecisionMetrics({ registry });
    metrics.decided(tenantA, 'p', { defined: true, result: 1 }, 1000, 500);
    expect(sampleSum(await scrape(registry), 'verdict_decisions_total')).toBe(1);
    metrics.decided(tenantA, 'p', { defined: true, result: 2 }, 1000, 500);
    const text = await scrape(registry);
    expect(sampleSum(text, 'verdict_decisions_total', { outcome: 'defined' })).toBe(2);
    expect(samplesNamed(text, 'verdict_decisions_total')).toHaveLength(1);
  });

  it('drops the tenant label when asked, summing every tenant into one series', async () => {
    const registry = new Registry();
    const metrics = new DecisionMetrics({ registry, tenantLabel: false });
    metrics.decided(tenantA, 'rbac/allow', { defined: true, result: true }, 1000, 0);
    metrics.decided(tenantB, 'rbac/allow', { defined: true, result: true }, 1000, 0);
    const [sample, ...others] = samplesNamed(await scrape(registry), 'verdict_decisions_total');
    expect(others).toHaveLength(0);
    expect(sample).toEqual({
      name: 'verdict_decisions_total',
      labels: { path: 'rbac/allow', outcome: 'allow' },
      value: 2,
    });
  });
});
