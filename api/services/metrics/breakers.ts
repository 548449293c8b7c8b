/**
 * Circuit breakers (api/services/breaker.ts): each dependency's state, read at scrape time
 * (0 closed, 1 half-open, 2 open), and its transitions, counted as they happen.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { BreakerState, CircuitBreaker } from '../breaker';

export const breakerStateValues: Readonly<Record<BreakerState, number>> = {
  closed: 0,
  'half-open': 1,
  open: 2,
};

export class BreakerMetrics {
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly transitions: Counter<'dependency' | 'to'>;

  constructor(registry: Registry) {
    const breakers = this.breakers;
    new Gauge({
      name: 'verdict_breaker_state',
      help: 'Circuit breaker of each dependency: 0 closed, 1 half-open (probing), 2 open (not called).',
      labelNames: ['dependency'],
      registers: [registry],
      collect() {
        for (const [dependency, breaker] of breakers) {
          this.set({ dependency }, breakerStateValues[breaker.state]);
        }
      },
    });
    this.transitions = new Counter({
      name: 'verdict_breaker_transitions_total',
      help: 'Changes of state of each dependency circuit breaker, by the state entered.',
      labelNames: ['dependency', 'to'],
      registers: [registry],
    });
  }

  /** Reports `breaker` under its name from now on. */
  watch(breaker: CircuitBreaker): void {
    this.breakers.set(breaker.name, breaker);
    breaker.onTransition((_from, to) => {
      this.transitions.inc({ dependency: breaker.name, to });
    });
  }
}
