/**
 * The primary's side of `GET /metrics` in cluster mode. A scrape reaches one worker, which
 * asks the primary; the primary asks every worker for its metrics (as data), adds its own
 * (the audit writer lives here), merges them with prom-client's AggregatorRegistry (counters
 * and histograms summed, each metric by its own aggregator) and answers the asking worker
 * with the text. A worker that exits meanwhile is left out; one that does not answer in time
 * fails the scrape: a gap in the series reads better than counters that seem to fall.
 */
import { AggregatorRegistry } from 'prom-client';
import { VerdictError, messageOf } from '../errors';
import type { Logger } from '../logger';
import type { MetricsSnapshot } from '../services/metrics';
import { isMetricsWorkerMessage, type MetricsPrimaryMessage, type MetricsReport } from './messages';

/** The primary's end of the channel to one worker (a cluster Worker fits). */
export interface MetricsPeer {
  readonly id: number;
  isConnected(): boolean;
  send(message: MetricsPrimaryMessage): void;
}

export interface MetricsHostOptions {
  /** The primary's own metrics. */
  readonly own: () => Promise<MetricsSnapshot>;
  /** The workers running now. */
  readonly workers: () => readonly MetricsPeer[];
  readonly logger: Logger;
  /** How long a gathering waits for the workers' reports (default 5000 ms). */
  readonly timeoutMs?: number;
}

/** Metrics in the Prometheus text format. */
export interface GatheredMetrics {
  readonly contentType: string;
  readonly text: string;
}

interface Gathering {
  readonly waiting: Set<number>;
  readonly reports: MetricsSnapshot[];
  /** Resolves the gathering once nobody is left to wait for. */
  check(): void;
}

export class MetricsHost {
  private readonly options: MetricsHostOptions;
  private readonly timeoutMs: number;
  private readonly gatherings = new Map<number, Gathering>();
  private nextId = 1;

  constructor(options: MetricsHostOptions) {
    this.options = options;
    this.timeoutMs = Math.max(1, options.timeoutMs ?? 5000);
  }

  /** Handles a worker's message if it is about metrics; ignores any other. */
  handle(worker: MetricsPeer, message: unknown): void {
    if (!isMetricsWorkerMessage(message)) return;
    if (message.kind === 'verdict:metrics-report') {
      this.report(worker.id, message);
      return;
    }
    const reply = (answer: MetricsPrimaryMessage): void => {
      // A worker that exited meanwhile has nobody left to tell.
      if (worker.isConnected()) worker.send(answer);
    };
    const { id } = message;
    this.gather().then(
      ({ contentType, text }) => {
        reply({ kind: 'verdict:metrics-text', id, contentType, text });
      },
      (err: unknown) => {
        this.options.logger.warn({ err: messageOf(err) }, 'cluster metrics could not be gathered');
        reply({ kind: 'verdict:metrics-failed', id, detail: messageOf(err) });
      },
    );
  }

  /** A worker exited: gatherings under way stop waiting for it. */
  workerGone(workerId: number): void {
    for (const gathering of this.gatherings.values()) {
      if (gathering.waiting.delete(workerId)) gathering.check();
    }
  }

  /** The metrics of every worker and of this process, aggregated. */
  async gather(): Promise<GatheredMetrics> {
    const reports = await this.collect();
    const own = await this.options.own();
    const registry = AggregatorRegistry.aggregate([...reports, own]);
    return { contentType: registry.contentType, text: await registry.metrics() };
  }

  private collect(): Promise<MetricsSnapshot[]> {
    const id = this.nextId++;
    const peers = this.options.workers().filter((worker) => worker.isConnected());
    return new Promise<MetricsSnapshot[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.gatherings.delete(id);
        const late = [...gathering.waiting].join(', ');
        reject(
          new VerdictError(
            'not_ready',
            `Worker ${late} did not report its metrics within ${this.timeoutMs} ms; the next scrape asks again.`,
          ),
        );
      }, this.timeoutMs);
      const gathering: Gathering = {
        waiting: new Set(peers.map((peer) => peer.id)),
        reports: [],
        check: () => {
          if (gathering.waiting.size > 0) return;
          clearTimeout(timer);
          this.gatherings.delete(id);
          resolve(gathering.reports);
        },
      };
      this.gatherings.set(id, gathering);
      for (const peer of peers) {
        try {
          peer.send({ kind: 'verdict:metrics-collect', id });
        } catch {
          // Its channel closed since: it is exiting, and its metrics go with it.
          gathering.waiting.delete(peer.id);
        }
      }
      gathering.check();
    });
  }

  private report(workerId: number, message: MetricsReport): void {
    const gathering = this.gatherings.get(message.id);
    // A report after its gathering timed out, or from a worker not asked: nothing waits for it.
    if (!gathering?.waiting.delete(workerId)) return;
    gathering.reports.push(message.metrics);
    gathering.check();
  }
}
