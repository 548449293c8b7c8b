/**
 * The audit writer: every decision is queued the moment it is recorded (its id and time fixed
 * then), and reaches the `decisions` table in batches off the request path. A row gets its
 * place in its tenant's hash chain when its batch is inserted, under the tenant's lock in
 * Postgres (append.ts), so any number of writers, in any number of processes, can append to
 * one tenant's chain.
 *
 * Rows flow in one order: queue -> table, or queue -> spool -> table. A batch the database
 * refuses (or a queue that fills up) goes to the spool file; from then on every batch goes
 * to the spool behind it until a periodic replay has copied the whole spool into the table,
 * so this writer's rows of a tenant reach its chain in the order recorded. Inserts leave out
 * rows already there, so replaying a row twice (after a crash mid-replay, or a batch that was
 * spooled while its insert was still in flight) still leaves it in the table exactly once.
 */
import path from 'node:path';
import type { Knex } from 'knex';
import { VerdictError, messageOf } from '../../errors';
import type { Logger } from '../../logger';
import { lockDataDir, type DataDirLock } from '../../db/data-dir-lock';
import { appendToChains, type AppendResult } from './append';
import {
  isTraceId,
  pendingRow,
  type AuditEntry,
  type AuditRow,
  type PendingRow,
  type RolloutArm,
  type RolloutMark,
} from './chain';
import { ensureDecisionPartitions } from './partitions';
import { Spool, type SpoolRead } from './spool';

export interface AuditWriterOptions {
  knex: Knex;
  /** The spool file `audit-spool.jsonl` lives here. */
  dataDir: string;
  logger: Logger;
  /** Rows per insert, and the queue length that triggers a flush (default 500, at most 2000). */
  batchSize?: number;
  /** Longest a recorded row waits in memory before a flush (default 200 ms). */
  flushIntervalMs?: number;
  /** Queue length beyond which rows go straight to the spool (default 10000). */
  maxQueue?: number;
  /** How often replay of the spool is tried while it holds rows (default 1000 ms). */
  retryIntervalMs?: number;
  /**
   * An insert (with its wait for the tenants' chain locks) taking longer counts as a failure
   * (default 5000 ms).
   */
  insertTimeoutMs?: number;
  /** How long `recordStrict` waits for its row before rejecting (default 5000 ms). */
  strictTimeoutMs?: number;
  /** How often monthly partitions are created ahead (default 6 hours). */
  partitionIntervalMs?: number;
  /**
   * The database is the embedded one (PGlite): no other process writes to it, and the guard
   * that frees a frozen writer's chain locks (append.ts `freeLocksWhenIdle`) is left out, as an
   * ended session would stop it (default false).
   */
  embedded?: boolean;
  /** Told of every insert of rows into the table (metrics). */
  onInsert?: (report: AuditInsertReport) => void;
}

/** One insert of audit rows into the table. */
export interface AuditInsertReport {
  /** Rows straight from the queue, or replayed from the spool. */
  readonly source: 'queue' | 'spool';
  readonly rows: number;
  readonly seconds: number;
  /** False when the database refused the rows or did not answer in time. */
  readonly ok: boolean;
}

export interface AuditCounters {
  /** Rows recorded. */
  queued: number;
  /** Rows inserted straight from the queue. */
  written: number;
  /** Rows appended to the spool (a row can be appended twice; replay writes it once). */
  spooled: number;
  /** Rows inserted from the spool. */
  replayed: number;
  /**
   * Spool lines that held no row (torn by a crash), and rows still queued at shutdown when
   * neither the database nor the disk took them. Zero unless something outside failed.
   */
  dropped: number;
}

