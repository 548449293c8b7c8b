/**
 * Allow/deny counts over time for auditors: `GET /v1/tenants/{tenant}/decisions/stats` with
 * `from`, `to`, `bucket` (minute, hour or day; hour by default) and the search filters `path`,
 * `bundle_version`, `caller`, `input`, `kind` and `rollout`. Without `to` the range ends now; without `from` it
 * starts one default span (an hour of minutes, a day of hours, 30 days) before its end.
 * Same access as the rest of the decision log: the admin token, or the tenant's own API key
 * with `audit:read`.
 *
 * Mounted before the decisions router, whose `/decisions/:id` would otherwise take `stats`
 * for a decision id.
 */
import type { Knex } from 'knex';
import { Router } from 'express';
import type { PlatformAccess } from '../auth/access';
import { decisionStatsSchema, type DecisionStatsQuery } from '../schemas/decision-stats';
import { parameterProblem, queryValidator } from '../schemas/decisions';
import { parseInputFilter } from '../services/audit/input-filter';
import {
  bucketCount,
  decisionCounts,
  maxStatsBuckets,
  type StatsBucket,
  type StatsFilters,
} from '../services/audit/stats';
import type { TenantService } from '../services/tenants';
import { tenantId } from './decisions';

export interface DecisionStatsRouterOptions {
  readonly access: PlatformAccess;
  readonly tenants: TenantService;
  readonly knex: Knex;
  /** The clock a range without `to` ends at. */
  readonly now?: () => Date;
}

/** How far back a range without `from` reaches, per bucket size. */
const defaultSpanMs: Readonly<Record<StatsBucket, number>> = {
  minute: 3_600_000,
  hour: 86_400_000,
  day: 30 * 86_400_000,
};

const validateStats = queryValidator(decisionStatsSchema);

function filtersOf(query: DecisionStatsQuery): StatsFilters {
  const filters: StatsFilters = {};
  if (query.path !== undefined) filters.path = query.path;
  if (query.bundle_version !== undefined) filters.bundleVersion = query.bundle_version;
  if (query.caller !== undefined) filters.caller = query.caller;
  if (query.kind !== undefined) filters.kind = query.kind;
  if (query.rollout !== undefined) filters.rolloutId = query.rollout.toLowerCase();
  if (query.input !== undefined) {
    const input = parseInputFilter(query.input);
    if (typeof input === 'string') throw parameterProblem('?input', input);
    filters.input = input;
  }
  return filters;
}

function rangeOf(
  query: DecisionStatsQuery,
  bucket: StatsBucket,
  now: () => Date,
): { from: Date; to: Date } {
  const to = query.to === undefined ? now() : new Date(query.to);
  const from =
    query.from === undefined
      ? new Date(to.getTime() - defaultSpanMs[bucket])
      : new Date(query.from);
  if (from >= to) throw parameterProblem('?to', 'must be later than ?from');
  const buckets = bucketCount(from, to, bucket);
  if (buckets > maxStatsBuckets) {
    throw parameterProblem(
      '?bucket',
      `${bucket} gives ${buckets} buckets over this range, more than ${maxStatsBuckets}: ` +
        'choose a larger bucket or a shorter range',
    );
  }
  return { from, to };
}

export function decisionStatsRouter(options: DecisionStatsRouterOptions): Router {
  const router = Router();
  const { tenants, knex } = options;
  const now = options.now ?? (() => new Date());

  router.get(
    '/v1/tenants/:tenant/decisions/stats',
    // The auditor console's chart: its session cookie is taken here.
    options.access.require('decisions.read', { consoleSession: true }),
    async (req, res) => {
      const query = validateStats(req.query);
      const bucket = query.bucket ?? 'hour';
      const filters = filtersOf(query);
      const range = rangeOf(query, bucket, now);
      const buckets = await decisionCounts(knex, await tenantId(tenants, req), {
        ...range,
        bucket,
        filters,
      });
      const totals = { allowed: 0, denied: 0, other: 0 };
      for (const counts of buckets) {
        totals.allowed += counts.allowed;
        totals.denied += counts.denied;
        totals.other += counts.other;
      }
      res.json({
        bucket,
        from: range.from.toISOString(),
        to: range.to.toISOString(),
        buckets,
        totals,
      });
    },
  );

  return router;
}
