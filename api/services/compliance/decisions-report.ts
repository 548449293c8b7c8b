/**
 * The decisions report: how many decisions a tenant's log holds for [from, to), per policy
 * version (bundle name, version, revision), data path and caller (API key), split by outcome.
 * One aggregate query over the partitioned `decisions` table: the tenant and time bounds let
 * Postgres prune partitions and use the (tenant_id, ts) index, and the answer has one row per
 * group whatever the range. It runs in a tenant-scoped transaction (api/db/tenant-scope.ts).
 *
 * Outcomes, from what each row stores: `allowed` / `denied` (the `allowed` column: a boolean
 * result or an object with a boolean `allow`), `undefined` (no result), `other` (a result
 * that is not a yes/no answer). Evaluation errors are answered with a problem and write no
 * row, so the log has none to count (the metrics count them). Only served decisions are
 * counted: rollout comparison rows (`compared_with` set) answered nobody. Rows come in byte
 * order of their group columns (collation "C"), the same on every server.
 */
import type { Knex } from 'knex';
import { withTenant } from '../../db/tenant-scope';
import { VerdictError } from '../../errors';
import { toCsv } from './csv';
import type { TenantRef } from './tenant-ref';

export interface OutcomeCounts {
  readonly total: number;
  readonly allowed: number;
  readonly denied: number;
  readonly undefined: number;
  readonly other: number;
}

export interface DecisionsReportRow extends OutcomeCounts {
  readonly bundle_name: string | null;
  readonly bundle_version: string | null;
  readonly bundle_revision: string | null;
  readonly path: string;
  /** The caller as logged: an API key id (for the platform chain, `kind:id`). */
  readonly caller: string | null;
  /** The API key's name, when the caller is a key of the tenant. */
  readonly caller_name: string | null;
}

export interface DecisionsReport {
  readonly tenant: { readonly id: string; readonly slug: string };
  readonly from: string;
  readonly to: string;
  readonly totals: OutcomeCounts;
  readonly rows: readonly DecisionsReportRow[];
}

interface Record {
  bundle_name: string | null;
  bundle_version: string | null;
  bundle_revision: string | null;
  path: string;
  caller: string | null;
  caller_name: string | null;
  total: string;
  allowed: string;
  denied: string;
  undefined: string;
  other: string;
}

const groupColumns = 'bundle_name, bundle_version, bundle_revision, path, caller';

const reportSql = `
  select g.bundle_name, g.bundle_version, g.bundle_revision, g.path, g.caller,
         k.name as caller_name, g.total, g.allowed, g.denied, g.undefined, g.other
    from (
      select ${groupColumns},
             count(*) as total,
             count(*) filter (where allowed) as allowed,
             count(*) filter (where not allowed) as denied,
             count(*) filter (where allowed is null and result is null) as undefined,
             count(*) filter (where allowed is null and result is not null) as other
        from decisions
       where tenant_id = ? and ts >= ? and ts < ? and compared_with is null
       group by ${groupColumns}
    ) g
    left join api_keys k on k.tenant_id = ? and k.id::text = g.caller
   order by g.bundle_name collate "C" nulls first, g.bundle_version collate "C" nulls first,
            g.bundle_revision collate "C" nulls first, g.path collate "C",
            g.caller collate "C" nulls first`;

const outcomes = ['total', 'allowed', 'denied', 'undefined', 'other'] as const;

function counts(record: Record): OutcomeCounts {
  return {
    total: Number(record.total),
    allowed: Number(record.allowed),
    denied: Number(record.denied),
    undefined: Number(record.undefined),
    other: Number(record.other),
  };
}

export function checkRange(from: Date, to: Date): void {
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) {
    throw new VerdictError('bad_request', '--from and --to must be valid times.');
  }
  if (from.getTime() >= to.getTime()) {
    throw new VerdictError('bad_request', '--from must be before --to.');
  }
}

export async function decisionsReport(
  knex: Knex,
  tenant: TenantRef,
  from: Date,
  to: Date,
): Promise<DecisionsReport> {
  checkRange(from, to);
  const records = await withTenant(knex, tenant.id, async (trx) => {
    const result = await trx.raw<{ rows: Record[] }>(reportSql, [tenant.id, from, to, tenant.id]);
    return result.rows;
  });
  const rows = records.map((record) => ({
    bundle_name: record.bundle_name,
    bundle_version: record.bundle_version,
    bundle_revision: record.bundle_revision,
    path: record.path,
    caller: record.caller,
    caller_name: record.caller_name,
    ...counts(record),
  }));
  const totals = { total: 0, allowed: 0, denied: 0, undefined: 0, other: 0 };
  for (const row of rows) for (const outcome of outcomes) totals[outcome] += row[outcome];
  return {
    tenant: { id: tenant.id, slug: tenant.slug },
    from: from.toISOString(),
    to: to.toISOString(),
    totals,
    rows,
  };
}

export const decisionsReportColumns = [
  'bundle_name',
  'bundle_version',
  'bundle_revision',
  'path',
  'caller',
  'caller_name',
  ...outcomes,
] as const;

export function decisionsReportCsv(report: DecisionsReport): string {
  return toCsv(
    decisionsReportColumns,
    report.rows.map((row) => decisionsReportColumns.map((column) => row[column])),
  );
}