interface StrictWaiter {
  resolve: (row: AuditRow) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const cacheOutcomes = new Set(['hit', 'miss', 'bypass']);

/** Why an entry cannot be recorded (a bug in the caller), or undefined. */
const rolloutArms: ReadonlySet<string> = new Set<RolloutArm>(['stable', 'canary', 'shadow']);

function rolloutProblem(mark: RolloutMark): string | undefined {
  if (!uuidPattern.test(mark.rolloutId)) return 'rollout.rolloutId must be a UUID';
  if (!rolloutArms.has(mark.arm)) return 'rollout.arm must be stable, canary or shadow';
  if (mark.comparedWith !== undefined && !uuidPattern.test(mark.comparedWith)) {
    return 'rollout.comparedWith must be a UUID';
  }
  return undefined;
}

export function entryProblem(entry: AuditEntry): string | undefined {
  if (!uuidPattern.test(entry.tenantId)) return 'tenantId must be a UUID';
  if (entry.decisionId !== undefined && !uuidPattern.test(entry.decisionId)) {
    return 'decisionId must be a UUID';
  }
  if (entry.ts !== undefined && Number.isNaN(entry.ts.getTime())) return 'ts is not a valid date';
  if (typeof entry.path !== 'string') return 'path must be a string';
  if (!cacheOutcomes.has(entry.cache)) return 'cache must be hit, miss or bypass';
  if (!Number.isFinite(entry.durationUs) || entry.durationUs < 0) {
    return 'durationUs must be a non-negative number';
  }
  if (entry.traceId !== undefined && !isTraceId(entry.traceId)) {
    return 'traceId must be 32 lowercase hex digits, not all zero';
  }
  if (entry.rollout !== undefined) return rolloutProblem(entry.rollout);
  return undefined;
}

function positive(value: number | undefined, fallback: number, max = Infinity): number {
  if (value === undefined || !Number.isFinite(value) || value <= 0) return fallback;
  return Math.min(Math.floor(value), max);
}

export const spoolFileName = 'audit-spool.jsonl';

export class AuditWriter {
  private readonly knex: Knex;
  private readonly logger: Logger;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly maxQueue: number;
  private readonly retryIntervalMs: number;
  private readonly insertTimeoutMs: number;
  private readonly strictTimeoutMs: number;
  private readonly embedded: boolean;
  private readonly onInsert: AuditWriterOptions['onInsert'];

  private readonly stats: AuditCounters = {
    queued: 0,
    written: 0,
    spooled: 0,
    replayed: 0,
    dropped: 0,
  };
  private queue: PendingRow[] = [];
  /** The batch being inserted from the queue, and whether it was spooled meanwhile. */
  private inFlight: { rows: PendingRow[]; spooled: boolean } | undefined;
  /** True while the spool holds rows not yet known to be in the table. */
  private spooling: boolean;
  private replayOffset = 0;
  /** Rows in the spool not yet replayed into the table. */
  private spoolPending: number;
  private readonly waiters = new Map<string, StrictWaiter>();
  /** Queued rows an insert was tried with, which may have committed: looked for first. */
  private readonly sentBefore = new WeakSet<PendingRow>();
  /**
   * Per tenant, the `ts` of its chain's head when this writer last appended to it: later heads
   * are never earlier, so the next append looks for the head from there on.
   */
  private readonly headTimes = new Map<string, Date>();
  /** Flushes and replays run one at a time, in the order they were asked for. */
  private turn: Promise<void> = Promise.resolve();
  private flushAsked = false;
  private replayAsked = false;
  /** Set when a replay turn could not go on (database or spool unavailable). */
  private replayStalled = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly partitionTimer: NodeJS.Timeout;
  private closing: Promise<void> | undefined;
  private closed = false;

  private constructor(
    options: AuditWriterOptions,
    private readonly spool: Spool,
    private readonly lock: DataDirLock,
    spooledRows: number,
  ) {
    this.knex = options.knex;
    this.logger = options.logger;
    this.batchSize = positive(options.batchSize, 500, 2000);
    this.flushIntervalMs = positive(options.flushIntervalMs, 200);
    this.maxQueue = Math.max(positive(options.maxQueue, 10_000), this.batchSize);
    this.retryIntervalMs = positive(options.retryIntervalMs, 1000);
    this.insertTimeoutMs = positive(options.insertTimeoutMs, 5000);
    this.strictTimeoutMs = positive(options.strictTimeoutMs, 5000);
    this.embedded = options.embedded === true;
    this.onInsert = options.onInsert;
    this.spoolPending = spooledRows;
    this.spooling = spool.size() > 0;
    if (this.spooling) this.askReplay();
    this.partitionTimer = setInterval(
      () => {
        void this.ensurePartitions();
      },
      positive(options.partitionIntervalMs, 6 * 3600_000),
    );
    this.partitionTimer.unref();
  }

