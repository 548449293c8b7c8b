/**
 * The primary's side of the workers' audit log: every batch a worker sends is recorded by
 * the one audit writer of the process, in the order it arrives; strict entries and flushes
 * are answered by id once the writer has them in the table (or spooled, for a flush).
 */
import { messageOf } from '../errors';
import type { Logger } from '../logger';
import type { AuditWriter } from '../services/audit/writer';
import { isWorkerMessage, type AuditBatch, type PrimaryMessage } from './messages';

/** The primary's end of the channel to one worker. */
export interface WorkerChannel {
  send(message: PrimaryMessage): void;
  isConnected(): boolean;
}

export function hostAudit(
  writer: AuditWriter,
  logger: Logger,
): (worker: WorkerChannel, message: unknown) => void {
  const reply = (worker: WorkerChannel, message: PrimaryMessage): void => {
    // A worker that exited meanwhile has nobody left to tell.
    if (worker.isConnected()) worker.send(message);
  };
  const record = (worker: WorkerChannel, batch: AuditBatch): void => {
    batch.entries.forEach((entry, i) => {
      const id = batch.strict[i] ?? 0;
      if (id === 0) {
        try {
          writer.record(entry);
        } catch (err) {
          logger.error({ err: messageOf(err) }, 'a worker sent a decision the audit log refused');
        }
        return;
      }
      writer.recordStrict(entry).then(
        () => {
          reply(worker, { kind: 'verdict:audit-done', id });
        },
        (err: unknown) => {
          reply(worker, { kind: 'verdict:audit-failed', id, detail: messageOf(err) });
        },
      );
    });
  };
  return (worker, message) => {
    if (!isWorkerMessage(message)) return;
    if (message.kind === 'verdict:audit') {
      record(worker, message);
      return;
    }
    const { id } = message;
    writer.flush().then(
      () => {
        reply(worker, { kind: 'verdict:audit-done', id });
      },
      (err: unknown) => {
        reply(worker, { kind: 'verdict:audit-failed', id, detail: messageOf(err) });
      },
    );
  };
}
