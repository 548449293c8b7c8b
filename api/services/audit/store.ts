/**
 * The `decisions` table as the audit service uses it: multi-row inserts of chained rows,
 * chain heads per tenant, and reading a chain back in `seq` order.
 */
import type { Knex } from 'knex';
import type { JsonValue } from './canonical';
import type { AuditRow, CacheOutcome, ChainHead, RolloutArm, RolloutMark } from './chain';

/** The row in the table's column names; jsonb columns are sent as JSON text. */
function toRecord(row: AuditRow): Record<string, unknown> {
  return {
    decision_id: row.decisionId,
    tenant_id: row.tenantId,
    seq: row.seq,
    ts: row.ts,
    path: row.path,
    bundle_name: row.bundleName,
    bundle_version: row.bundleVersion,
    bundle_revision: row.bundleRevision,
    input: row.input === undefined ? null : JSON.stringify(row.input),
    result: row.result === undefined ? null : JSON.stringify(row.result),
    allowed: row.allowed,
    caller: row.caller,
    cache: row.cache,
    duration_us: row.durationUs,
    rollout_id: row.rollout?.rolloutId ?? null,
    rollout_arm: row.rollout?.arm ?? null,
    compared_with: row.rollout?.comparedWith ?? null,
    agrees: row.rollout?.agrees ?? null,
    trace_id: row.traceId ?? null,
    prev_hash: row.prevHash,
    hash: row.hash,
  };
}

/** The inserted columns with their types, in the order `insertRows` sends them. */
const insertedColumns: readonly (readonly [string, string])[] = [
  ['decision_id', 'uuid'],
  ['tenant_id', 'uuid'],
  ['seq', 'bigint'],
  ['ts', 'timestamptz'],
  ['path', 'text'],
  ['bundle_name', 'text'],
  ['bundle_version', 'text'],
  ['bundle_revision', 'text'],
  ['input', 'jsonb'],
  ['result', 'jsonb'],
  ['allowed', 'boolean'],
  ['caller', 'text'],
  ['cache', 'text'],
  ['duration_us', 'integer'],
  ['rollout_id', 'uuid'],
  ['rollout_arm', 'text'],
  ['compared_with', 'uuid'],
  ['agrees', 'boolean'],
  ['trace_id', 'text'],
  ['prev_hash', 'text'],
  ['hash', 'text'],
];

// One array parameter per column, unnested into rows: the statement text and its 21
// parameters are the same for any batch size, where a multi-row VALUES list would carry
// 21 placeholders per row for the client to number and the server to parse. No conflict is
// skipped: a row already in the table would leave a gap in its chain, so the caller leaves
// such rows out (append.ts) and a conflict fails the insert.
const insertStatement = `insert into decisions (${insertedColumns.map(([name]) => name).join(', ')})
  select * from unnest(${insertedColumns.map(([, type]) => `?::${type}[]`).join(', ')})`;

/** Inserts the rows in one statement (in the caller's transaction); returns how many. */
export async function insertRows(
  knex: Knex,
  rows: readonly AuditRow[],
  timeoutMs: number,
): Promise<number> {
  if (rows.length === 0) return 0;
  const columns = insertedColumns.map((): unknown[] => new Array<unknown>(rows.length));
  rows.forEach((row, r) => {
    const record = toRecord(row);
    insertedColumns.forEach(([name], c) => {
      (columns[c] as unknown[])[r] = record[name];
    });
  });
  await knex
    .raw(insertStatement, columns as Knex.RawBinding[])
    .timeout(timeoutMs, { cancel: true });
  return rows.length;
}

/**
 * Where each of the tenants' chains ends as the table has it: its row with the highest `seq`,
 * or, when retention pruned every row (or a later anchor than the last row exists), the last
 * pruned row as its anchor records it. `tenants` is the SQL of a uuid[] value, `since` of a
 * timestamptz[] of the same length: each tenant's last row is looked for from that time on
 * (a chain's `ts` never goes back, so a time a head was seen at bounds the head now; only
 * partitions from there are read), `-infinity` looking everywhere.
 */
export function chainHeadsQuery(tenants: string, since: string): string {
  return `select t.id as tenant_id, h.seq, h.hash, h.ts, a.last_seq, a.last_hash, a.last_ts
  from unnest(${tenants}, ${since}) as t(id, since)
  left join lateral (
    select seq, hash, ts from decisions where tenant_id = t.id and ts >= t.since
    order by seq desc limit 1
  ) h on true
  left join lateral (
    select last_seq, last_hash, last_ts from audit_chain_anchors
    where tenant_id = t.id order by last_seq desc limit 1
  ) a on true`;
}

export interface ChainHeadRecord {
  tenant_id: string;
  seq: string | null;
  hash: string | null;
  ts: Date | null;
  last_seq: string | null;
  last_hash: string | null;
  last_ts: Date | null;
}

