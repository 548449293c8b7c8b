/**
 * Retention of the decision log: months of decisions older than a tenant's
 * `audit_retention_days` are exported, then removed (see docs/auditing.md, "Retention").
 *
 * Partitions hold one UTC month of every tenant. A month is pruned for a tenant once the whole
 * month is older than the tenant's cutoff (now minus its retention). Each such tenant's rows
 * are exported to a file first (archive.ts); then the month's partition is detached and
 * dropped when every tenant with rows in it is pruned, or only those tenants' rows are
 * deleted otherwise. Both happen in one transaction with the chain anchors (anchors.ts), so
 * verification picks up where the removed rows ended. Months are taken oldest first and a
 * tenant's removed rows are always the start of its chain: after a tenant's month is kept
 * (its chain did not verify, or it changed while exported), none of its later months is
 * pruned in that run.
 *
 * Never touched: the current month, `decisions_default` as a table (its rows are deleted
 * like any shared month's), tenants without a retention, rows of tenants that no longer
 * exist, and a tenant's newest month — the audit writer continues a chain from the newest
 * row in the table, so a chain must keep at least its last row.
 */
import type { Knex } from 'knex';
import { VerdictError } from '../../errors';
import { insertAnchors, type AnchorRecord } from './anchors';
import { archiveMonth, archivePath, type Archive } from './archive';
import {
  addMonths,
  listDecisionPartitions,
  monthLabel,
  monthStart,
  partitionMonth,
} from './partitions';
import { chainStart } from './verify';

export interface PruneOptions {
  /** The time retention counts back from (default: now); never later than now. */
  now?: Date;
  /** Where exported rows go; needed unless `dryRun`. */
  exportDir?: string;
  /** Plan only: nothing is exported or removed. */
  dryRun?: boolean;
  /** Rows read per query while exporting (default 1000). */
  pageSize?: number;
}

/** Why a tenant's rows of a month stay. */
export type KeepReason =
  | 'kept_forever'
  | 'within_retention'
  | 'unknown_tenant'
  | 'newest_month'
  | 'chain_broken'
  | 'changed'
  | 'earlier_month_kept';

export interface TenantMonthRows {
  tenantId: string;
  /** null when no tenant has this id any more. */
  slug: string | null;
  rows: number;
  firstSeq: number;
  lastSeq: number;
}

export interface PrunedRows extends TenantMonthRows {
  /** The export file (on a dry run: where it would go, when an export folder was given). */
  file?: string;
  /** SHA-256 of the export file; absent on a dry run. */
  sha256?: string;
}

export interface KeptRows extends TenantMonthRows {
  reason: KeepReason;
  /** More about the reason: a broken link's problem, the retention in days. */
  detail?: string;
}

export interface MonthOutcome {
  /** `2026-05` */
  month: string;
  /** The table that holds the month's rows: its partition, or `decisions_default`. */
  table: string;
  /** What was done (or, on a dry run, would be): drop the partition, delete rows, nothing. */
  action: 'drop' | 'delete' | 'none';
  pruned: PrunedRows[];
  kept: KeptRows[];
}

export interface PruneReport {
  now: Date;
  dryRun: boolean;
  /** The months with something to prune or a tenant that could not be pruned. */
  months: MonthOutcome[];
  /** Tenant months kept because their chain did not verify or changed meanwhile. */
  problems: number;
}

interface TenantRetention {
  slug: string;
  days: number | null;
}

interface MonthPlan {
  start: Date;
  end: Date;
  table: string;
  /** Rows of tenants past retention, and of the others. */
  due: TenantMonthRows[];
  kept: KeptRows[];
}

const day = 86_400_000;

async function tenantRetentions(knex: Knex): Promise<Map<string, TenantRetention>> {
  const rows = await knex<{ id: string; slug: string; audit_retention_days: number | null }>(
    'tenants',
  ).select('id', 'slug', 'audit_retention_days');
  return new Map(rows.map((row) => [row.id, { slug: row.slug, days: row.audit_retention_days }]));
}

/** The first month not yet past a tenant's retention at `now`. */
function retainedFrom(days: number, now: Date): Date {
  return monthStart(new Date(now.getTime() - days * day));
}

/** Months that may hold prunable rows, oldest first, with the table holding each. */
async function candidateMonths(
  knex: Knex,
  before: Date,
): Promise<{ start: Date; table: string }[]> {
  const months = new Map<number, string>();
  for (const name of await listDecisionPartitions(knex)) {
    const month = partitionMonth(name);
    if (month !== undefined && addMonths(month, 1) <= before) months.set(month.getTime(), name);
  }
  const inDefault = await knex.raw<{ rows: { month: Date }[] }>(
    `select distinct date_trunc('month', ts, 'UTC') as month from decisions_default where ts < ?`,
    [before],
  );
  for (const { month } of inDefault.rows) {
    if (!months.has(month.getTime())) months.set(month.getTime(), 'decisions_default');
  }
  return [...months.entries()]
    .sort(([a], [b]) => a - b)
    .map(([time, table]) => ({ start: new Date(time), table }));
}

