/**
 * Replay: impact analysis before a rollout. The recorded decisions of one tenant in a time
 * window, made by the bundle the candidate would replace (same bundle name), are read in
 * keyset pages by (ts, seq) — never all at once — and each recorded input is asked again at
 * its recorded path of the candidate. The report counts what changed, by path and by kind
 * of flip, and keeps a few samples. Plain values in and out; the route does the HTTP.
 *
 * Inputs were masked when they were recorded: a masked field is absent from the replayed
 * input, so a rule reading it may answer differently for that reason alone. The report says
 * when the recorded bundle versions (or the candidate) had mask paths.
 *
 * Each read is a tenant-scoped transaction of its own (api/db/tenant-scope.ts): none stays
 * open while the candidate evaluates a page.
 */
import type { Knex } from 'knex';
import type { EngineOptions } from '../../../policies/engine';
import { withTenant } from '../../db/tenant-scope';
import { VerdictError } from '../../errors';
import { Tenant } from '../../models/tenant';
import type { JsonValue } from '../audit';
import type { UploadOverrides } from '../bundles/prepare';
import { loadCandidate, type Candidate } from './candidate';
import {
  classifyChange,
  flipKinds,
  recordedOutcome,
  type FlipKind,
  type ReplayOutcome,
} from './compare';

export const defaultReplayLimit = 100_000;
export const maxReplayLimit = 1_000_000;
export const defaultSampleCount = 20;
export const maxSampleCount = 1000;
/** Decisions read per query. */
export const defaultPageSize = 500;

export interface ReplayRequest {
  readonly tenantId: string;
  /** The candidate bundle, a .tar.gz as `verdict build` writes it. */
  readonly candidate: Uint8Array;
  readonly overrides?: UploadOverrides;
  /** Decisions with `from <= ts < to` are replayed. */
  readonly from: Date;
  readonly to: Date;
  /** At most this many decisions are replayed (oldest first). */
  readonly limit?: number;
  /** Only decisions at this path or below it (`rbac` takes `rbac/allow`). */
  readonly path?: string;
  /** At most this many changed decisions are returned in full. */
  readonly samples?: number;
}

export interface ReplaySample {
  readonly decision_id: string;
  readonly ts: Date;
  readonly path: string;
  readonly flip: FlipKind;
  /** Absent when the recorded request had no input. */
  readonly input?: JsonValue;
  /** Absent when the recorded decision was undefined. */
  readonly recorded_result?: JsonValue;
  /** Absent when the candidate's decision is undefined or failed. */
  readonly candidate_result?: JsonValue;
  readonly candidate_error?: { readonly code: string; readonly message: string };
}

export interface PathCounts {
  replayed: number;
  changed: number;
}

export interface ReplayReport {
  readonly bundle: {
    readonly name: string;
    readonly version: string;
    readonly revision: string;
    readonly signature_status: string;
  };
  readonly window: { readonly from: Date; readonly to: Date };
  readonly path: string | null;
  readonly limit: number;
  readonly replayed: number;
  readonly changed: number;
  /** True when the window held more decisions than the limit let through. */
  readonly truncated: boolean;
  readonly by_path: Readonly<Record<string, PathCounts>>;
  readonly by_flip: Readonly<Record<FlipKind, number>>;
  /** True when inputs were recorded masked (or the candidate masks): see `mask_paths`. */
  readonly masked_inputs: boolean;
  readonly mask_paths: readonly string[];
  readonly samples: readonly ReplaySample[];
}

interface DecisionRecord {
  decision_id: string;
  seq: string;
  ts: Date;
  /** `ts` as Postgres writes it, to the microsecond: the keyset cursor (a Date keeps ms). */
  ts_cursor: string;
  path: string;
  bundle_version: string | null;
  input: string | null;
  result: string | null;
}

function parseJson(text: string | null): JsonValue | undefined {
  return text === null ? undefined : (JSON.parse(text) as JsonValue);
}

function sampleOf(
  record: DecisionRecord,
  flip: FlipKind,
  input: JsonValue | undefined,
  recorded: ReplayOutcome,
  candidate: ReplayOutcome,
): ReplaySample {
  return {
    decision_id: record.decision_id,
    ts: record.ts,
    path: record.path,
    flip,
    ...(input === undefined ? {} : { input }),
    ...(recorded.kind === 'defined' ? { recorded_result: recorded.result } : {}),
    ...(candidate.kind === 'defined' ? { candidate_result: candidate.result } : {}),
    ...(candidate.kind === 'error'
      ? { candidate_error: { code: candidate.code, message: candidate.message } }
      : {}),
  };
}

export class ReplayService {
  private readonly knex: Knex;
  private readonly engine: EngineOptions | undefined;
  private readonly pageSize: number;

  constructor(options: {
    readonly knex: Knex;
    readonly engine?: EngineOptions;
    readonly pageSize?: number;
  }) {
    this.knex = options.knex;
    this.engine = options.engine;
    this.pageSize = options.pageSize ?? defaultPageSize;
  }

