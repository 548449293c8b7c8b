/**
 * A cluster worker's audit log: decisions are sent to the primary process, whose audit writer
 * (one per instance, with its spool and data-folder lock) writes them in batches; the workers
 * answer requests, the primary writes the log (docs/architecture.md, "Cluster mode").
 *
 * Entries go in batches, a few milliseconds apart, so the channel carries one message per
 * batch rather than one per decision. A strict entry (a tenant that answers only logged
 * decisions) is sent at once and resolves when the primary reports its row in the table.
 */
import { VerdictError } from '../errors';
import type { Logger } from '../logger';
import type { AuditEntry } from '../services/audit/chain';
import type { AuditSink } from '../services/audit/sink';
import { entryProblem } from '../services/audit/writer';
import { isPrimaryMessage, type PrimaryMessage, type WorkerMessage } from './messages';

/** The worker's end of the channel to the primary. */
export interface PrimaryChannel {
  /** Throws when the channel is closed. */
  send(message: WorkerMessage): void;
  onMessage(listener: (message: unknown) => void): void;
  onDisconnect(listener: () => void): void;
}

/** The channel of this process, a cluster worker, to its primary. */
export function processChannel(logger: Logger): PrimaryChannel {
  return {
    send(message) {
      if (process.send === undefined || !process.connected) {
        throw new VerdictError(
          'not_ready',
          'The primary process is gone; no decision can be logged.',
        );
      }
      process.send(message, undefined, {}, (err: Error | null) => {
        // Too late to fail the request; the primary's absence is handled on disconnect.
        if (err !== null) logger.error({ err }, 'audit entries could not be sent to the primary');
      });
    },
    onMessage(listener) {
      process.on('message', listener);
    },
    onDisconnect(listener) {
      process.on('disconnect', listener);
    },
  };
}

export interface AuditRelayOptions {
  /** Entries sent in one message at most (default 256). */
  readonly batchSize?: number;
  /** Longest an entry waits for its batch, in ms (default 5). */
  readonly delayMs?: number;
}

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

export class AuditRelay implements AuditSink {
  private readonly batchSize: number;
  private readonly delayMs: number;
  private entries: AuditEntry[] = [];
  private strict: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private nextId = 1;
  private readonly waiters = new Map<number, Waiter>();
  private closed = false;
  private disconnected = false;

  constructor(
    private readonly channel: PrimaryChannel,
    options: AuditRelayOptions = {},
  ) {
    this.batchSize = Math.max(1, options.batchSize ?? 256);
    this.delayMs = Math.max(0, options.delayMs ?? 5);
    channel.onMessage((message) => {
      if (isPrimaryMessage(message)) this.answer(message);
    });
    channel.onDisconnect(() => {
      this.disconnected = true;
      this.failAll('The primary process is gone; the audit row was not confirmed.');
    });
  }

  record(entry: AuditEntry): void {
    this.add(entry, 0);
    if (this.entries.length >= this.batchSize) this.send();
    else
      this.timer ??= setTimeout(() => {
        this.send();
      }, this.delayMs);
  }

  recordStrict(entry: AuditEntry): Promise<void> {
    const id = this.nextId++;
    const confirmed = this.waitFor(id);
    try {
      this.add(entry, id);
      this.send();
    } catch (err) {
      this.waiters.delete(id);
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return confirmed;
  }

  /** Sends what is waiting and resolves once the primary has written or spooled it. */
  flush(): Promise<void> {
    if (this.disconnected) return Promise.resolve();
    this.send();
    const id = this.nextId++;
    const flushed = this.waitFor(id);
    try {
      this.channel.send({ kind: 'verdict:audit-flush', id });
    } catch {
      this.waiters.delete(id);
      return Promise.resolve();
    }
    return flushed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flush();
  }

  private add(entry: AuditEntry, strictId: number): void {
    if (this.closed) throw new VerdictError('not_ready', 'The audit log is closed.');
    if (this.disconnected) {
      throw new VerdictError(
        'not_ready',
        'The primary process is gone; no decision can be logged.',
      );
    }
    // The same check as the writer's, so a bad entry fails its own request here.
    const problem = entryProblem(entry);
    if (problem !== undefined) {
      throw new VerdictError('internal', `Cannot record the decision: ${problem}.`);
    }
    this.entries.push(entry);
    this.strict.push(strictId);
  }

  private send(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.entries.length === 0) return;
    const batch: WorkerMessage = {
      kind: 'verdict:audit',
      entries: this.entries,
      strict: this.strict,
    };
    this.entries = [];
    this.strict = [];
    this.channel.send(batch);
  }

  private waitFor(id: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiters.set(id, { resolve, reject });
    });
  }

  private answer(message: PrimaryMessage): void {
    const waiter = this.waiters.get(message.id);
    if (waiter === undefined) return;
    this.waiters.delete(message.id);
    if (message.kind === 'verdict:audit-done') waiter.resolve();
    else waiter.reject(new VerdictError('database_unavailable', message.detail));
  }

  private failAll(detail: string): void {
    for (const waiter of this.waiters.values()) {
      waiter.reject(new VerdictError('database_unavailable', detail));
    }
    this.waiters.clear();
  }
}
