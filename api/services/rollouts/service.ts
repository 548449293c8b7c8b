/**
 * Rollouts of a tenant's bundles: start a canary or a shadow of a candidate version, report
 * how it is doing, promote it to stable, roll back, or abort. Every change is one database
 * transaction followed by an activation message, so every instance reloads the bundle's
 * engines (promote and rollback reach all instances within the time a reload takes).
 *
 * - promote: the candidate becomes the stable version; the rollout ends as `promoted`.
 * - rollback: an active rollout ends as `rolled_back` and stable serves all traffic again;
 *   with no active rollout, the last promotion is undone (the version that was stable before
 *   it is stable again) as long as its candidate is still the stable version.
 * - abort: an active rollout ends as `aborted`, stable unchanged — ended for a reason other
 *   than the candidate being wrong.
 *
 * Every read and change runs in a tenant-scoped transaction (api/db/tenant-scope.ts); the
 * activation message goes out once it has committed.
 */
import type { Knex } from 'knex';
import { withTenant } from '../../db/tenant-scope';
import { VerdictError } from '../../errors';
import type { CacheStore } from '../cache';
import { bundleActivationChannel, isUniqueViolation, noBundle } from '../bundles/registry';
import { stickyPathProblem } from './assign';
import { rolloutStats, type RolloutStats } from './stats';

export type RolloutMode = 'canary' | 'shadow';
export type RolloutStatus = 'active' | 'promoted' | 'rolled_back' | 'aborted';

export interface StartRollout {
  readonly version: string;
  readonly mode: RolloutMode;
  /** Canary only: share of traffic, in percent (more than 0, at most 100). */
  readonly percent?: number;
  /** Canary only: input path to stick by (`input.user.id`); absent: the caller. */
  readonly sticky?: string;
}

export interface RolloutView {
  readonly id: string;
  readonly bundle: string;
  readonly mode: RolloutMode;
  readonly status: RolloutStatus;
  readonly candidate_version: string;
  /** The version that was stable when the rollout started. */
  readonly stable_version: string;
  readonly percent: number | null;
  /** The input path the canary split sticks by; null: the caller. */
  readonly sticky: string | null;
  readonly started_by: string;
  readonly started_at: Date;
  readonly ended_by: string | null;
  readonly ended_at: Date | null;
}

export interface RolloutReport extends RolloutView {
  readonly stats: RolloutStats;
}

interface RolloutRow {
  id: string;
  bundle_id: string;
  bundle: string;
  mode: RolloutMode;
  status: RolloutStatus;
  candidate_version_id: string;
  candidate_version: string;
  baseline_version_id: string;
  stable_version: string;
  percent: string | null;
  sticky: string | null;
  started_by: string;
  started_at: Date;
  ended_by: string | null;
  ended_at: Date | null;
}

function view(row: RolloutRow): RolloutView {
  return {
    id: row.id,
    bundle: row.bundle,
    mode: row.mode,
    status: row.status,
    candidate_version: row.candidate_version,
    stable_version: row.stable_version,
    percent: row.percent === null ? null : Number(row.percent),
    sticky: row.sticky,
    started_by: row.started_by,
    started_at: row.started_at,
    ended_by: row.ended_by,
    ended_at: row.ended_at,
  };
}

function noActiveRollout(name: string): VerdictError {
  return new VerdictError(
    'not_found',
    `Bundle "${name}" has no active rollout: start one with \`verdict rollout start\`.`,
  );
}

function checkStart(start: StartRollout): void {
  const field = (pointer: string, message: string): VerdictError =>
    new VerdictError('bad_request', `${pointer} ${message}.`, { extensions: { field: pointer } });
  if (start.mode === 'canary') {
    if (start.percent === undefined) throw field('/percent', 'is required for a canary');
    if (!(start.percent > 0 && start.percent <= 100)) {
      throw field('/percent', 'must be more than 0 and at most 100');
    }
    if (Math.round(start.percent * 100) !== start.percent * 100) {
      throw field('/percent', 'may have at most two decimals');
    }
    if (start.sticky !== undefined) {
      const problem = stickyPathProblem(start.sticky);
      if (problem !== undefined) throw field('/sticky', problem);
    }
  } else {
    if (start.percent !== undefined) throw field('/percent', 'applies to a canary only');
    if (start.sticky !== undefined) throw field('/sticky', 'applies to a canary only');
  }
}

export class RolloutService {
  private readonly knex: Knex;
  private readonly cache: CacheStore;

  constructor(options: { readonly knex: Knex; readonly cache: CacheStore }) {
    this.knex = options.knex;
    this.cache = options.cache;
  }