async function monthRows(knex: Knex, start: Date, end: Date): Promise<TenantMonthRows[]> {
  const result = await knex.raw<{
    rows: { tenant_id: string; rows: string; first_seq: string; last_seq: string }[];
  }>(
    `select tenant_id, count(*) as rows, min(seq) as first_seq, max(seq) as last_seq
       from decisions where ts >= ? and ts < ? group by tenant_id order by tenant_id`,
    [start, end],
  );
  return result.rows.map((row) => ({
    tenantId: row.tenant_id,
    slug: null,
    rows: Number(row.rows),
    firstSeq: Number(row.first_seq),
    lastSeq: Number(row.last_seq),
  }));
}

/** The start of the month holding each tenant's newest row (asked once per tenant). */
function newestMonths(knex: Knex): (tenantId: string) => Promise<number> {
  const known = new Map<string, number>();
  return async (tenantId) => {
    let month = known.get(tenantId);
    if (month === undefined) {
      const row = await knex('decisions')
        .where({ tenant_id: tenantId })
        .max<{ newest: Date }>('ts as newest')
        .first();
      month = monthStart(row?.newest ?? new Date(0)).getTime();
      known.set(tenantId, month);
    }
    return month;
  };
}

/** Which tenants' rows of each candidate month are due, and why the others stay. */
async function plan(knex: Knex, now: Date): Promise<MonthPlan[]> {
  const tenants = await tenantRetentions(knex);
  const current = monthStart(now);
  let horizon: Date | undefined;
  for (const { days } of tenants.values()) {
    if (days === null) continue;
    const from = retainedFrom(days, now);
    if (horizon === undefined || from > horizon) horizon = from;
  }
  if (horizon === undefined) return [];
  if (horizon > current) horizon = current;
  const newestMonth = newestMonths(knex);
  const plans: MonthPlan[] = [];
  for (const { start, table } of await candidateMonths(knex, horizon)) {
    const end = addMonths(start, 1);
    const monthPlan: MonthPlan = { start, end, table, due: [], kept: [] };
    for (const rows of await monthRows(knex, start, end)) {
      const tenant = tenants.get(rows.tenantId);
      rows.slug = tenant?.slug ?? null;
      const keep = (reason: KeepReason, detail?: string): void => {
        monthPlan.kept.push(
          detail === undefined ? { ...rows, reason } : { ...rows, reason, detail },
        );
      };
      if (tenant === undefined) keep('unknown_tenant');
      else if (tenant.days === null) keep('kept_forever');
      else if (end > retainedFrom(tenant.days, now))
        keep('within_retention', `${String(tenant.days)} days`);
      else if ((await newestMonth(rows.tenantId)) <= start.getTime()) keep('newest_month');
      else monthPlan.due.push(rows);
    }
    const emptyPartition = table !== 'decisions_default' && monthPlan.kept.length === 0;
    if (monthPlan.due.length > 0 || emptyPartition) plans.push(monthPlan);
  }
  return plans;
}

/** The month's rows no longer match what was exported: nothing of it is removed. */
class MonthChanged extends Error {}

type Counts = Map<string, { rows: number; lastSeq: number }>;

async function countsOf(
  query: Promise<{ rows: { tenant_id: string; rows: string; last_seq: string }[] }>,
): Promise<Counts> {
  const result = await query;
  return new Map(
    result.rows.map((row) => [
      row.tenant_id,
      { rows: Number(row.rows), lastSeq: Number(row.last_seq) },
    ]),
  );
}

function assertCounts(counts: Counts, archived: readonly Archived[], whole: boolean): void {
  const matches = archived.every(({ rows, archive }) => {
    const found = counts.get(rows.tenantId);
    return found?.rows === archive.rows && found.lastSeq === archive.lastSeq;
  });
  if (!matches || (whole && counts.size !== archived.length)) throw new MonthChanged();
}

interface Archived {
  rows: TenantMonthRows;
  archive: Archive;
}

function anchorRecords(month: Date, archived: readonly Archived[]): AnchorRecord[] {
  return archived.map(({ rows, archive }) => ({
    tenantId: rows.tenantId,
    month: monthLabel(month),
    firstSeq: rows.firstSeq,
    lastSeq: archive.lastSeq,
    lastHash: archive.lastHash,
    lastTs: archive.lastTs,
    exportFile: archive.file,
    exportSha256: archive.sha256,
  }));
}

/**
 * Removes what was archived, with the anchors, in one transaction; throws MonthChanged (and
 * removes nothing) when the month holds other rows than were exported.
 */
