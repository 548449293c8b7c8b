/**
 * Appending pending rows to their tenants' hash chains, correct with any number of writer
 * processes on one database. A batch goes in one transaction:
 *
 * 1. one message of statements: a Postgres advisory lock per tenant of the batch, taken in
 *    ascending key order so that two batches never wait for each other in a cycle; then each
 *    tenant's chain head as the table has it now, and (when rows of the batch may have been sent
 *    before) the batch's rows already in the table;
 * 2. the rows linked to those heads (in batch order) and inserted in one statement;
 * 3. commit, which releases the locks.
 *
 * A writer holding a tenant's lock is the only one appending to its chain until it commits,
 * and the next one reads the head after that commit (the read is a statement of its own, so it
 * sees what committed while the lock was awaited). Rows already in the table are left out,
 * which makes a batch safe to send again after an insert whose outcome is unknown (a timeout,
 * a connection lost during commit, a replay of the spool after a crash).
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { isUuid } from '../../uuid';
import { headOf, linkRow, type AuditRow, type ChainHead, type PendingRow } from './chain';
import { chainHeadsOf, chainHeadsQuery, insertRows, type ChainHeadRecord } from './store';

/** First key of every chain lock (ASCII "VRDT"); the second is derived from the tenant id. */
export const chainLockSpace = 0x56524454;

/**
 * The second key of a tenant's chain lock: 32 bits of the SHA-256 of its id. Two tenants
 * sharing a key only wait for each other; they still get separate chains.
 */
export function chainLockKey(tenantId: string): number {
  return createHash('sha256').update(tenantId.toLowerCase()).digest().readInt32BE(0);
}

export interface AppendOptions {
  /** Longest the whole append may take, waits for locks included. */
  timeoutMs: number;
  /**
   * Whether the server ends this writer's session, and so frees its chain locks, when it stays
   * idle inside the transaction longer than `timeoutMs` (a frozen process, a lost network), so
   * that other writers are not held up for ever. Leave it off on the embedded database: one
   * process writes there, and an ended session stops PGlite.
   */
  freeLocksWhenIdle: boolean;
  /**
   * Whether rows of the batch may be in the table already because they were sent before (a
   * spool replay, a retried insert): only then are they looked for, and left out when found.
   * Rows never sent cannot be there (their ids are made when they are recorded).
   */
  mayBeWritten: boolean;
  /**
   * Per tenant, a time its head is known not to be before: the `ts` of a head seen earlier
   * (a chain's `ts` never goes back). The head is then looked for only in the partitions from
   * there; tenants not named are looked for in all of them.
   */
  headsSince?: ReadonlyMap<string, Date>;
}

export interface AppendResult {
  /** Every row of the batch as it is in the table now, in batch order (duplicates once). */
  rows: AuditRow[];
  /** How many of them this call inserted; the others were there already. */
  inserted: number;
  /** Where the chains of the batch's tenants end after it. */
  heads: Map<string, ChainHead>;
}

interface PresentRecord {
  decision_id: string;
  seq: string;
  ts: Date;
  prev_hash: string;
  hash: string;
}

// The lock and read statements carry their values as literals, so that they go to the server
// in one message (the simple query protocol takes no parameters). Only UUIDs, integers and
// ISO timestamps are written into it, each checked here.
function uuidArray(ids: Iterable<string>): string {
  const list = [...ids];
  for (const id of list) {
    if (!isUuid(id)) throw new TypeError(`not a UUID: ${JSON.stringify(id)}`);
  }
  return `'{${list.join(',')}}'::uuid[]`;
}

function isoTime(date: Date | undefined): string {
  if (date === undefined) return '-infinity';
  if (Number.isNaN(date.getTime())) throw new TypeError('not a valid date');
  return date.toISOString();
}

function timestamp(date: Date): string {
  return `'${isoTime(date)}'::timestamptz`;
}

function timestampArray(dates: readonly (Date | undefined)[]): string {
  return `'{${dates.map(isoTime).join(',')}}'::timestamptz[]`;
}

