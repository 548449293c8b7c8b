/**
 * Allow/deny counts of one tenant's decision log over time, for the auditor console's chart.
 * Postgres does the counting: rows are grouped into UTC-aligned buckets (a minute, an hour or
 * a day) with `date_trunc`, and every bucket of the range is present, empty ones with zeros,
 * so a chart's time axis has no holes. The first and last buckets may cover the range only in
 * part: rows outside [from, to) are never counted. Every value from the caller is a bound
 * parameter. The counting runs in a tenant-scoped transaction (api/db/tenant-scope.ts).
 */
import type { Knex } from 'knex';
import { withTenant } from '../../db/tenant-scope';
import type { InputFilter } from './input-filter';
import { applyDecisionFilters } from './search';

export const statsBuckets = ['minute', 'hour', 'day'] as const;
export type StatsBucket = (typeof statsBuckets)[number];

/** How long each bucket is. */
export const bucketMs: Readonly<Record<StatsBucket, number>> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};

/** The most buckets one answer holds: a week of hours, a day of minutes, years of days. */
export const maxStatsBuckets = 2000;

export interface StatsFilters {
  path?: string;
  bundleVersion?: string;
  caller?: string;
  input?: InputFilter;
  /** `decision`: served decisions only; `shadow`: rollout comparison rows only; absent: both. */
  kind?: 'decision' | 'shadow';
  rolloutId?: string;
}

export interface StatsRequest {
  /** Rows at or after this time. */
  readonly from: Date;
  /** Rows before this time. */
  readonly to: Date;
  readonly bucket: StatsBucket;
  readonly filters: StatsFilters;
}

export interface BucketCounts {
  /** The bucket's start, UTC, `2026-11-27T10:00:00Z`. */
  readonly start: string;
  /** Decisions whose result allowed (`true`, or `{"allow": true}`). */
  readonly allowed: number;
  /** Decisions whose result denied. */
  readonly denied: number;
  /** Decisions with any other result (undefined, or not a yes/no answer). */
  readonly other: number;
}

/** How many buckets of `bucket` the range [from, to) touches. */
export function bucketCount(from: Date, to: Date, bucket: StatsBucket): number {
  const size = bucketMs[bucket];
  // Minute, hour and day starts in UTC are whole multiples of the size since the epoch.
  const first = Math.floor(from.getTime() / size);
  const last = Math.floor((to.getTime() - 1) / size);
  return Math.max(0, last - first + 1);
}

function countedRows(
  trx: Knex.Transaction,
  tenantId: string,
  request: StatsRequest,
): Knex.QueryBuilder {
  const builder = trx('decisions')
    .select(
      trx.raw(`date_trunc(?, ts at time zone 'UTC') as start`, [request.bucket]),
      trx.raw('count(*) filter (where allowed) as allowed'),
      trx.raw('count(*) filter (where not allowed) as denied'),
      trx.raw('count(*) filter (where allowed is null) as other'),
    )
    .where('tenant_id', tenantId)
    .groupByRaw('1');
  return applyDecisionFilters(builder, { ...request.filters, from: request.from, to: request.to });
}

interface CountRow {
  start: string;
  allowed: number;
  denied: number;
  other: number;
}

/** Counts per bucket over [from, to), oldest bucket first. */
export async function decisionCounts(
  knex: Knex,
  tenantId: string,
  request: StatsRequest,
): Promise<BucketCounts[]> {
  return withTenant(knex, tenantId, (trx) => countsIn(trx, tenantId, request));
}

async function countsIn(
  trx: Knex.Transaction,
  tenantId: string,
  request: StatsRequest,
): Promise<BucketCounts[]> {
  const series = trx.raw(
    `generate_series(
       date_trunc(?, ?::timestamptz at time zone 'UTC'),
       (?::timestamptz - interval '1 microsecond') at time zone 'UTC',
       ?::interval
     ) as series(start)`,
    [request.bucket, request.from, request.to, `1 ${request.bucket}`],
  );
  const rows = (await trx
    .with('counted', countedRows(trx, tenantId, request))
    .select(
      trx.raw(`to_char(series.start, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as start`),
      trx.raw('coalesce(counted.allowed, 0)::int as allowed'),
      trx.raw('coalesce(counted.denied, 0)::int as denied'),
      trx.raw('coalesce(counted.other, 0)::int as other'),
    )
    .from(series)
    .leftJoin('counted', 'counted.start', 'series.start')
    .orderBy('series.start')) as CountRow[];
  return rows.map((row) => ({
    start: row.start,
    allowed: row.allowed,
    denied: row.denied,
    other: row.other,
  }));
}
