/**
 * Prometheus metrics of one process: a registry of its own (never prom-client's global one,
 * so tests can build several servers in one process), Node's default metrics, and Verdict's
 * decision, HTTP, engine, cache, audit and security-event metrics. `GET /metrics` renders it
 * (api/routes/metrics.ts); in cluster mode the primary aggregates every process's registry
 * (api/cluster/metrics-host.ts). docs/operations.md lists every metric.
 */
import {
  Registry,
  collectDefaultMetrics,
  type MetricObjectWithValues,
  type MetricValue,
} from 'prom-client';
import { AuditMetrics } from './audit';
import { BreakerMetrics } from './breakers';
import { DecisionMetrics } from './decisions';
import { EngineMetrics } from './engines';
import { HttpMetrics } from './http';
import { SecurityMetrics } from './security';

export { AuditMetrics, type AuditWriterState } from './audit';
export { BreakerMetrics, breakerStateValues } from './breakers';
export {
  DecisionMetrics,
  decisionOutcome,
  decisionOutcomes,
  unroutedPath,
  type DecisionOutcome,
} from './decisions';
export { EngineMetrics, type DecisionStackCounts } from './engines';
export { HttpMetrics, RouteCounts, decisionRoute, statusClassIndex, unmatchedRoute } from './http';
export { SecurityMetrics } from './security';

/** One registry's metrics as data (prom-client's JSON form), as cluster workers send them. */
export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

export interface VerdictMetricsOptions {
  /** Label decision and activation metrics by tenant (VERDICT_METRICS_TENANT_LABEL; default true). */
  readonly tenantLabel?: boolean;
}

export class VerdictMetrics {
  readonly registry = new Registry();
  readonly decisions: DecisionMetrics;
  readonly http: HttpMetrics;
  readonly engines: EngineMetrics;
  readonly audit: AuditMetrics;
  readonly breakers: BreakerMetrics;
  readonly security: SecurityMetrics;

  constructor(options: VerdictMetricsOptions = {}) {
    const tenantLabel = options.tenantLabel ?? true;
    collectDefaultMetrics({ register: this.registry });
    this.decisions = new DecisionMetrics({ registry: this.registry, tenantLabel });
    this.http = new HttpMetrics(this.registry);
    this.engines = new EngineMetrics({ registry: this.registry, tenantLabel });
    this.audit = new AuditMetrics(this.registry);
    this.breakers = new BreakerMetrics(this.registry);
    this.security = new SecurityMetrics(this.registry);
  }

  /** The Prometheus text format's content type. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in the Prometheus text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Every metric as data, for aggregation in the cluster primary. */
  snapshot(): Promise<MetricsSnapshot> {
    return this.registry.getMetricsAsJSON();
  }
}
