/**
 * What the primary process and its HTTP workers tell each other over the cluster's IPC
 * channel (structured clone, so dates and nested JSON values cross as they are). Workers send
 * audit entries in batches; the primary answers strict entries and flushes by id.
 */
import type { AuditEntry } from '../services/audit/chain';

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
