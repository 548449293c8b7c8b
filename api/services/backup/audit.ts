/**
 * Which decision-log rows and chain anchors a backup holds.
 *
 * - `all`: every row and anchor (of the chosen tenants).
 * - `range` (`--audit-from`/`--audit-to`): per tenant, the run of its chain from the first to
 *   the last row whose `ts` is in [from, to) — whole runs of seq, so the rows link to each
 *   other — and the anchors before that run.
 * - `none`: no rows; each chain's anchors up to its last row.
 *
 * A restored chain must verify and must go on where it stopped, so when a tenant's restored
 * rows do not start at its first row (or at its latest anchor), the backup adds an anchor at
 * the row just before them — exactly what retention pruning records after removing rows
 * (anchors.ts): `verdict decisions verify` starts from it, and the audit writer continues the
 * chain from it. Such an anchor's `export_sha256` is 64 zeros and its `export_file` says that
 * the rows it stands for are not in this backup. With `none`, the anchor sits at the chain's
 * last row, so decisions made after a restore continue the source's chain.
 */
import type pg from 'pg';

export type AuditSelection =
  | { mode: 'all' }
  | { mode: 'none' }
  | { mode: 'range'; from: Date | undefined; to: Date | undefined };

/** One tenant's part: its chain's rows `firstSeq..lastSeq` (none when absent) and start. */
interface TenantRun {
  tenantId: string;
  firstSeq: number | undefined;
  lastSeq: number | undefined;
  /** The chain position the restored rows link to: 0 for the genesis. */
  start: number;
}

export interface AuditPlan {
  /** The anchors' query (`$n` bound to `params`) on the table's alias `t`. */
  anchors: { where: string; params: unknown[] };
  decisions: { from: string; where: string; params: unknown[] };
  /** Anchors to add after the source's, as column name to text value. */
  rangeAnchors: Record<string, string>[];
  /** Tenants whose restored chain cannot verify (a row before the range is missing). */
  broken: string[];
}

const zeros = '0'.repeat(64);

function tenantFilter(tenantIds: readonly string[] | undefined, column: string): string {
  return tenantIds === undefined ? 'true' : `${column} = any($1::uuid[])`;
}

export async function planAudit(
  client: pg.Client,
  selection: AuditSelection,
  tenantIds: readonly string[] | undefined,
  createdAt: string,
): Promise<AuditPlan> {
  const scope = tenantIds === undefined ? [] : [[...tenantIds]];
  if (selection.mode === 'all') {
    return {
      anchors: { where: tenantFilter(tenantIds, 't.tenant_id'), params: scope },
      decisions: {
        from: 'decisions t',
        where: tenantFilter(tenantIds, 't.tenant_id'),
        params: scope,
      },
      rangeAnchors: [],
      broken: [],
    };
  }
  const from = selection.mode === 'range' ? selection.from : undefined;
  const to = selection.mode === 'range' ? selection.to : undefined;
  const runs = await tenantRuns(client, selection.mode === 'range', from, to, tenantIds);
  const rangeAnchors: Record<string, string>[] = [];
  const broken: string[] = [];
  for (const run of runs) {
    const anchor = await rangeAnchor(client, run, createdAt);
    if (anchor === 'missing') broken.push(run.tenantId);
    else if (anchor !== undefined) rangeAnchors.push(anchor);
  }
  const ids = runs.map((run) => run.tenantId);
  const starts = runs.map((run) => run.start);
  const withRows = runs.filter((run) => run.firstSeq !== undefined);
  return {
    anchors: {
      where: `exists (select 1 from unnest($1::uuid[], $2::bigint[]) r(tenant_id, start)
                       where r.tenant_id = t.tenant_id and t.last_seq <= r.start)`,
      params: [ids, starts],
    },
    decisions: {
      from: `decisions t join unnest($1::uuid[], $2::bigint[], $3::bigint[]) r(tenant_id, first_seq, last_seq)
               on t.tenant_id = r.tenant_id and t.seq between r.first_seq and r.last_seq`,
      where: 'true',
      params: [
        withRows.map((run) => run.tenantId),
        withRows.map((run) => run.firstSeq),
        withRows.map((run) => run.lastSeq),
      ],
    },
    rangeAnchors,
    broken,
  };
}