  async replay(request: ReplayRequest): Promise<ReplayReport> {
    const tenant = await withTenant(this.knex, request.tenantId, (trx) =>
      Tenant.query(trx).findById(request.tenantId),
    );
    if (tenant === undefined) throw new VerdictError('not_found', 'No such tenant.');
    if (!(request.from < request.to)) {
      throw new VerdictError(
        'bad_request',
        'The replay window is empty: `from` must be before `to`.',
      );
    }
    const candidate = await loadCandidate(request.candidate, {
      overrides: request.overrides ?? {},
      // A candidate is checked against the tenant's key when signed, but need not be signed:
      // it is only evaluated here, never served.
      signing: { publicKey: tenant.signing_public_key, required: false },
      ...(this.engine === undefined ? {} : { engine: this.engine }),
    });
    const limit = request.limit ?? defaultReplayLimit;
    const sampleCount = request.samples ?? defaultSampleCount;
    const byPath: Record<string, PathCounts> = {};
    const byFlip = Object.fromEntries(flipKinds.map((kind) => [kind, 0])) as Record<
      FlipKind,
      number
    >;
    const samples: ReplaySample[] = [];
    const versionsSeen = new Set<string>();
    let replayed = 0;
    let changed = 0;
    let truncated = false;
    let after: { ts: string; seq: string } | undefined;
    for (;;) {
      const page = await this.readPage(
        request,
        candidate,
        after,
        Math.min(this.pageSize, limit - replayed + 1),
      );
      for (const record of page) {
        if (replayed === limit) {
          truncated = true;
          break;
        }
        replayed++;
        if (record.bundle_version !== null) versionsSeen.add(record.bundle_version);
        const input = parseJson(record.input);
        const recorded = recordedOutcome(parseJson(record.result));
        const now = candidate.evaluate(record.path, input);
        const counts = (byPath[record.path] ??= { replayed: 0, changed: 0 });
        counts.replayed++;
        const flip = classifyChange(recorded, now);
        if (flip === undefined) continue;
        changed++;
        counts.changed++;
        byFlip[flip]++;
        if (samples.length < sampleCount)
          samples.push(sampleOf(record, flip, input, recorded, now));
      }
      const last = page.at(-1);
      if (truncated || last === undefined || page.length < this.pageSize) break;
      after = { ts: last.ts_cursor, seq: last.seq };
    }
    const maskPaths = await this.maskPaths(request.tenantId, candidate, versionsSeen);
    return {
      bundle: {
        name: candidate.name,
        version: candidate.version,
        revision: candidate.revision,
        signature_status: candidate.signatureStatus,
      },
      window: { from: request.from, to: request.to },
      path: request.path ?? null,
      limit,
      replayed,
      changed,
      truncated,
      by_path: byPath,
      by_flip: byFlip,
      masked_inputs: maskPaths.length > 0,
      mask_paths: maskPaths,
      samples,
    };
  }

  private async readPage(
    request: ReplayRequest,
    candidate: Candidate,
    after: { ts: string; seq: string } | undefined,
    size: number,
  ): Promise<DecisionRecord[]> {
    return withTenant(this.knex, request.tenantId, (trx) =>
      this.pageQuery(trx, request, candidate, after, size),
    );
  }

  private async pageQuery(
    trx: Knex.Transaction,
    request: ReplayRequest,
    candidate: Candidate,
    after: { ts: string; seq: string } | undefined,
    size: number,
  ): Promise<DecisionRecord[]> {
    let query = trx('decisions')
      .select(
        'decision_id',
        'seq',
        'ts',
        trx.raw('ts::text as ts_cursor'),
        'path',
        'bundle_version',
        trx.raw('input::text as input'),
        trx.raw('result::text as result'),
      )
      .where('tenant_id', request.tenantId)
      // Served decisions only: a rollout's comparison rows were never answered.
      .whereNull('compared_with')
      .andWhere('bundle_name', candidate.name)
      .andWhere('ts', '>=', request.from)
      .andWhere('ts', '<', request.to);
    if (request.path !== undefined) {
      const path = request.path;
      query = query.andWhere((q) => {
        void q.where('path', path).orWhereRaw('starts_with(path, ?)', [`${path}/`]);
      });
    }
    if (after !== undefined)
      query = query.andWhereRaw('(ts, seq) > (?::timestamptz, ?::bigint)', [after.ts, after.seq]);
    return (await query.orderBy(['ts', 'seq']).limit(size)) as DecisionRecord[];
  }

  /** The mask paths of the recorded versions seen, and of the candidate, sorted. */
  private async maskPaths(
    tenantId: string,
    candidate: Candidate,
    versions: ReadonlySet<string>,
  ): Promise<string[]> {
    const paths = new Set(candidate.mask);
    if (versions.size > 0) {
      const rows = await withTenant(this.knex, tenantId, (trx) =>
        trx('bundle_versions as v')
          .join('bundles as b', 'b.id', 'v.bundle_id')
          .where('b.tenant_id', tenantId)
          .andWhere('b.name', candidate.name)
          .whereIn('v.version', [...versions])
          .select<{ manifest: { mask?: unknown } }[]>('v.manifest'),
      );
      for (const row of rows) {
        const mask = row.manifest.mask;
        if (!Array.isArray(mask)) continue;
        for (const p of mask) if (typeof p === 'string') paths.add(p);
      }
    }
    return [...paths].sort();
  }
}
