/**
 * Verifies a tenant's chain as stored: reads the rows in seq order and recomputes every
 * link. Finds altered rows (hash no longer matches the content), removed or inserted rows
 * (a gap or a repeat in seq, a prev_hash that does not match), and reordered rows. What it
 * cannot see alone is rows cut off the end of the chain: compare `lastHash` with a head
 * kept elsewhere (see docs/auditing.md). A chain whose oldest rows were pruned starts from
 * its anchor (the last pruned row) instead of the genesis hash. Every read is a
 * tenant-scoped transaction of its own (api/db/tenant-scope.ts), one per page.
 */
import type { Knex } from 'knex';
import { withTenant } from '../../db/tenant-scope';
import { readChainAnchor } from './anchors';
import { genesisHash, rowHash, type AuditRow } from './chain';
import { readChainPage, readChainRow } from './store';

export interface VerifyOptions {
  /** Only rows at or after this time (the link into the first one is still checked). */
  from?: Date;
  /** Only rows before this time. */
  to?: Date;
  /** Rows read per query (default 1000). */
  pageSize?: number;
}

export interface VerifyResult {
  ok: boolean;
  /** Rows found intact. */
  rows: number;
  /** The first row that does not verify. */
  firstBadDecisionId?: string;
  firstBadSeq?: number;
  reason?: string;
  /** The last intact row: where the verified part of the chain ends. */
  lastSeq?: number;
  lastHash?: string;
  /** Set when the verified rows start after pruned ones: the last pruned row. */
  anchor?: Link;
}

/** A place in a chain: a row's seq and hash (seq 0 and the genesis hash before the first). */
export interface Link {
  seq: number;
  hash: string;
}

const genesis: Link = { seq: 0, hash: genesisHash };

/**
 * What a tenant's remaining chain starts from: the last row pruned from it (its anchor), or
 * the genesis when nothing was pruned.
 */
export async function chainStart(knex: Knex, tenantId: string): Promise<Link> {
  const anchor = await readChainAnchor(knex, tenantId);
  return anchor === undefined ? genesis : { seq: anchor.seq, hash: anchor.hash };
}

/** Why `row` does not follow `previous`, or undefined when it does. */
export function linkProblem(row: AuditRow, previous: Link): string | undefined {
  if (row.seq !== previous.seq + 1) {
    return row.seq <= previous.seq
      ? `seq ${row.seq} appears again after seq ${previous.seq}`
      : `rows ${previous.seq + 1}..${row.seq - 1} are missing before seq ${row.seq}`;
  }
  if (row.prevHash !== previous.hash) {
    return previous.seq === 0
      ? `seq ${row.seq} is the first row but its prev_hash is not the genesis hash`
      : `prev_hash of seq ${row.seq} does not match the hash of seq ${previous.seq}`;
  }
  if (rowHash(row.prevHash, row) !== row.hash) {
    return `hash of seq ${row.seq} does not match its content (the row was altered)`;
  }
  return undefined;
}

/**
 * Where the range's first row must link to: the row before it, the genesis, or — when the
 * row before was pruned — the chain's anchor.
 */
async function linkBefore(
  knex: Knex,
  first: AuditRow,
): Promise<{ to: Link; pruned: boolean } | string> {
  if (first.seq === 1) return { to: genesis, pruned: false };
  const previous = await readChainRow(knex, first.tenantId, first.seq - 1);
  if (previous !== undefined) {
    return { to: { seq: previous.seq, hash: previous.hash }, pruned: false };
  }
  const start = await chainStart(knex, first.tenantId);
  if (start.seq === first.seq - 1) return { to: start, pruned: true };
  return `row ${first.seq - 1} before seq ${first.seq} is missing`;
}

export async function verifyChain(
  knex: Knex,
  tenantId: string,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const pageSize = Math.max(1, Math.floor(options.pageSize ?? 1000));
  const scoped = <T>(work: (trx: Knex.Transaction) => Promise<T>): Promise<T> =>
    withTenant(knex, tenantId, work);
  let previous: Link | undefined =
    options.from === undefined ? await scoped((trx) => chainStart(trx, tenantId)) : undefined;
  // Where the verified rows start when that is after pruned ones.
  let anchor: Link | undefined = previous !== undefined && previous.seq > 0 ? previous : undefined;
  let verified = 0;
  let after: AuditRow | undefined;
  const intact = (): VerifyResult => {
    const result: VerifyResult =
      previous === undefined || verified === 0
        ? { ok: true, rows: verified }
        : { ok: true, rows: verified, lastSeq: previous.seq, lastHash: previous.hash };
    if (anchor !== undefined) result.anchor = anchor;
    return result;
  };
  for (;;) {
    const page = await scoped((trx) =>
      readChainPage(trx, {
        tenantId,
        after: after === undefined ? undefined : { seq: after.seq, ts: after.ts },
        from: options.from,
        to: options.to,
        limit: pageSize,
      }),
    );
    for (const row of page) {
      if (previous === undefined) {
        const before = await scoped((trx) => linkBefore(trx, row));
        if (typeof before === 'string') return bad(row, before, verified, previous);
        previous = before.to;
        if (before.pruned) anchor = before.to;
      }
      const problem = linkProblem(row, previous);
      if (problem !== undefined) return bad(row, problem, verified, previous);
      previous = { seq: row.seq, hash: row.hash };
      verified++;
    }
    const last = page[page.length - 1];
    if (last === undefined || page.length < pageSize) return intact();
    after = last;
  }
}

function bad(
  row: AuditRow,
  reason: string,
  verified: number,
  previous: Link | undefined,
): VerifyResult {
  const result: VerifyResult = {
    ok: false,
    rows: verified,
    firstBadDecisionId: row.decisionId,
    firstBadSeq: row.seq,
    reason,
  };
  if (previous !== undefined && previous.seq > 0) {
    result.lastSeq = previous.seq;
    result.lastHash = previous.hash;
  }
  return result;
}