/** The heads a `chainHeadsQuery` found; tenants without rows or anchors have none. */
export function chainHeadsOf(records: readonly ChainHeadRecord[]): Map<string, ChainHead> {
  const heads = new Map<string, ChainHead>();
  for (const record of records) {
    const row =
      record.seq === null || record.hash === null || record.ts === null
        ? undefined
        : { seq: Number(record.seq), hash: record.hash, ts: record.ts };
    const anchor =
      record.last_seq === null || record.last_hash === null || record.last_ts === null
        ? undefined
        : { seq: Number(record.last_seq), hash: record.last_hash, ts: record.last_ts };
    const head = anchor !== undefined && (row === undefined || anchor.seq > row.seq) ? anchor : row;
    if (head !== undefined) heads.set(record.tenant_id, head);
  }
  return heads;
}

/** Where a tenant's chain ends in the table now (rows still queued by writers not counted). */
export async function readChainHead(knex: Knex, tenantId: string): Promise<ChainHead | undefined> {
  const result = await knex.raw<{ rows: ChainHeadRecord[] }>(
    chainHeadsQuery('?::uuid[]', `'{-infinity}'::timestamptz[]`),
    [[tenantId]],
  );
  return chainHeadsOf(result.rows).get(tenantId.toLowerCase());
}

export interface StoredRecord {
  decision_id: string;
  tenant_id: string;
  seq: string;
  ts: Date;
  path: string;
  bundle_name: string | null;
  bundle_version: string | null;
  bundle_revision: string | null;
  input: string | null;
  result: string | null;
  allowed: boolean | null;
  caller: string | null;
  cache: CacheOutcome;
  duration_us: number;
  rollout_id: string | null;
  rollout_arm: RolloutArm | null;
  compared_with: string | null;
  agrees: boolean | null;
  trace_id: string | null;
  prev_hash: string;
  hash: string;
}

// jsonb columns are read as text and parsed here, so SQL NULL (undefined) and JSON null
// stay apart.
export const storedColumns = [
  'decision_id',
  'tenant_id',
  'seq',
  'ts',
  'path',
  'bundle_name',
  'bundle_version',
  'bundle_revision',
  'input::text as input',
  'result::text as result',
  'allowed',
  'caller',
  'cache',
  'duration_us',
  'rollout_id',
  'rollout_arm',
  'compared_with',
  'agrees',
  'trace_id',
  'prev_hash',
  'hash',
];

function rolloutOf(record: StoredRecord): RolloutMark | undefined {
  if (record.rollout_id === null || record.rollout_arm === null) return undefined;
  const mark: RolloutMark = { rolloutId: record.rollout_id, arm: record.rollout_arm };
  if (record.compared_with !== null) mark.comparedWith = record.compared_with;
  if (record.agrees !== null) mark.agrees = record.agrees;
  return mark;
}

function parseJsonColumn(text: string | null): JsonValue | undefined {
  return text === null ? undefined : (JSON.parse(text) as JsonValue);
}

export function fromRecord(record: StoredRecord): AuditRow {
  return {
    decisionId: record.decision_id,
    tenantId: record.tenant_id,
    seq: Number(record.seq),
    ts: record.ts,
    path: record.path,
    bundleName: record.bundle_name,
    bundleVersion: record.bundle_version,
    bundleRevision: record.bundle_revision,
    input: parseJsonColumn(record.input),
    result: parseJsonColumn(record.result),
    allowed: record.allowed,
    caller: record.caller,
    cache: record.cache,
    durationUs: record.duration_us,
    ...optionalRollout(record),
    ...(record.trace_id === null ? {} : { traceId: record.trace_id }),
    prevHash: record.prev_hash,
    hash: record.hash,
  };
}

function optionalRollout(record: StoredRecord): { rollout?: RolloutMark } {
  const rollout = rolloutOf(record);
  return rollout === undefined ? {} : { rollout };
}

export interface ChainPageQuery {
  tenantId: string;
  /** Rows after this one in (seq, ts) order only. */
  after: { seq: number; ts: Date } | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  limit: number;
}

/** One page of a tenant's rows in seq order, optionally within [from, to). */
export async function readChainPage(knex: Knex, query: ChainPageQuery): Promise<AuditRow[]> {
  let builder = knex('decisions')
    .select(storedColumns.map((column) => knex.raw(column)))
    .where('tenant_id', query.tenantId);
  if (query.after !== undefined) {
    builder = builder.andWhereRaw('(seq, ts) > (?, ?)', [query.after.seq, query.after.ts]);
  }
  if (query.from !== undefined) builder = builder.andWhere('ts', '>=', query.from);
  if (query.to !== undefined) builder = builder.andWhere('ts', '<', query.to);
  const records = (await builder.orderBy(['seq', 'ts']).limit(query.limit)) as StoredRecord[];
  return records.map(fromRecord);
}

/** The row at `seq` in a tenant's chain, if there is one. */
export async function readChainRow(
  knex: Knex,
  tenantId: string,
  seq: number,
): Promise<AuditRow | undefined> {
  const records = (await knex('decisions')
    .select(storedColumns.map((column) => knex.raw(column)))
    .where({ tenant_id: tenantId, seq })
    .orderBy('ts')
    .limit(1)) as StoredRecord[];
  const record = records[0];
  return record === undefined ? undefined : fromRecord(record);
}