  private rollouts(trx: Knex.Transaction): Knex.QueryBuilder {
    return trx('rollouts as r')
      .join('bundles as b', function joinBundle() {
        this.on('b.id', '=', 'r.bundle_id').andOn('b.tenant_id', '=', 'r.tenant_id');
      })
      .join('bundle_versions as c', 'c.id', 'r.candidate_version_id')
      .join('bundle_versions as s', 's.id', 'r.baseline_version_id')
      .select<RolloutRow[]>(
        'r.id',
        'r.bundle_id',
        'b.name as bundle',
        'r.mode',
        'r.status',
        'r.candidate_version_id',
        'c.version as candidate_version',
        'r.baseline_version_id',
        's.version as stable_version',
        'r.percent',
        'r.sticky',
        'r.started_by',
        'r.started_at',
        'r.ended_by',
        'r.ended_at',
      );
  }

  private async bundleId(trx: Knex.Transaction, tenantId: string, name: string) {
    const row = await trx('bundles as b')
      .leftJoin('tenant_bundles as tb', function joinState() {
        this.on('tb.bundle_id', '=', 'b.id').andOn('tb.tenant_id', '=', 'b.tenant_id');
      })
      .where({ 'b.tenant_id': tenantId, 'b.name': name })
      .first<{ id: string; stable_version_id: string | null } | undefined>(
        'b.id',
        'tb.stable_version_id',
      );
    if (row === undefined) throw noBundle(name);
    return row;
  }

  /** Starts a canary or shadow of `start.version` beside the bundle's stable version. */
  async start(
    tenantId: string,
    name: string,
    start: StartRollout,
    startedBy: string,
  ): Promise<RolloutView> {
    checkStart(start);
    const { id, bundleId } = await withTenant(this.knex, tenantId, (trx) =>
      this.insert(trx, tenantId, name, start, startedBy),
    );
    await this.announce(tenantId, bundleId, 'started');
    return this.byId(tenantId, id);
  }

  private async insert(
    trx: Knex.Transaction,
    tenantId: string,
    name: string,
    start: StartRollout,
    startedBy: string,
  ): Promise<{ id: string; bundleId: string }> {
    const bundle = await this.bundleId(trx, tenantId, name);
    if (bundle.stable_version_id === null) {
      throw new VerdictError(
        'conflict',
        `Bundle "${name}" has no stable version to roll out beside: activate one first with \`verdict activate\`.`,
      );
    }
    const candidate = await trx('bundle_versions')
      .where({ bundle_id: bundle.id, version: start.version })
      .first<{ id: string } | undefined>('id');
    if (candidate === undefined) {
      throw new VerdictError(
        'not_found',
        `Bundle "${name}" has no version ${start.version}: push it first with \`verdict push\`.`,
      );
    }
    if (candidate.id === bundle.stable_version_id) {
      throw new VerdictError(
        'conflict',
        `Version ${start.version} of "${name}" is already the stable version: roll out a different one.`,
      );
    }
    try {
      const [inserted] = await trx('rollouts')
        .insert({
          tenant_id: tenantId,
          bundle_id: bundle.id,
          mode: start.mode,
          candidate_version_id: candidate.id,
          baseline_version_id: bundle.stable_version_id,
          percent: start.mode === 'canary' ? start.percent : null,
          sticky: start.mode === 'canary' ? (start.sticky ?? null) : null,
          started_by: startedBy,
        })
        .returning<{ id: string }[]>('id');
      return { id: (inserted as { id: string }).id, bundleId: bundle.id };
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      throw new VerdictError(
        'conflict',
        `Bundle "${name}" already has an active rollout: promote, roll back or abort it first (\`verdict rollout status\` shows it).`,
      );
    }
  }

  private async byId(tenantId: string, id: string): Promise<RolloutView> {
    const rows = (await withTenant(this.knex, tenantId, (trx) =>
      this.rollouts(trx).where('r.tenant_id', tenantId).where('r.id', id),
    )) as RolloutRow[];
    const [row] = rows;
    if (row === undefined) throw new VerdictError('not_found', 'The rollout was removed.');
    return view(row);
  }

  /** The active rollout of every bundle of the tenant (or of bundle `name`), with its stats. */
  async status(tenantId: string, name?: string): Promise<RolloutReport[]> {
    return withTenant(this.knex, tenantId, async (trx) => {
      let query = this.rollouts(trx).where('r.tenant_id', tenantId);
      if (name !== undefined) {
        const bundle = await this.bundleId(trx, tenantId, name);
        // The bundle's latest rollout, active or not, so the outcome of the last one shows.
        query = query.where('r.bundle_id', bundle.id).orderBy('r.started_at', 'desc').limit(1);
      } else {
        query = query.where('r.status', 'active').orderBy('b.name');
      }
      const rows = (await query) as RolloutRow[];
      const reports: RolloutReport[] = [];
      // One after the other: the queries share the transaction's connection anyway.
      for (const row of rows) {
        const stats = await rolloutStats(trx, tenantId, row.id, row.started_at, row.ended_at);
        reports.push({ ...view(row), stats });
      }
      return reports;
    });
  }

