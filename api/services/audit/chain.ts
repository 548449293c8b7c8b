/**
 * Audit rows and their hash chain. Each tenant's rows form one chain in `seq` order:
 * `hash = sha256(prev_hash || canonical JSON of the row's fields)`, hex-encoded, where
 * `prev_hash` is the previous row's hash, or 64 zeros for a tenant's first row. Changing,
 * removing or reordering any row breaks every link after it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { canonicalJson, storableText, toStorableJson, type JsonValue } from './canonical';

export const genesisHash = '0'.repeat(64);

export type CacheOutcome = 'hit' | 'miss' | 'bypass';

/** Which version of a bundle under rollout produced a row. */
export type RolloutArm = 'stable' | 'canary' | 'shadow';

/** A row's place in a rollout (see api/services/rollouts). */
export interface RolloutMark {
  rolloutId: string;
  arm: RolloutArm;
  /**
   * On a comparison row (a version evaluated beside the served one, never returned): the
   * served decision's id. Absent on the served row itself.
   */
  comparedWith?: string;
  /** On a comparison row: whether its answer equals the served one. */
  agrees?: boolean;
}

/** A decision as a caller reports it (input already masked). */
export interface AuditEntry {
  tenantId: string;
  /** Made up when absent. */
  decisionId?: string;
  /** When the decision was made; now when absent. */
  ts?: Date;
  path: string;
  bundleName?: string | null;
  bundleVersion?: string | null;
  bundleRevision?: string | null;
  /** undefined: the request had no input. */
  input?: unknown;
  /** undefined: the decision was undefined (OPA answers without a `result`). */
  result?: unknown;
  /** API key id of the caller. */
  caller?: string | null;
  cache: CacheOutcome;
  durationUs: number;
  /** Set when the decision was made under a rollout. */
  rollout?: RolloutMark;
  /** W3C trace id of the request (32 lowercase hex digits); absent when it had none. */
  traceId?: string;
}

/** A row as stored, with its place in the tenant's chain. */
export interface AuditRow {
  decisionId: string;
  tenantId: string;
  seq: number;
  ts: Date;
  path: string;
  bundleName: string | null;
  bundleVersion: string | null;
  bundleRevision: string | null;
  input: JsonValue | undefined;
  result: JsonValue | undefined;
  allowed: boolean | null;
  caller: string | null;
  cache: CacheOutcome;
  durationUs: number;
  /** Absent on rows made outside any rollout. */
  rollout?: RolloutMark;
  /** Absent on rows made without a trace (and on every row older than the column). */
  traceId?: string;
  prevHash: string;
  hash: string;
}

/** Where a tenant's chain ends: the row the next one links to. */
export interface ChainHead {
  seq: number;
  hash: string;
  ts: Date;
}

const traceIdPattern = /^[0-9a-f]{32}$/;

/** Whether `value` is a W3C trace id as rows store it: 32 lowercase hex digits, not all zero. */
export function isTraceId(value: unknown): value is string {
  return typeof value === 'string' && traceIdPattern.test(value) && value !== '0'.repeat(32);
}

/** true/false when the result is a boolean or an object with a boolean `allow`. */
export function deriveAllowed(result: JsonValue | undefined): boolean | null {
  if (typeof result === 'boolean') return result;
  if (typeof result === 'object' && result !== null && !Array.isArray(result)) {
    const allow = result.allow;
    if (typeof allow === 'boolean') return allow;
  }
  return null;
}

/**
 * The fields the hash covers, as one JSON object. An undefined input or result is absent,
 * which keeps it apart from a JSON `null`. The rollout mark and the trace id are covered only
 * when present, so rows written before either existed (or without them) keep their hashes.
 */
