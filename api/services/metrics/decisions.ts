/**
 * Decision metrics: decisions by tenant, path and outcome, and how long they took. The
 * decision path only adds one to a plain number (cells cached per tenant and path); the
 * counter reads the cells when Prometheus scrapes, so a decision pays no label hashing.
 *
 * Labels stay bounded: `path` is the bundle entrypoint that answered (a bundle declares a
 * handful), never the path as requested, which a caller can make up at will; `tenant` can be
 * dropped (VERDICT_METRICS_TENANT_LABEL=off) when a process serves many thousands of tenants.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { deriveAllowed, type JsonValue } from '../audit';
import type { CachedAnswer } from '../decisions/cache';
import type { DecisionObserver } from '../decisions/service';

/**
 * How a decision came out. `allow` and `deny` are results that say so (a boolean, or an
 * object with a boolean `allow`, as the audit log's `allowed` column reads them); `defined` is
 * any other result; `undefined` is no result (OPA's undefined); `error` is a failed decision.
 */
export const decisionOutcomes = ['allow', 'deny', 'defined', 'undefined', 'error'] as const;
export type DecisionOutcome = (typeof decisionOutcomes)[number];

const outcomeIndex: Readonly<Record<DecisionOutcome, number>> = {
  allow: 0,
  deny: 1,
  defined: 2,
  undefined: 3,
  error: 4,
};

/** The `path` label of decisions no bundle entrypoint answered (unknown paths, early errors). */
export const unroutedPath = '(none)';

/** From 10 µs to 1 s: cached answers take microseconds, evaluations up to milliseconds. */
export const decisionBuckets: readonly number[] = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
  0.25, 1,
];

export function decisionOutcome(answer: CachedAnswer): DecisionOutcome {
  if (!answer.defined) return 'undefined';
  // Results come from JSON text (the engine's answer or the cache's), so they are JSON values.
  const allowed = deriveAllowed(answer.result as JsonValue);
  if (allowed === null) return 'defined';
  return allowed ? 'allow' : 'deny';
}

export interface DecisionMetricsOptions {
  readonly registry: Registry;
  /** Whether decisions are counted per tenant (default true). */
  readonly tenantLabel?: boolean;
}

export class DecisionMetrics implements DecisionObserver {
  /** Counts per outcome (indexed as `decisionOutcomes`), by tenant ('' without the label), then path. */
  private readonly cells = new Map<string, Map<string, number[]>>();
  private readonly tenantLabel: boolean;
  private readonly duration: Histogram;
  private readonly evaluation: Histogram;

  constructor(options: DecisionMetricsOptions) {
    this.tenantLabel = options.tenantLabel ?? true;
    const registers = [options.registry];
    const cells = this.cells;
    const tenantLabel = this.tenantLabel;
    new Counter({
      name: 'verdict_decisions_total',
      help: 'Decisions answered, by tenant, bundle entrypoint (path) and outcome (allow, deny, defined, undefined, error).',
      labelNames: tenantLabel ? ['tenant', 'path', 'outcome'] : ['path', 'outcome'],
      registers,
      collect() {
        this.reset();
        for (const [tenant, paths] of cells) {
          for (const [path, counts] of paths) {
            counts.forEach((count, i) => {
              if (count === 0) return;
              const outcome = decisionOutcomes[i] as DecisionOutcome;
              this.inc(tenantLabel ? { tenant, path, outcome } : { path, outcome }, count);
            });
          }
        }
      },
    });
    this.duration = new Histogram({
      name: 'verdict_decision_duration_seconds',
      help: 'Time from the start of a decision to its answer (cache lookup, evaluation and audit record), failed decisions included.',
      buckets: [...decisionBuckets],
      registers,
    });
    this.evaluation = new Histogram({
      name: 'verdict_decision_evaluation_duration_seconds',
      help: 'Time the policy engine took for decisions it evaluated (cache misses and bypasses).',
      buckets: [...decisionBuckets],
      registers,
    });
  }

  decided(
    tenantId: string,
    entrypoint: string | undefined,
    answer: CachedAnswer,
    totalNs: number,
    evalNs: number,
  ): void {
    this.count(tenantId, entrypoint, outcomeIndex[decisionOutcome(answer)]);
    this.duration.observe(totalNs / 1e9);
    if (evalNs > 0) this.evaluation.observe(evalNs / 1e9);
  }

  failed(tenantId: string, entrypoint: string | undefined, totalNs: number): void {
    this.count(tenantId, entrypoint, outcomeIndex.error);
    this.duration.observe(totalNs / 1e9);
  }

  private count(tenantId: string, entrypoint: string | undefined, outcome: number): void {
    const tenant = this.tenantLabel ? tenantId : '';
    let paths = this.cells.get(tenant);
    if (paths === undefined) {
      paths = new Map();
      this.cells.set(tenant, paths);
    }
    const path = entrypoint ?? unroutedPath;
    let counts = paths.get(path);
    if (counts === undefined) {
      counts = decisionOutcomes.map(() => 0);
      paths.set(path, counts);
    }
    counts[outcome] = (counts[outcome] ?? 0) + 1;
  }
}