  /**
   * Opens the spool (taking its lock) and checks that the database has the decision log's
   * tables. Needs the database to be reachable.
   */
  static async open(options: AuditWriterOptions): Promise<AuditWriter> {
    let lock: DataDirLock;
    try {
      lock = lockDataDir(options.dataDir, 'audit-spool');
    } catch (err) {
      throw new VerdictError(
        'not_ready',
        `The audit spool in ${options.dataDir} is in use by another Verdict process; ` +
          'give each process its own VERDICT_DATA_DIR.',
        { cause: err },
      );
    }
    let spool: Spool | undefined;
    try {
      spool = new Spool(path.join(options.dataDir, spoolFileName));
      // Every insert reads these two tables: a database without them is refused now.
      await options.knex.raw('select 1 from decisions, audit_chain_anchors limit 0');
      const spooledRows = await AuditWriter.countSpoolRows(spool);
      const writer = new AuditWriter(options, spool, lock, spooledRows);
      await writer.ensurePartitions();
      return writer;
    } catch (err) {
      spool?.close();
      lock.release();
      if (err instanceof VerdictError) throw err;
      throw new VerdictError(
        'database_unavailable',
        `Cannot open the audit log: ${messageOf(err)}. Check the database (migrations applied?) and that ${options.dataDir} is writable.`,
        { cause: err },
      );
    }
  }

  /** How many rows a spool left by an earlier process holds. */
  private static async countSpoolRows(spool: Spool): Promise<number> {
    let offset = 0;
    let count = 0;
    for (;;) {
      const { rows, nextOffset } = await spool.read(offset, 10_000);
      if (nextOffset === offset) return count;
      offset = nextOffset;
      count += rows.length;
    }
  }

  get counters(): AuditCounters {
    return { ...this.stats };
  }

  /** Rows recorded but neither in the table nor in the spool yet. */
  get queueLength(): number {
    return this.queue.length;
  }

  /** Whether the spool holds rows waiting for the database. */
  get isSpooling(): boolean {
    return this.spooling;
  }

  /** Rows in the spool waiting to be replayed into the table. */
  get spoolRows(): number {
    return this.spoolPending;
  }

  /** Size of the spool file in bytes (0 once closed). */
  get spoolBytes(): number {
    return this.closed ? 0 : this.spool.size();
  }

  /**
   * Queues the decision; returns at once with its row as it waits (id and time fixed, no
   * place in the chain yet). Throws only for an entry no row can be made of (a bug in the
   * caller) or after `close()`.
   */
  record(entry: AuditEntry): PendingRow {
    if (this.closed) throw new VerdictError('not_ready', 'The audit log is closed.');
    const problem = entryProblem(entry);
    if (problem !== undefined) {
      throw new VerdictError('internal', `Cannot record the decision: ${problem}.`);
    }
    const row = pendingRow(entry);
    this.stats.queued++;
    this.queue.push(row);
    if (this.queue.length >= this.maxQueue) this.spillQueue();
    else if (this.queue.length >= this.batchSize) this.askFlush();
    else {
      this.flushTimer ??= this.timer(() => {
        this.askFlush();
      }, this.flushIntervalMs);
    }
    return row;
  }