  /** History of the bundle's rollouts, newest first. */
  async history(tenantId: string, name: string, limit = 20): Promise<RolloutView[]> {
    const rows = await withTenant(this.knex, tenantId, async (trx) => {
      const bundle = await this.bundleId(trx, tenantId, name);
      return (await this.rollouts(trx)
        .where('r.tenant_id', tenantId)
        .where('r.bundle_id', bundle.id)
        .orderBy('r.started_at', 'desc')
        .limit(limit)) as RolloutRow[];
    });
    return rows.map(view);
  }

  /** The candidate of the active rollout becomes the stable version. */
  async promote(tenantId: string, name: string, by: string): Promise<RolloutView> {
    return this.end(tenantId, name, by, 'promoted');
  }

  async abort(tenantId: string, name: string, by: string): Promise<RolloutView> {
    return this.end(tenantId, name, by, 'aborted');
  }

  /** Ends the active rollout with stable serving everything, or undoes the last promotion. */
  async rollback(tenantId: string, name: string, by: string): Promise<RolloutView> {
    const active = await withTenant(this.knex, tenantId, (trx) =>
      this.activeRollout(trx, tenantId, name),
    );
    if (active !== undefined) return this.end(tenantId, name, by, 'rolled_back');
    const { id, bundleId } = await withTenant(this.knex, tenantId, async (trx) => {
      const bundle = await this.bundleId(trx, tenantId, name);
      // Locks the rollout row only: the joined bundle and versions are never changed here.
      const rows = (await this.rollouts(trx)
        .where('r.tenant_id', tenantId)
        .where('r.bundle_id', bundle.id)
        .orderBy('r.started_at', 'desc')
        .limit(1)
        .forUpdate('r')) as RolloutRow[];
      const [last] = rows;
      const state = await trx('tenant_bundles')
        .where({ tenant_id: tenantId, bundle_id: bundle.id })
        .forUpdate()
        .first<{ stable_version_id: string | null } | undefined>('stable_version_id');
      if (last?.status !== 'promoted' || state?.stable_version_id !== last.candidate_version_id) {
        throw new VerdictError(
          'conflict',
          `Bundle "${name}" has no active rollout and its stable version did not come from its last rollout: nothing to roll back (activate a version with \`verdict activate\`).`,
        );
      }
      await trx('tenant_bundles')
        .where({ tenant_id: tenantId, bundle_id: bundle.id })
        .update({ stable_version_id: last.baseline_version_id, updated_at: trx.fn.now() });
      await trx('rollouts')
        .where('id', last.id)
        .update({ status: 'rolled_back', ended_by: by, ended_at: trx.fn.now() });
      return { id: last.id, bundleId: bundle.id };
    });
    await this.announce(tenantId, bundleId, 'rolled back');
    return this.byId(tenantId, id);
  }

  private async activeRollout(
    trx: Knex.Transaction,
    tenantId: string,
    name: string,
  ): Promise<RolloutRow | undefined> {
    const bundle = await this.bundleId(trx, tenantId, name);
    const rows = (await this.rollouts(trx)
      .where('r.tenant_id', tenantId)
      .where('r.bundle_id', bundle.id)
      .where('r.status', 'active')) as RolloutRow[];
    return rows[0];
  }

  private async end(
    tenantId: string,
    name: string,
    by: string,
    status: Exclude<RolloutStatus, 'active'>,
  ): Promise<RolloutView> {
    const ended = await withTenant(this.knex, tenantId, async (trx) => {
      const active = await this.activeRollout(trx, tenantId, name);
      if (active === undefined) throw noActiveRollout(name);
      // Only the request that ends the rollout changes it; a second one finds it ended.
      const changed = await trx('rollouts')
        .where({ id: active.id, status: 'active' })
        .update({ status, ended_by: by, ended_at: trx.fn.now() });
      if (changed === 0) throw noActiveRollout(name);
      if (status === 'promoted') {
        await trx('tenant_bundles')
          .where({ tenant_id: tenantId, bundle_id: active.bundle_id })
          .update({ stable_version_id: active.candidate_version_id, updated_at: trx.fn.now() });
      }
      return active;
    });
    await this.announce(tenantId, ended.bundle_id, status.replace('_', ' '));
    return this.byId(tenantId, ended.id);
  }

  /** Tells every instance to reload the tenant's engines. */
  private async announce(tenantId: string, bundleId: string, what: string): Promise<void> {
    try {
      await this.cache.publish(bundleActivationChannel, JSON.stringify({ tenantId, bundleId }));
    } catch (err) {
      throw new VerdictError(
        'cache_unavailable',
        `The rollout was ${what} in the database, but other instances could not be told (the cache is unavailable): they keep serving the engines they have loaded until they reload the tenant (restart them once the cache is back).`,
        { cause: err },
      );
    }
  }
}
