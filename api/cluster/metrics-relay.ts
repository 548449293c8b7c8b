/**
 * A cluster worker's side of the metrics: it reports its own metrics when the primary asks,
 * and when a scrape reaches it, it asks the primary for the whole process group's (every
 * worker's and the primary's, aggregated in metrics-host.ts), so any worker answers
 * `GET /metrics` for all of them.
 */
import { VerdictError, messageOf } from '../errors';
import type { Logger } from '../logger';
import type { MetricsExposition } from '../routes/metrics';
import type { MetricsSnapshot } from '../services/metrics';
import {
  isMetricsPrimaryMessage,
  type MetricsPrimaryMessage,
  type MetricsWorkerMessage,
} from './messages';

/** The worker's end of the channel to the primary, for metrics. */
export interface MetricsChannel {
  /** Throws when the channel is closed. */
  send(message: MetricsWorkerMessage): void;
  onMessage(listener: (message: unknown) => void): void;
  onDisconnect(listener: () => void): void;
}

/** The channel of this process, a cluster worker, to its primary. */
export function processMetricsChannel(logger: Logger): MetricsChannel {
  return {
    send(message) {
      if (process.send === undefined || !process.connected) {
        throw new VerdictError(
          'not_ready',
          'The primary process is gone; metrics are unavailable.',
        );
      }
      process.send(message, undefined, {}, (err: Error | null) => {
        if (err !== null) logger.warn({ err }, 'metrics could not be sent to the primary');
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

export interface MetricsRelayOptions {
  readonly channel: MetricsChannel;
  /** This worker's own metrics. */
  readonly own: () => Promise<MetricsSnapshot>;
  readonly logger: Logger;
  /** How long a scrape waits for the primary's answer (default 10000 ms). */
  readonly timeoutMs?: number;
}

interface Waiter {
  resolve(exposition: MetricsExposition): void;
  reject(err: Error): void;
  readonly timer: NodeJS.Timeout;
}

export class MetricsRelay {
  private readonly options: MetricsRelayOptions;
  private readonly timeoutMs: number;
  private readonly waiters = new Map<number, Waiter>();
  private nextId = 1;

  constructor(options: MetricsRelayOptions) {
    this.options = options;
    this.timeoutMs = Math.max(1, options.timeoutMs ?? 10_000);
    options.channel.onMessage((message) => {
      if (isMetricsPrimaryMessage(message)) this.answer(message);
    });
    options.channel.onDisconnect(() => {
      for (const id of [...this.waiters.keys()]) {
        this.settle(id, new VerdictError('not_ready', 'The primary process is gone.'));
      }
    });
  }

  /** The metrics of the whole process group, from the primary. */
  scrape(): Promise<MetricsExposition> {
    const id = this.nextId++;
    return new Promise<MetricsExposition>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.settle(
          id,
          new VerdictError(
            'not_ready',
            `The primary process did not answer with the cluster's metrics within ${this.timeoutMs} ms.`,
          ),
        );
      }, this.timeoutMs);
      this.waiters.set(id, { resolve, reject, timer });
      try {
        this.options.channel.send({ kind: 'verdict:metrics-request', id });
      } catch (err) {
        this.settle(id, err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  private answer(message: MetricsPrimaryMessage): void {
    if (message.kind === 'verdict:metrics-collect') {
      this.report(message.id);
      return;
    }
    if (message.kind === 'verdict:metrics-text') {
      this.settle(message.id, { contentType: message.contentType, text: message.text });
      return;
    }
    this.settle(
      message.id,
      new VerdictError(
        'not_ready',
        `The cluster's metrics could not be gathered: ${message.detail}`,
      ),
    );
  }

  private report(id: number): void {
    this.options
      .own()
      .then(
        (metrics) => {
          this.options.channel.send({ kind: 'verdict:metrics-report', id, metrics });
        },
        (err: unknown) => {
          // The primary's gathering times out and fails that scrape.
          this.options.logger.warn({ err: messageOf(err) }, 'worker metrics could not be read');
        },
      )
      .catch((err: unknown) => {
        this.options.logger.warn({ err: messageOf(err) }, 'worker metrics could not be sent');
      });
  }

  private settle(id: number, outcome: MetricsExposition | Error): void {
    const waiter = this.waiters.get(id);
    if (waiter === undefined) return;
    this.waiters.delete(id);
    clearTimeout(waiter.timer);
    if (outcome instanceof Error) waiter.reject(outcome);
    else waiter.resolve(outcome);
  }
}
