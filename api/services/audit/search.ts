/**
 * Reading the decision log for auditors: one tenant's rows, filtered, newest first, in
 * pages. Paging is keyset on (ts, seq) so a page costs the same deep in the log as at its
 * top and rows written meanwhile never shift a page; the cursor carries the last row's
 * `ts` at the database's full (microsecond) precision so no row is skipped or repeated.
 * Every value from the caller is a bound parameter. Each page is read in a tenant-scoped
 * transaction of its own (api/db/tenant-scope.ts), so a long export holds none open.
 */
import type { Knex } from 'knex';
import { withTenant } from '../../db/tenant-scope';
import type { AuditRow } from './chain';
import type { InputFilter } from './input-filter';
import { fromRecord, storedColumns, type StoredRecord } from './store';

export interface DecisionFilters {
  /** Rows at or after this time. */
  from?: Date;
  /** Rows before this time. */
  to?: Date;
  path?: string;
  allowed?: boolean;
  bundleVersion?: string;
  caller?: string;
  decisionId?: string;
  input?: InputFilter;
  /** `decision`: served decisions only; `shadow`: rollout comparison rows only; absent: both. */
  kind?: 'decision' | 'shadow';
  rolloutId?: string;
}

/** Where a page ends: the last row's place in (ts, seq) order. */
export interface DecisionCursor {
  /** `ts` as UTC text with microseconds, as Postgres stores it. */
  readonly ts: string;
  readonly seq: number;
}

export interface DecisionPage {
  readonly rows: AuditRow[];
  /** Where the next page starts; undefined on the last page. */
  readonly next: DecisionCursor | undefined;
}

const cursorTsPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/u;

/** The cursor as an opaque URL-safe token. */
export function encodeCursor(cursor: DecisionCursor): string {
  return Buffer.from(`${cursor.ts}|${cursor.seq}`, 'utf8').toString('base64url');
}

/** The cursor a token stands for; undefined when it is not one this service made. */
export function decodeCursor(token: string): DecisionCursor | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/u.test(token)) return undefined;
  const [ts, seq, ...rest] = Buffer.from(token, 'base64url').toString('utf8').split('|');
  if (rest.length > 0 || ts === undefined || !cursorTsPattern.test(ts)) return undefined;
  if (seq === undefined || !/^[1-9][0-9]{0,15}$/u.test(seq)) return undefined;
  return { ts, seq: Number(seq) };
}

type Row = StoredRecord & { ts_text: string };

/**
 * Adds the conditions `filters` asks for to a query on `decisions` (the caller scopes it to
 * its tenant). Shared by search, export and the counts over time.
 */
export function applyDecisionFilters(
  builder: Knex.QueryBuilder,
  filters: DecisionFilters,
): Knex.QueryBuilder {
  if (filters.from !== undefined) void builder.andWhere('ts', '>=', filters.from);
  if (filters.to !== undefined) void builder.andWhere('ts', '<', filters.to);
  if (filters.path !== undefined) void builder.andWhere('path', filters.path);
  if (filters.allowed !== undefined) void builder.andWhere('allowed', filters.allowed);
  if (filters.bundleVersion !== undefined) {
    void builder.andWhere('bundle_version', filters.bundleVersion);
  }
  if (filters.caller !== undefined) void builder.andWhere('caller', filters.caller);
  if (filters.decisionId !== undefined) void builder.andWhere('decision_id', filters.decisionId);
  if (filters.kind === 'decision') void builder.whereNull('compared_with');
  if (filters.kind === 'shadow') void builder.whereNotNull('compared_with');
  if (filters.rolloutId !== undefined) void builder.andWhere('rollout_id', filters.rolloutId);
  if (filters.input !== undefined) {
    void builder.andWhereRaw('input #> ?::text[] = ?::jsonb', [
      [...filters.input.path],
      JSON.stringify(filters.input.value),
    ]);
  }
  return builder;
}

function filtered(
  trx: Knex.Transaction,
  tenantId: string,
  filters: DecisionFilters,
): Knex.QueryBuilder {
  const builder = trx('decisions')
    .select([
      ...storedColumns.map((column) => trx.raw(column)),
      trx.raw(`to_char(ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as ts_text`),
    ])
    .where('tenant_id', tenantId);
  return applyDecisionFilters(builder, filters);
}

/** One page of a tenant's decisions, newest first, after `after` when given. */
export async function searchDecisions(
  knex: Knex,
  tenantId: string,
  filters: DecisionFilters,
  page: { limit: number; after?: DecisionCursor | undefined },
): Promise<DecisionPage> {
  return withTenant(knex, tenantId, (trx) => readPage(trx, tenantId, filters, page));
}

async function readPage(
  trx: Knex.Transaction,
  tenantId: string,
  filters: DecisionFilters,
  page: { limit: number; after?: DecisionCursor | undefined },
): Promise<DecisionPage> {
  const builder = filtered(trx, tenantId, filters);
  if (page.after !== undefined) {
    // Postgres bounds the (tenant_id, ts) index scan by the row comparison's first column,
    // so a page deep in the log starts at the cursor (checked with EXPLAIN on 200k rows).
    void builder.andWhereRaw('(ts, seq) < (?::timestamptz, ?)', [page.after.ts, page.after.seq]);
  }
  // One row more than asked tells whether another page follows.
  const records = (await builder
    .orderBy([
      { column: 'ts', order: 'desc' },
      { column: 'seq', order: 'desc' },
    ])
    .limit(page.limit + 1)) as Row[];
  const more = records.length > page.limit;
  const kept = more ? records.slice(0, page.limit) : records;
  const last = kept[kept.length - 1];
  return {
    rows: kept.map(fromRecord),
    next: more && last !== undefined ? { ts: last.ts_text, seq: Number(last.seq) } : undefined,
  };
}

/**
 * Every matching row, newest first, read `batchSize` rows per query: memory stays at one
 * batch however long the log is.
 */
export async function* scanDecisions(
  knex: Knex,
  tenantId: string,
  filters: DecisionFilters,
  batchSize = 1000,
): AsyncGenerator<AuditRow[]> {
  let after: DecisionCursor | undefined;
  for (;;) {
    const page = await searchDecisions(knex, tenantId, filters, { limit: batchSize, after });
    if (page.rows.length > 0) yield page.rows;
    if (page.next === undefined) return;
    after = page.next;
  }
}

/** One decision of a tenant by its id. */
export async function findDecision(
  knex: Knex,
  tenantId: string,
  decisionId: string,
): Promise<AuditRow | undefined> {
  const page = await searchDecisions(knex, tenantId, { decisionId }, { limit: 1 });
  return page.rows[0];
}