async function removeMonth(
  knex: Knex,
  monthPlan: MonthPlan,
  archived: readonly Archived[],
  action: 'drop' | 'delete',
): Promise<void> {
  await knex.transaction(async (trx) => {
    if (action === 'drop') {
      await trx.raw('lock table ?? in access exclusive mode', [monthPlan.table]);
      const counts = await countsOf(
        trx.raw(
          'select tenant_id, count(*) as rows, max(seq) as last_seq from ?? group by tenant_id',
          [monthPlan.table],
        ),
      );
      assertCounts(counts, archived, true);
      await insertAnchors(trx, anchorRecords(monthPlan.start, archived));
      await trx.raw('alter table decisions detach partition ??', [monthPlan.table]);
      await trx.raw('drop table ??', [monthPlan.table]);
      return;
    }
    const counts = await countsOf(
      trx.raw(
        `with gone as (
           delete from decisions where tenant_id = any(?::uuid[]) and ts >= ? and ts < ?
           returning tenant_id, seq)
         select tenant_id, count(*) as rows, max(seq) as last_seq from gone group by tenant_id`,
        [archived.map(({ rows }) => rows.tenantId), monthPlan.start, monthPlan.end],
      ),
    );
    assertCounts(counts, archived, true);
    await insertAnchors(trx, anchorRecords(monthPlan.start, archived));
  });
}

function checkNow(now: Date): void {
  if (Number.isNaN(now.getTime()) || now.getTime() > Date.now()) {
    throw new VerdictError(
      'bad_request',
      'The time to count retention back from must be a valid time no later than now.',
    );
  }
}

/**
 * Exports and removes every tenant's months past its retention (or, with `dryRun`, only
 * says what would be). Running it again removes nothing more until more months are due.
 */
export async function pruneDecisions(knex: Knex, options: PruneOptions = {}): Promise<PruneReport> {
  const now = options.now ?? new Date();
  checkNow(now);
  const dryRun = options.dryRun === true;
  const { exportDir } = options;
  if (!dryRun && exportDir === undefined) {
    throw new VerdictError(
      'bad_request',
      'Pruning exports the rows before removing them: name the folder to export to.',
    );
  }
  const report: PruneReport = { now, dryRun, months: [], problems: 0 };
  // Tenants with a kept month: none of their later months may go.
  const stopped = new Set<string>();
  for (const monthPlan of await plan(knex, now)) {
    const outcome: MonthOutcome = {
      month: monthLabel(monthPlan.start),
      table: monthPlan.table,
      action: 'none',
      pruned: [],
      kept: [...monthPlan.kept],
    };
    const archived: Archived[] = [];
    const keep = (rows: TenantMonthRows, reason: KeepReason, detail?: string): void => {
      outcome.kept.push(detail === undefined ? { ...rows, reason } : { ...rows, reason, detail });
      stopped.add(rows.tenantId);
      if (reason === 'chain_broken' || reason === 'changed') report.problems++;
    };
    for (const rows of monthPlan.due) {
      if (stopped.has(rows.tenantId)) {
        keep(rows, 'earlier_month_kept');
        continue;
      }
      const file =
        exportDir === undefined
          ? undefined
          : archivePath(exportDir, rows.tenantId, monthPlan.start, rows.firstSeq, rows.lastSeq);
      if (dryRun) {
        outcome.pruned.push(file === undefined ? { ...rows } : { ...rows, file });
        continue;
      }
      const archive = await archiveMonth(knex, {
        tenantId: rows.tenantId,
        month: monthPlan.start,
        end: monthPlan.end,
        start: await chainStart(knex, rows.tenantId),
        firstSeq: rows.firstSeq,
        lastSeq: rows.lastSeq,
        exportDir: exportDir as string,
        ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
      });
      if (archive.kind === 'broken') {
        keep(rows, 'chain_broken', `seq ${String(archive.seq)}: ${archive.problem}`);
      } else if (archive.kind === 'changed') {
        keep(rows, 'changed');
      } else {
        archived.push({ rows, archive });
      }
    }
    const prunedCount = dryRun ? outcome.pruned.length : archived.length;
    const whole = outcome.kept.length === 0 && monthPlan.table !== 'decisions_default';
    outcome.action = whole ? 'drop' : prunedCount > 0 ? 'delete' : 'none';
    if (!dryRun && outcome.action !== 'none') {
      try {
        await removeMonth(knex, monthPlan, archived, outcome.action);
        outcome.pruned = archived.map(({ rows, archive }) => ({
          ...rows,
          file: archive.file,
          sha256: archive.sha256,
        }));
      } catch (err) {
        if (!(err instanceof MonthChanged)) throw err;
        outcome.action = 'none';
        for (const { rows } of archived) keep(rows, 'changed');
      }
    }
    report.months.push(outcome);
  }
  return report;
}
