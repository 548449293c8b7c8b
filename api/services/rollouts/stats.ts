/**
 * How a rollout is doing, read from the decision log (so every instance's decisions count,
 * and the figures survive restarts): served decisions per arm, comparisons, how many
 * disagreed, and the latest disagreeing decisions side by side. Audit rows are written in
 * batches, so the figures trail the traffic by the audit flush interval.
 */
import type { Knex } from 'knex';
import type { JsonValue } from '../audit';

export interface RolloutSample {
  readonly decision_id: string;
  readonly ts: Date;
  readonly path: string;
  /** The served decision's input, as logged (masked as its bundle says). */
  readonly input?: JsonValue;
  readonly served: {
    readonly arm: string;
    readonly version: string | null;
    readonly result?: JsonValue;
  };
  readonly compared: {
    readonly arm: string;
    readonly version: string | null;
    readonly result?: JsonValue;
  };
}

export interface RolloutStats {
  /** Served decisions by arm (`stable`, `canary`). */
  readonly served: Readonly<Record<string, number>>;
  /** Share of served decisions the canary answered (0 for a shadow). */
  readonly canary_share: number;
  /** Decisions evaluated on both versions. */
  readonly comparisons: number;
  readonly disagreements: number;
  /** disagreements / comparisons; null before the first comparison. */
  readonly disagreement_rate: number | null;
  readonly samples: readonly RolloutSample[];
}

/** How many disagreeing decisions a report shows. */
export const sampleCount = 5;

interface CountRow {
  arm: string;
  comparison: boolean;
  count: number;
  disagreements: number;
}

interface SampleRow {
  decision_id: string;
  ts: Date;
  path: string;
  input: string | null;
  served_arm: string;
  served_version: string | null;
  served_result: string | null;
  compared_arm: string;
  compared_version: string | null;
  compared_result: string | null;
}

function json(text: string | null): { value?: JsonValue } {
  return text === null ? {} : { value: JSON.parse(text) as JsonValue };
}

function withResult<T extends object>(base: T, text: string | null): T & { result?: JsonValue } {
  const { value } = json(text);
  return value === undefined ? base : { ...base, result: value };
}

export async function rolloutStats(
  knex: Knex,
  tenantId: string,
  rolloutId: string,
  startedAt: Date,
  endedAt: Date | null,
): Promise<RolloutStats> {
  // The time bounds let Postgres skip partitions outside the rollout's life; comparisons
  // are logged just after their decision, so the end bound has a minute's slack.
  const until = endedAt === null ? null : new Date(endedAt.getTime() + 60_000);
  const scoped = (query: Knex.QueryBuilder, alias: string): Knex.QueryBuilder => {
    void query
      .where(`${alias}.tenant_id`, tenantId)
      .where(`${alias}.rollout_id`, rolloutId)
      .where(`${alias}.ts`, '>=', startedAt);
    if (until !== null) void query.where(`${alias}.ts`, '<', until);
    return query;
  };
  const counts: CountRow[] = await scoped(
    knex('decisions as d').select(
      'd.rollout_arm as arm',
      knex.raw('(d.compared_with is not null) as comparison'),
      knex.raw('count(*)::int as count'),
      knex.raw('(count(*) filter (where d.agrees = false))::int as disagreements'),
    ),
    'd',
  ).groupByRaw('1, 2');

  const served: Record<string, number> = {};
  let comparisons = 0;
  let disagreements = 0;
  for (const row of counts) {
    if (row.comparison) {
      comparisons += row.count;
      disagreements += row.disagreements;
    } else {
      served[row.arm] = (served[row.arm] ?? 0) + row.count;
    }
  }
  const total = Object.values(served).reduce((sum, count) => sum + count, 0);

  const samples = (await scoped(
    knex('decisions as c')
      .join('decisions as s', function joinServed() {
        this.on('s.decision_id', '=', 'c.compared_with').andOn('s.tenant_id', '=', 'c.tenant_id');
      })
      .where('c.agrees', false)
      .where('s.ts', '>=', startedAt)
      .select(
        's.decision_id',
        's.ts',
        's.path',
        knex.raw('s.input::text as input'),
        's.rollout_arm as served_arm',
        's.bundle_version as served_version',
        knex.raw('s.result::text as served_result'),
        'c.rollout_arm as compared_arm',
        'c.bundle_version as compared_version',
        knex.raw('c.result::text as compared_result'),
      ),
    'c',
  )
    .orderBy('c.ts', 'desc')
    .limit(sampleCount)) as SampleRow[];

  return {
    served,
    canary_share: total === 0 ? 0 : (served.canary ?? 0) / total,
    comparisons,
    disagreements,
    disagreement_rate: comparisons === 0 ? null : disagreements / comparisons,
    samples: samples.map((row) => {
      const { value: input } = json(row.input);
      return {
        decision_id: row.decision_id,
        ts: row.ts,
        path: row.path,
        ...(input === undefined ? {} : { input }),
        served: withResult({ arm: row.served_arm, version: row.served_version }, row.served_result),
        compared: withResult(
          { arm: row.compared_arm, version: row.compared_version },
          row.compared_result,
        ),
      };
    }),
  };
}
