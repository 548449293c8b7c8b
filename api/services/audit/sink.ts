/**
 * Where decisions are recorded: the audit writer of this process (writer.ts), or, in a cluster
 * worker, the relay to the primary process that holds the writer (api/cluster/audit-relay.ts).
 * Request paths depend on this and nothing more, so both work the same for them.
 */
import type { AuditEntry } from './chain';

export interface AuditSink {
  /**
   * Queues the decision for the log and returns at once. Throws only for an entry no row can
   * be made of (a bug in the caller) or once the sink is closed.
   */
  record(entry: AuditEntry): unknown;
  /** Resolves once the decision's row is in the table; rejects when it is not in time. */
  recordStrict(entry: AuditEntry): Promise<unknown>;
  /** Resolves when what was recorded so far has been handed on (written or spooled). */
  flush(): Promise<void>;
  /** Hands on what is left and stops taking entries. */
  close(): Promise<void>;
}