  /**
   * Records the decision and resolves with its row once it is in the table (with its place in
   * the chain); rejects after the strict timeout (the row stays queued or spooled, and is
   * written later).
   */
  recordStrict(entry: AuditEntry): Promise<AuditRow> {
    let row: PendingRow;
    try {
      row = this.record(entry);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const written = new Promise<AuditRow>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(row.decisionId);
        reject(
          new VerdictError(
            'database_unavailable',
            `The audit row of decision ${row.decisionId} was not written within ${this.strictTimeoutMs} ms; it will be written when the database is back.`,
          ),
        );
      }, this.strictTimeoutMs);
      this.waiters.set(row.decisionId, { resolve, reject, timer });
    });
    this.askFlush();
    return written;
  }

  /** Resolves when the flushes and replays asked for so far have run (asks for none). */
  settled(): Promise<void> {
    return this.turn;
  }

  /** Writes every queued row (to the table, or to the spool when the database is down). */
  flush(): Promise<void> {
    this.askFlush();
    return this.turn;
  }

  /**
   * Stops the timers and writes everything: the queue, then the spool into the table if the
   * database takes it (otherwise the spool keeps it for the next start). Strict waiters still
   * waiting are rejected. Safe to call twice.
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    clearInterval(this.partitionTimer);
    for (;;) {
      const before = this.progress();
      await this.flush();
      // Copy the spool into the table while the database takes it.
      while (this.spooling) {
        this.replayStalled = false;
        this.askReplay();
        await this.turn;
        if (this.stalled()) break;
      }
      if (this.queue.length === 0) break;
      if (this.progress() === before) {
        // Neither the database nor the disk takes rows: nothing more can be done.
        this.stats.dropped += this.queue.length;
        this.logger.error(
          { rows: this.queue.length },
          'audit rows lost at shutdown: neither the database nor the spool accepts them',
        );
        break;
      }
    }
    this.closed = true;
    this.clearTimers();
    for (const [decisionId, waiter] of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(
        new VerdictError(
          'database_unavailable',
          `The audit log closed before the row of decision ${decisionId} reached the database; it is kept in the spool.`,
        ),
      );
    }
    this.waiters.clear();
    if (this.spooling) {
      this.logger.warn(
        { spool: this.spool.file },
        'audit rows left in the spool; they are written at the next start',
      );
    }
    this.spool.close();
    this.lock.release();
  }

  /** Grows whenever rows leave the queue for the table or the spool. */
  private progress(): number {
    return this.stats.written + this.stats.spooled + this.stats.replayed;
  }

  // Read through methods: these flags change while a turn awaits the database.
  private stalled(): boolean {
    return this.replayStalled;
  }

  private spoolHoldsRows(): boolean {
    return this.spooling;
  }

  private clearTimers(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.flushTimer = undefined;
    this.retryTimer = undefined;
  }

  private timer(action: () => void, ms: number): NodeJS.Timeout {
    const timer = setTimeout(action, ms);
    timer.unref();
    return timer;
  }

  private enqueueTurn(work: () => Promise<void>): void {
    this.turn = this.turn.then(work).catch((err: unknown) => {
      // Each turn handles its own failures; this is a last guard so the chain goes on.
      this.logger.error({ err: messageOf(err) }, 'audit writer turn failed');
    });
  }

  private askFlush(): void {
    if (this.flushTimer !== undefined) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    if (this.flushAsked) return;
    this.flushAsked = true;
    this.enqueueTurn(async () => {
      this.flushAsked = false;
      await this.flushQueue();
    });
  }

  private askReplay(): void {
    if (this.retryTimer !== undefined) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    if (this.replayAsked) return;
    this.replayAsked = true;
    this.enqueueTurn(async () => {
      this.replayAsked = false;
      await this.replaySpool();
    });
  }

  /** A replay turn cannot go on now: try again after the retry interval. */
  private replayLater(): void {
    this.replayStalled = true;
    this.scheduleReplay();
  }

  private scheduleReplay(): void {
    if (this.closed || this.closing !== undefined) return;
    this.retryTimer ??= this.timer(() => {
      this.retryTimer = undefined;
      this.askReplay();
    }, this.retryIntervalMs);
  }

  /** Appends rows to the spool; false (rows untouched) when the disk refuses them. */
  private toSpool(rows: readonly PendingRow[]): boolean {
    try {
      this.spool.appendRows(rows);
    } catch (err) {
      this.logger.error(
        { err: messageOf(err), spool: this.spool.file, rows: rows.length },
        'cannot write audit rows to the spool; they stay in memory',
      );
      return false;
    }
    this.stats.spooled += rows.length;
    this.spoolPending += rows.length;
    if (!this.spooling) {
      this.spooling = true;
      this.replayOffset = 0;
    }
    this.scheduleReplay();
    return true;
  }

  /**
   * The queue is full: the database is down or slower than the decisions. Everything not yet
   * in the table goes to the spool now, the batch in flight first, to keep the order recorded.
   */
  private spillQueue(): void {
    const inFlight =
      this.inFlight !== undefined && !this.inFlight.spooled ? this.inFlight : undefined;
    const rows = inFlight === undefined ? this.queue : [...inFlight.rows, ...this.queue];
    if (!this.toSpool(rows)) return;
    if (inFlight !== undefined) inFlight.spooled = true;
    this.queue = [];
    this.logger.warn({ rows: rows.length }, 'audit queue full; rows spooled');
  }

  private async flushQueue(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.batchSize);
      if (this.spooling) {
        if (!this.toSpool(batch)) {
          this.retryFlushLater(batch);
          return;
        }
        continue;
      }
      const inFlight = { rows: batch, spooled: false };
      this.inFlight = inFlight;
      try {
        const mayBeWritten = batch.some((row) => this.sentBefore.has(row));
        const appended = await this.insert(batch, 'queue', mayBeWritten);
        this.stats.written += appended.inserted;
        this.settleWaiters(appended);
      } catch (err) {
        if (!this.spoolHoldsRows()) {
          this.logger.warn(
            { err: messageOf(err) },
            'audit rows cannot be written to the database; spooling them until it is back',
          );
        }
        if (!inFlight.spooled && !this.toSpool(batch)) {
          this.retryFlushLater(batch);
          return;
        }
      } finally {
        this.inFlight = undefined;
      }
    }
  }

  /** Neither the database nor the spool took the batch: it goes back to the queue's front. */
  private retryFlushLater(batch: PendingRow[]): void {
    for (const row of batch) this.sentBefore.add(row);
    this.queue.unshift(...batch);
    if (this.closing !== undefined) return;
    this.flushTimer ??= this.timer(() => {
      this.askFlush();
    }, this.retryIntervalMs);
  }

  /** Copies spooled rows into the table, a batch per turn; empties the spool at its end. */
  private async replaySpool(): Promise<void> {
    if (!this.spooling) return;
    let read: SpoolRead;
    try {
      read = await this.spool.read(this.replayOffset, this.batchSize);
    } catch (err) {
      this.logger.error(
        { err: messageOf(err), spool: this.spool.file },
        'cannot read the audit spool',
      );
      this.replayLater();
      return;
    }
    if (read.rows.length === 0 && read.corrupt === 0) {
      // Appends are synchronous, so a size equal to the offset means nothing is left.
      if (this.spool.size() === this.replayOffset) {
        this.spool.truncate();
        this.replayOffset = 0;
        this.spoolPending = 0;
        this.spooling = false;
        this.logger.info('audit spool replayed into the database');
        if (this.queue.length > 0) this.askFlush();
      } else {
        // A line is being appended, or the file ends in a line that never completes.
        this.replayLater();
      }
      return;
    }
    let appended: AppendResult;
    try {
      appended = await this.insert(read.rows, 'spool', true);
    } catch (err) {
      this.logger.debug({ err: messageOf(err) }, 'audit spool replay failed; retrying later');
      this.replayLater();
      return;
    }
    if (read.corrupt > 0) {
      this.stats.dropped += read.corrupt;
      this.logger.error(
        { lines: read.corrupt, spool: this.spool.file },
        'skipped audit spool lines that hold no row (torn by a crash)',
      );
    }
    this.stats.replayed += appended.inserted;
    this.replayOffset = read.nextOffset;
    this.spoolPending = Math.max(0, this.spoolPending - read.rows.length - read.corrupt);
    this.settleWaiters(appended);
    this.askReplay();
  }

  /**
   * Appends rows to their chains (leaving out rows already there when they may have been sent
   * before); reports how it went.
   */
  private async insert(
    rows: readonly PendingRow[],
    source: 'queue' | 'spool',
    mayBeWritten: boolean,
  ): Promise<AppendResult> {
    const started = performance.now();
    let ok = false;
    try {
      const appended = await appendToChains(this.knex, rows, {
        timeoutMs: this.insertTimeoutMs,
        freeLocksWhenIdle: !this.embedded,
        mayBeWritten,
        headsSince: this.headTimes,
      });
      for (const [tenantId, head] of appended.heads) this.headTimes.set(tenantId, head.ts);
      ok = true;
      return appended;
    } finally {
      const seconds = (performance.now() - started) / 1000;
      this.onInsert?.({ source, rows: rows.length, seconds, ok });
    }
  }

  private settleWaiters(appended: AppendResult): void {
    if (this.waiters.size === 0) return;
    for (const row of appended.rows) {
      const waiter = this.waiters.get(row.decisionId);
      if (waiter === undefined) continue;
      clearTimeout(waiter.timer);
      this.waiters.delete(row.decisionId);
      waiter.resolve(row);
    }
  }

  private async ensurePartitions(): Promise<void> {
    try {
      const created = await ensureDecisionPartitions(this.knex);
      if (created > 0) this.logger.info({ created }, 'decision log partitions created');
    } catch (err) {
      this.logger.warn({ err: messageOf(err) }, 'cannot create decision log partitions');
    }
  }
}

export function createAuditWriter(options: AuditWriterOptions): Promise<AuditWriter> {
  return AuditWriter.open(options);
}
