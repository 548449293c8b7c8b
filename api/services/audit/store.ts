/**
 * The `decisions` table as the audit service uses it: multi-row inserts that skip rows
 * already there, chain heads per tenant, and reading a chain back in `seq` order.
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
  ['prev_hash', 'text'],
  ['hash', 'text'],
];

// One array parameter per column, unnested into rows: the statement text and its 20
// parameters are the same for any batch size, where a multi-row VALUES list would carry
// 20 placeholders per row for the client to number and the server to parse.
const insertStatement = `insert into decisions (${insertedColumns.map(([name]) => name).join(', ')})
  select * from unnest(${insertedColumns.map(([, type]) => `?::${type}[]`).join(', ')})
  on conflict (decision_id, ts) do nothing
  returning decision_id`;

/**
 * Inserts the rows in one statement; rows whose (decision_id, ts) is already in the table
 * are skipped. Returns how many rows were new.
 */
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
  const inserted = await knex
    .raw<{ rows: { decision_id: string }[] }>(insertStatement, columns as Knex.RawBinding[])
    .timeout(timeoutMs, { cancel: true });
  return inserted.rows.length;
}

/** The last row of every tenant's chain. */
export async function loadChainHeads(knex: Knex): Promise<Map<string, ChainHead>> {
  const result = await knex.raw<{
    rows: { tenant_id: string; seq: string; hash: string; ts: Date }[];
  }>(
    'select distinct on (tenant_id) tenant_id, seq, hash, ts from decisions order by tenant_id, seq desc',
  );
  const heads = new Map<string, ChainHead>();
  for (const row of result.rows) {
    heads.set(row.tenant_id, { seq: Number(row.seq), hash: row.hash, ts: row.ts });
  }
  return heads;
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