/**
 * Each tenant's rows in [from, to) as a seq run, and where its restored chain starts: the row
 * before the run, or — without rows in the range — the last chain position before `to`.
 */
async function tenantRuns(
  client: pg.Client,
  withRows: boolean,
  from: Date | undefined,
  to: Date | undefined,
  tenantIds: readonly string[] | undefined,
): Promise<TenantRun[]> {
  const bounds = [from ?? '-infinity', to ?? 'infinity'];
  const inRange = new Map<string, { first: number; last: number }>();
  if (withRows) {
    const scope = tenantIds === undefined ? 'true' : 'tenant_id = any($3::uuid[])';
    const result = await client.query<{ tenant_id: string; first: string; last: string }>(
      `select tenant_id, min(seq) as first, max(seq) as last from decisions
        where ts >= $1::timestamptz and ts < $2::timestamptz and ${scope} group by tenant_id`,
      tenantIds === undefined ? bounds : [...bounds, [...tenantIds]],
    );
    for (const row of result.rows) {
      inRange.set(row.tenant_id, { first: Number(row.first), last: Number(row.last) });
    }
  }
  const everyTenant = tenantIds ?? (await chainTenants(client));
  const runs: TenantRun[] = [];
  for (const [tenantId, run] of inRange) {
    runs.push({ tenantId, firstSeq: run.first, lastSeq: run.last, start: run.first - 1 });
  }
  for (const tenantId of everyTenant) {
    if (inRange.has(tenantId)) continue;
    const result = await client.query<{ start: string | null }>(
      `select greatest(
          (select max(seq) from decisions where tenant_id = $1 and ts < $2::timestamptz),
          (select max(last_seq) from audit_chain_anchors where tenant_id = $1 and last_ts < $2::timestamptz)
        ) as start`,
      [tenantId, to ?? 'infinity'],
    );
    const start = result.rows[0]?.start ?? null;
    runs.push({
      tenantId,
      firstSeq: undefined,
      lastSeq: undefined,
      start: start === null ? 0 : Number(start),
    });
  }
  return runs;
}

/**
 * Every tenant with a chain: with rows (found a tenant at a time through the index, not by
 * reading the table) or anchors.
 */
async function chainTenants(client: pg.Client): Promise<string[]> {
  const result = await client.query<{ id: string }>(
    `with recursive chained(id) as (
        (select tenant_id from decisions order by tenant_id limit 1)
        union all
        select (select d.tenant_id from decisions d where d.tenant_id > chained.id
                 order by d.tenant_id limit 1)
          from chained where chained.id is not null)
      select id from chained where id is not null
      union select tenant_id from audit_chain_anchors order by 1`,
  );
  return result.rows.map((row) => row.id);
}

/**
 * The anchor a tenant's restored chain needs at its start, undefined when none is needed (it
 * starts at the genesis or at an anchor of the source), 'missing' when the row it would stand
 * for is gone.
 */
async function rangeAnchor(
  client: pg.Client,
  run: TenantRun,
  createdAt: string,
): Promise<Record<string, string> | 'missing' | undefined> {
  if (run.start === 0) return undefined;
  const anchors = await client.query<{ last: string | null }>(
    'select max(last_seq) as last from audit_chain_anchors where tenant_id = $1 and last_seq <= $2',
    [run.tenantId, run.start],
  );
  const previous = anchors.rows[0]?.last ?? null;
  if (previous !== null && Number(previous) === run.start) return undefined;
  const firstSeq = previous === null ? 1 : Number(previous) + 1;
  const row = await client.query<Record<string, string>>(
    `select tenant_id, to_char(date_trunc('month', ts, 'UTC'), 'YYYY-MM-DD') as month,
            $3::bigint::text as first_seq, seq as last_seq, hash as last_hash, ts as last_ts,
            (seq - $3::bigint + 1)::text as rows, $4::text as export_file,
            $5::text as export_sha256, $6::timestamptz as pruned_at
       from decisions where tenant_id = $1 and seq = $2 order by ts limit 1`,
    [
      run.tenantId,
      run.start,
      firstSeq,
      `not exported: rows ${String(firstSeq)}-${String(run.start)} were left out of the verdict backup of ${createdAt}`,
      zeros,
      createdAt,
    ],
  );
  return row.rows[0] ?? 'missing';
}
