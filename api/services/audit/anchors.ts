/**
 * Chain anchors: where a tenant's chain starts after its oldest rows were pruned (see
 * retention.ts). Each prune of a tenant's month records the last removed row's `seq`, `hash`
 * and `ts` with the file the rows were exported to; the tenant's latest anchor is what its
 * first remaining row links to, in place of the genesis hash.
 */
import type { Knex } from 'knex';
import type { ChainHead } from './chain';

/** One pruned month of one tenant, as `audit_chain_anchors` keeps it. */
export interface AnchorRecord {
  tenantId: string;
  /** The UTC month the rows were in, e.g. `2026-05`. */
  month: string;
  firstSeq: number;
  lastSeq: number;
  lastHash: string;
  lastTs: Date;
  exportFile: string;
  exportSha256: string;
}

interface AnchorRow {
  tenant_id: string;
  last_seq: string;
  last_hash: string;
  last_ts: Date;
}

function anchorOf(row: AnchorRow): ChainHead {
  return { seq: Number(row.last_seq), hash: row.last_hash, ts: row.last_ts };
}

/** The tenant's latest anchor: the last row pruned from its chain, if any was. */
export async function readChainAnchor(
  knex: Knex,
  tenantId: string,
): Promise<ChainHead | undefined> {
  const row = await knex<AnchorRow>('audit_chain_anchors')
    .where({ tenant_id: tenantId })
    .orderBy('last_seq', 'desc')
    .first('tenant_id', 'last_seq', 'last_hash', 'last_ts');
  return row === undefined ? undefined : anchorOf(row);
}

/**
 * Every tenant's latest anchor. A chain pruned whole has no row left to continue from: its
 * head is its anchor (the audit writer reads both, store.ts `chainHeadsQuery`).
 */
export async function loadChainAnchors(knex: Knex): Promise<Map<string, ChainHead>> {
  const result = await knex.raw<{ rows: AnchorRow[] }>(
    `select distinct on (tenant_id) tenant_id, last_seq, last_hash, last_ts
       from audit_chain_anchors order by tenant_id, last_seq desc`,
  );
  return new Map(result.rows.map((row) => [row.tenant_id, anchorOf(row)]));
}

export async function insertAnchors(knex: Knex, records: readonly AnchorRecord[]): Promise<void> {
  if (records.length === 0) return;
  await knex('audit_chain_anchors').insert(
    records.map((record) => ({
      tenant_id: record.tenantId,
      month: `${record.month}-01`,
      first_seq: record.firstSeq,
      last_seq: record.lastSeq,
      last_hash: record.lastHash,
      last_ts: record.lastTs,
      rows: record.lastSeq - record.firstSeq + 1,
      export_file: record.exportFile,
      export_sha256: record.exportSha256,
    })),
  );
}