function lockAndReadStatements(rows: readonly PendingRow[], options: AppendOptions): string {
  const tenants = [...new Set(rows.map((row) => row.tenantId))];
  const keys = [...new Set(tenants.map(chainLockKey))].sort((a, b) => a - b);
  const since = tenants.map((tenantId) => options.headsSince?.get(tenantId));
  const idleLimit = options.freeLocksWhenIdle ? Math.ceil(options.timeoutMs) : 0;
  const statements = [
    `select set_config('idle_in_transaction_session_timeout', '${String(idleLimit)}', true)`,
    `select pg_advisory_xact_lock(${String(chainLockSpace)}, k) from unnest('{${keys.join(',')}}'::int4[]) as k`,
    chainHeadsQuery(uuidArray(tenants), timestampArray(since)),
  ];
  if (options.mayBeWritten) {
    const earliest = new Date(Math.min(...rows.map((row) => row.ts.getTime())));
    // A stored row's ts is never before its pending ts (linkRow only moves it later).
    statements.push(`select decision_id, seq, ts, prev_hash, hash from decisions
      where decision_id = any(${uuidArray(rows.map((row) => row.decisionId))})
        and ts >= ${timestamp(earliest)}`);
  }
  return statements.join(';\n');
}

interface LockedRead {
  heads: Map<string, ChainHead>;
  present: Map<string, PresentRecord>;
}

/** What the statements answer: the setting, the locks, the heads, the rows present (if asked). */
type LockAndReadResults = [
  unknown,
  unknown,
  { rows: ChainHeadRecord[] },
  { rows: PresentRecord[] } | undefined,
];

async function lockAndRead(
  trx: Knex.Transaction,
  rows: readonly PendingRow[],
  options: AppendOptions,
): Promise<LockedRead> {
  const [, , heads, present] = (await trx
    .raw(lockAndReadStatements(rows, options))
    .timeout(options.timeoutMs, { cancel: true })) as LockAndReadResults;
  return {
    heads: chainHeadsOf(heads.rows),
    present: new Map((present?.rows ?? []).map((record) => [record.decision_id, record])),
  };
}

interface LinkedBatch {
  /** Every row once, in batch order: as stored when it was there already, else as linked. */
  all: AuditRow[];
  /** The rows to insert, in chain order. */
  fresh: AuditRow[];
}

/** Links the rows to the heads, moving each tenant's head in `read` along. */
function linkBatch(rows: readonly PendingRow[], read: LockedRead): LinkedBatch {
  const all: AuditRow[] = [];
  const fresh: AuditRow[] = [];
  const seen = new Set<string>();
  for (const pending of rows) {
    if (seen.has(pending.decisionId)) continue;
    seen.add(pending.decisionId);
    const stored = read.present.get(pending.decisionId);
    if (stored !== undefined) {
      all.push({
        ...pending,
        seq: Number(stored.seq),
        ts: stored.ts,
        prevHash: stored.prev_hash,
        hash: stored.hash,
      });
      continue;
    }
    const row = linkRow(pending, read.heads.get(pending.tenantId));
    read.heads.set(row.tenantId, headOf(row));
    all.push(row);
    fresh.push(row);
  }
  return { all, fresh };
}

/**
 * Gives each row its place in its tenant's chain and inserts the batch, in one transaction
 * under the tenants' chain locks; see the top of this file. Rejects when the database fails or
 * the whole append takes longer than `timeoutMs` (nothing is then inserted, or everything was
 * and the rows are found there on the next try, with `mayBeWritten`).
 */
export async function appendToChains(
  knex: Knex,
  rows: readonly PendingRow[],
  options: AppendOptions,
): Promise<AppendResult> {
  if (rows.length === 0) return { rows: [], inserted: 0, heads: new Map() };
  const deadline = Date.now() + options.timeoutMs;
  const left = (): number => Math.max(1, deadline - Date.now());
  return knex.transaction(async (trx) => {
    const read = await lockAndRead(trx, rows, { ...options, timeoutMs: left() });
    const { all, fresh } = linkBatch(rows, read);
    return { rows: all, inserted: await insertRows(trx, fresh, left()), heads: read.heads };
  });
}
