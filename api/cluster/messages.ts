/**
 * What the primary process and its HTTP workers tell each other over the cluster's IPC
 * channel (structured clone, so dates and nested JSON values cross as they are). Workers send
 * audit entries in batches; the primary answers strict entries and flushes by id. A worker
 * asked for `/metrics` asks the primary, which gathers every worker's metrics and its own.
 */
import type { AuditEntry } from '../services/audit/chain';
import type { MetricsSnapshot } from '../services/metrics';

/** A worker's batch of decisions to log; `strict[i]` is the reply id of entry i, or 0. */
export interface AuditBatch {
  readonly kind: 'verdict:audit';
  readonly entries: readonly AuditEntry[];
  readonly strict: readonly number[];
}

/** A worker asks to be told once everything it sent so far is written or spooled. */
export interface AuditFlushRequest {
  readonly kind: 'verdict:audit-flush';
  readonly id: number;
}

export type WorkerMessage = AuditBatch | AuditFlushRequest;

/** A strict entry's row is in the table, or a flush asked for has run. */
export interface AuditDone {
  readonly kind: 'verdict:audit-done';
  readonly id: number;
}

/** A strict entry's row could not be written in time; `detail` says why. */
export interface AuditFailed {
  readonly kind: 'verdict:audit-failed';
  readonly id: number;
  readonly detail: string;
}

export type PrimaryMessage = AuditDone | AuditFailed;

function kindOf(message: unknown): unknown {
  return typeof message === 'object' && message !== null && 'kind' in message
    ? message.kind
    : undefined;
}

export function isWorkerMessage(message: unknown): message is WorkerMessage {
  const kind = kindOf(message);
  return kind === 'verdict:audit' || kind === 'verdict:audit-flush';
}

export function isPrimaryMessage(message: unknown): message is PrimaryMessage {
  const kind = kindOf(message);
  return kind === 'verdict:audit-done' || kind === 'verdict:audit-failed';
}

/** A worker answering `GET /metrics` asks for the metrics of the whole process group. */
export interface MetricsRequest {
  readonly kind: 'verdict:metrics-request';
  readonly id: number;
}

/** A worker's metrics, for the primary's gathering `id`. */
export interface MetricsReport {
  readonly kind: 'verdict:metrics-report';
  readonly id: number;
  readonly metrics: MetricsSnapshot;
}

export type MetricsWorkerMessage = MetricsRequest | MetricsReport;

/** The primary asks each worker for its metrics (gathering `id`). */
export interface MetricsCollect {
  readonly kind: 'verdict:metrics-collect';
  readonly id: number;
}

/** The process group's metrics in the Prometheus text format, for the worker's request `id`. */
export interface MetricsText {
  readonly kind: 'verdict:metrics-text';
  readonly id: number;
  readonly contentType: string;
  readonly text: string;
}

/** The metrics of request `id` could not be gathered; `detail` says why. */
export interface MetricsFailed {
  readonly kind: 'verdict:metrics-failed';
  readonly id: number;
  readonly detail: string;
}

export type MetricsPrimaryMessage = MetricsCollect | MetricsText | MetricsFailed;

export function isMetricsWorkerMessage(message: unknown): message is MetricsWorkerMessage {
  const kind = kindOf(message);
  return kind === 'verdict:metrics-request' || kind === 'verdict:metrics-report';
}

export function isMetricsPrimaryMessage(message: unknown): message is MetricsPrimaryMessage {
  const kind = kindOf(message);
  return (
    kind === 'verdict:metrics-collect' ||
    kind === 'verdict:metrics-text' ||
    kind === 'verdict:metrics-failed'
  );
}