export function hashedFields(row: Omit<AuditRow, 'hash' | 'prevHash'>): JsonValue {
  const fields: Record<string, JsonValue> = {
    allowed: row.allowed,
    bundle_name: row.bundleName,
    bundle_revision: row.bundleRevision,
    bundle_version: row.bundleVersion,
    cache: row.cache,
    caller: row.caller,
    decision_id: row.decisionId,
    duration_us: row.durationUs,
    path: row.path,
    seq: row.seq,
    tenant_id: row.tenantId,
    ts: row.ts.toISOString(),
  };
  if (row.input !== undefined) fields.input = row.input;
  if (row.result !== undefined) fields.result = row.result;
  if (row.rollout !== undefined) fields.rollout = rolloutFields(row.rollout);
  if (row.traceId !== undefined) fields.trace_id = row.traceId;
  return fields;
}

function rolloutFields(mark: RolloutMark): JsonValue {
  const fields: Record<string, JsonValue> = { arm: mark.arm, id: mark.rolloutId };
  if (mark.comparedWith !== undefined) fields.compared_with = mark.comparedWith;
  if (mark.agrees !== undefined) fields.agrees = mark.agrees;
  return fields;
}

export function rowHash(prevHash: string, row: Omit<AuditRow, 'hash' | 'prevHash'>): string {
  return createHash('sha256')
    .update(prevHash)
    .update(canonicalJson(hashedFields(row)))
    .digest('hex');
}

function optionalText(value: string | null | undefined): string | null {
  return value === undefined || value === null ? null : storableText(value);
}

/**
 * A decision as it waits for its place in a chain (in the writer's queue or its spool): every
 * field of its row except `seq` and the links. `decisionId` and `ts` are fixed when the decision
 * is recorded; the row gets its place when it is inserted (see append.ts).
 */
export type PendingRow = Omit<AuditRow, 'seq' | 'prevHash' | 'hash'>;

/**
 * The entry as its row will be stored: an id and a time given, text and JSON made storable,
 * ids in lower case as Postgres prints them (the hash covers them as read back).
 */
export function pendingRow(entry: AuditEntry): PendingRow {
  const result = toStorableJson(entry.result);
  return {
    decisionId: (entry.decisionId ?? randomUUID()).toLowerCase(),
    tenantId: entry.tenantId.toLowerCase(),
    ts: new Date((entry.ts ?? new Date()).getTime()),
    path: storableText(entry.path),
    bundleName: optionalText(entry.bundleName),
    bundleVersion: optionalText(entry.bundleVersion),
    bundleRevision: optionalText(entry.bundleRevision),
    input: toStorableJson(entry.input),
    result,
    allowed: deriveAllowed(result),
    caller: optionalText(entry.caller),
    cache: entry.cache,
    durationUs: Math.max(0, Math.min(2_147_483_647, Math.round(entry.durationUs))),
    ...(entry.rollout === undefined ? {} : { rollout: { ...entry.rollout } }),
    ...(entry.traceId === undefined ? {} : { traceId: entry.traceId }),
  };
}

/**
 * The pending row as the next row of a chain: numbered after `head`, linked to its hash, and
 * never earlier than it (a row recorded before the head, by another process or under a clock
 * that stepped back, takes the head's `ts`), so time ranges of a chain are runs of consecutive
 * rows.
 */
export function linkRow(pending: PendingRow, head: ChainHead | undefined): AuditRow {
  const prevHash = head?.hash ?? genesisHash;
  const ts = head !== undefined && pending.ts.getTime() < head.ts.getTime() ? head.ts : pending.ts;
  const row: Omit<AuditRow, 'hash'> = {
    ...pending,
    seq: (head?.seq ?? 0) + 1,
    ts: new Date(ts.getTime()),
    prevHash,
  };
  return { ...row, hash: rowHash(prevHash, row) };
}

/** The entry as the next row of a chain (`pendingRow`, then `linkRow`). */
export function chainRow(entry: AuditEntry, head: ChainHead | undefined): AuditRow {
  return linkRow(pendingRow(entry), head);
}

/** Where a chain ends once `row` is its last row. */
export function headOf(row: AuditRow): ChainHead {
  return { seq: row.seq, hash: row.hash, ts: row.ts };
}
