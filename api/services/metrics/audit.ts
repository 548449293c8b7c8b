/**
 * The audit writer: its queue and spool (read at scrape time), the rows it recorded, wrote,
 * spooled and lost (its own counts, read at scrape time), and each insert's latency and
 * failed rows (reported by the writer as they happen). Only the process that holds the
 * writer has values: a cluster worker hands its decisions to the primary and reads zero.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AuditCounters, AuditInsertReport } from '../audit';

/** What these metrics read of the writer. */
export interface AuditWriterState {
  readonly queueLength: number;
  readonly spoolRows: number;
  readonly spoolBytes: number;
  readonly counters: AuditCounters;
}

/** From 1 ms to 10 s: a batch insert takes milliseconds; a stalled database up to the insert timeout. */
export const flushBuckets: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export class AuditMetrics {
  private writer: AuditWriterState | undefined;
  private readonly flushDuration: Histogram<'source' | 'outcome'>;
  private readonly failedRows: Counter<'source'>;

  constructor(registry: Registry) {
    const registers = [registry];
    const state = (): AuditWriterState | undefined => this.writer;
    const gauge = (name: string, help: string, read: (w: AuditWriterState) => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const writer = state();
          this.set(writer === undefined ? 0 : read(writer));
        },
      });
    };
    const counter = (name: string, help: string, read: (c: AuditCounters) => number): void => {
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          const writer = state();
          this.inc(writer === undefined ? 0 : read(writer.counters));
        },
      });
    };

    gauge(
      'verdict_audit_queue_rows',
      'Audit rows recorded and waiting in memory for their batch insert.',
      (w) => w.queueLength,
    );
    gauge(
      'verdict_audit_spool_rows',
      'Audit rows in the spool file waiting to be replayed into the database.',
      (w) => w.spoolRows,
    );
    gauge('verdict_audit_spool_bytes', 'Size of the audit spool file.', (w) => w.spoolBytes);
    counter(
      'verdict_audit_rows_recorded_total',
      'Audit rows recorded (one per decision, shadow evaluations and admin requests included).',
      (c) => c.queued,
    );
    new Counter({
      name: 'verdict_audit_rows_written_total',
      help: 'Audit rows inserted into the database, by source: queue (straight from memory) or spool (replayed).',
      labelNames: ['source'],
      registers,
      collect() {
        this.reset();
        const counts = state()?.counters;
        this.inc({ source: 'queue' }, counts?.written ?? 0);
        this.inc({ source: 'spool' }, counts?.replayed ?? 0);
      },
    });
    counter(
      'verdict_audit_rows_spooled_total',
      'Audit rows appended to the spool file (the database refused them, or the queue was full).',
      (c) => c.spooled,
    );
    counter(
      'verdict_audit_rows_dropped_total',
      'Audit rows lost: torn spool lines, or rows neither the database nor the disk took at shutdown.',
      (c) => c.dropped,
    );
    this.failedRows = new Counter({
      name: 'verdict_audit_rows_failed_total',
      help: 'Audit rows in inserts the database refused or did not answer in time, by source (they stay in the spool and are tried again).',
      labelNames: ['source'],
      registers,
    });
    this.flushDuration = new Histogram({
      name: 'verdict_audit_flush_duration_seconds',
      help: 'Time of each batch insert of audit rows, by source (queue, spool) and outcome (written, failed).',
      labelNames: ['source', 'outcome'],
      buckets: [...flushBuckets],
      registers,
    });
  }

  /** Reads this writer's queue, spool and counts from now on. */
  watch(writer: AuditWriterState): void {
    this.writer = writer;
  }

  /** The writer's report of one insert (AuditWriterOptions.onInsert). */
  readonly inserted = (report: AuditInsertReport): void => {
    const outcome = report.ok ? 'written' : 'failed';
    this.flushDuration.observe({ source: report.source, outcome }, report.seconds);
    if (!report.ok) this.failedRows.inc({ source: report.source }, report.rows);
  };
}
