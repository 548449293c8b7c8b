/**
 * Deciding: a tenant, a data path and an input in, an OPA-shaped answer out. The path is
 * routed to one of the tenant's active bundles (to its stable version, or to the canary of
 * its rollout — see rollout-plan.ts); the answer comes from the decision cache or from the
 * version's engine; every answer (cache hits too) is recorded in the audit log, with the
 * input masked as the bundle says. Under a rollout, the version compared with the served one
 * is evaluated after the answer is ready and logged beside it. Plain values in and out:
 * routes do the HTTP.
 */
import { randomUUID } from 'node:crypto';
import { ROOT_CONTEXT, context, type Span, type Tracer } from '@opentelemetry/api';
import { EngineError } from '../../../policies/engine';
import { VerdictError, messageOf } from '../../errors';
import type { Logger } from '../../logger';
import {
  canonicalJson,
  maskInput,
  toStorableJson,
  type AuditEntry,
  type CacheOutcome,
} from '../audit';
import type { AuditSink } from '../audit/sink';
import { defaultDecisionPath } from '../tenants';
import { inAsyncSpan, inSpan } from '../tracing/spans';
import { DecisionCache, canonicalInputJson, type CachedAnswer, type CostStats } from './cache';
import type { EnginePool, LoadedBundle, Route, TenantEngines } from './engine-pool';
import { planDecision, type DecisionPlan } from './rollout-plan';
import type { TenantDecisionSettings } from './tenant-settings';

/** The audit log as the decision path uses it (see api/services/audit/sink.ts). */
export type DecisionAudit = Pick<AuditSink, 'record' | 'recordStrict'>;

/**
 * Told of every decision as it is answered or fails (metrics). `entrypoint` is the bundle
 * entrypoint that answered, undefined when none did (an unknown path, or a failure before
 * routing).
 */
export interface DecisionObserver {
  decided(
    tenantId: string,
    entrypoint: string | undefined,
    answer: CachedAnswer,
    totalNs: number,
    evalNs: number,
  ): void;
  failed(tenantId: string, entrypoint: string | undefined, totalNs: number): void;
}

export interface DecisionServiceOptions {
  pool: EnginePool;
  cache: DecisionCache;
  audit: DecisionAudit;
  settings: { get(tenantId: string): Promise<TenantDecisionSettings> };
  logger: Logger;
  observer?: DecisionObserver | undefined;
  /** Where the decision's spans go; undefined with tracing off. */
  tracer?: Tracer | undefined;
}

export interface DecideRequest {
  readonly tenantId: string;
  /** API key id of the caller, for the audit row. */
  readonly caller: string;
  /** The data path as segments: `["rbac", "allow"]`. */
  readonly path: readonly string[];
  /** Whether the request carried an `input` (OPA tells no input apart from `null`). */
  readonly hasInput: boolean;
  readonly input?: unknown;
  /** W3C trace id the audit row records (tracing/propagation.ts, decisionTraceId). */
  readonly traceId?: string | undefined;
}

export interface Decision {
  readonly decisionId: string;
  /** False when the decision is undefined: the answer then has no `result`. */
  readonly defined: boolean;
  readonly result?: unknown;
  readonly cache: CacheOutcome;
  /** Time spent in the engine (zero for a cache hit). */
  readonly evalNs: number;
  /** Time from the start of the decision to its answer, the audit row included. */
  readonly totalNs: number;
  readonly bundle?: { readonly name: string; readonly version: string; readonly revision: string };
}

/** One input of a batch, by the caller's id. */
export type BatchOutcome =
  | { readonly ok: true; readonly decision: Decision }
  | { readonly ok: false; readonly error: VerdictError };

function elapsedNs(started: bigint): number {
  return Number(process.hrtime.bigint() - started);
}

/** The value at `below` inside `value` (object members only); undefined when absent. */
export function descend(value: unknown, below: readonly string[]): CachedAnswer {
  let current = value;
  for (const key of below) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) {
      return { defined: false };
    }
    if (!Object.hasOwn(current, key)) return { defined: false };
    current = (current as Record<string, unknown>)[key];
  }
  return { defined: true, result: current };
}

/** The first result of an entrypoint's result set (JSON text, `[]` when undefined). */
export function firstResult(text: string): CachedAnswer {
  const sets = JSON.parse(text) as unknown;
  if (!Array.isArray(sets) || sets.length === 0) return { defined: false };
  const first = sets[0] as unknown;
  if (typeof first !== 'object' || first === null || !Object.hasOwn(first, 'result')) {
    return { defined: false };
  }
  return { defined: true, result: (first as { result: unknown }).result };
}

function bundleRef(bundle: LoadedBundle): NonNullable<Decision['bundle']> {
  return { name: bundle.name, version: bundle.version, revision: bundle.revision };
}

/** Whether two answers are the same: both undefined, or equal JSON values. */
export function sameAnswer(a: CachedAnswer, b: CachedAnswer): boolean {
  if (!a.defined || !b.defined) return a.defined === b.defined;
  const left = toStorableJson(a.result);
  const right = toStorableJson(b.result);
  if (left === undefined || right === undefined) return left === right;
  return canonicalJson(left) === canonicalJson(right);
}

function cacheLookup(span: Span, hit: CachedAnswer | undefined): CachedAnswer | undefined {
  span.setAttribute('verdict.cache.hit', hit !== undefined);
  return hit;
}

function describeDecision(span: Span, decision: Decision): void {
  span.setAttributes({
    'verdict.decision.id': decision.decisionId,
    'verdict.decision.defined': decision.defined,
    'verdict.cache': decision.cache,
    ...(decision.bundle === undefined
      ? {}
      : {
          'verdict.bundle.name': decision.bundle.name,
          'verdict.bundle.version': decision.bundle.version,
          'verdict.bundle.revision': decision.bundle.revision,
        }),
  });
}

export class DecisionService {
  private readonly pool: EnginePool;
  private readonly cache: DecisionCache;
  private readonly audit: DecisionAudit;
  private readonly settings: DecisionServiceOptions['settings'];
  private readonly logger: Logger;
  private readonly observer: DecisionObserver | undefined;
  private readonly tracer: Tracer | undefined;

  constructor(options: DecisionServiceOptions) {
    this.pool = options.pool;
    this.cache = options.cache;
    this.audit = options.audit;
    this.settings = options.settings;
    this.logger = options.logger;
    this.observer = options.observer;
    this.tracer = options.tracer;
  }

  decide(request: DecideRequest): Promise<Decision> {
    const { tracer } = this;
    if (tracer === undefined) return this.decideObserved(request);
    const attributes = {
      'verdict.tenant.id': request.tenantId,
      'verdict.decision.path': request.path.join('/'),
    };
    return inAsyncSpan(tracer, 'verdict.decision', attributes, async (span) => {
      const decision = await this.decideObserved(request);
      describeDecision(span, decision);
      return decision;
    });
  }

  private async decideObserved(request: DecideRequest): Promise<Decision> {
    const started = process.hrtime.bigint();
    const { observer } = this;
    if (observer === undefined) return this.decideOnce(request, started, {});
    const routed: { entrypoint?: string } = {};
    try {
      const decision = await this.decideOnce(request, started, routed);
      observer.decided(
        request.tenantId,
        routed.entrypoint,
        decision,
        decision.totalNs,
        decision.evalNs,
      );
      return decision;
    } catch (err) {
      observer.failed(request.tenantId, routed.entrypoint, elapsedNs(started));
      throw err;
    }
  }

  /** Decides; `routed.entrypoint` is set as soon as the path is routed. */
  private async decideOnce(
    request: DecideRequest,
    started: bigint,
    routed: { entrypoint?: string },
  ): Promise<Decision> {
    const decisionId = randomUUID();
    const { auditStrict } = await this.settings.get(request.tenantId);
    const engines = await this.pool.get(request.tenantId);
    const plan = planDecision(engines, request);
    const route = plan.served?.route;
    if (route !== undefined) routed.entrypoint = route.entrypoint;
    const path = request.path.join('/');
    let answer: CachedAnswer = { defined: false };
    let cache: CacheOutcome = 'bypass';
    let evalNs = 0;
    if (route !== undefined) {
      ({ answer, cache, evalNs } = await this.answer(engines, route, path, request));
    }
    const durationNs = elapsedNs(started);
    const bundle = plan.served === undefined ? undefined : bundleRef(plan.served.bundle);
    const entry: AuditEntry = {
      tenantId: request.tenantId,
      decisionId,
      path,
      bundleName: bundle?.name ?? null,
      bundleVersion: bundle?.version ?? null,
      bundleRevision: bundle?.revision ?? null,
      input: request.hasInput
        ? maskInput(request.input, plan.served?.bundle.mask ?? [])
        : undefined,
      result: answer.defined ? answer.result : undefined,
      caller: request.caller,
      cache,
      durationUs: Math.round(durationNs / 1000),
      ...(plan.rollout === undefined
        ? {}
        : { rollout: { rolloutId: plan.rollout.rollout.id, arm: plan.rollout.servedArm } }),
      ...(request.traceId === undefined ? {} : { traceId: request.traceId }),
    };
    await this.recordAudit(entry, auditStrict);
    if (plan.rollout?.compared !== undefined) {
      // Off the answer's path: the comparison never delays or fails the served decision.
      setImmediate(() => {
        this.compare(engines, plan, request, decisionId, answer);
      });
    }
    return {
      decisionId,
      defined: answer.defined,
      ...(answer.defined ? { result: answer.result } : {}),
      cache,
      evalNs,
      totalNs: elapsedNs(started),
      ...(bundle === undefined ? {} : { bundle }),
    };
  }

  /**
   * Decides the tenant's default decision (`POST /`): the path its settings name, OPA's
   * `system/main` unless it names another. The decision is audited as any other.
   */
  async decideDefault(
    request: Omit<DecideRequest, 'path'>,
  ): Promise<{ readonly path: readonly string[]; readonly decision: Decision }> {
    const { defaultDecision } = await this.settings.get(request.tenantId);
    const path = (defaultDecision ?? defaultDecisionPath).split('/');
    return { path, decision: await this.decide({ ...request, path }) };
  }

  /** Decides every input of a batch; one failing input fails only its own entry. */
  async decideBatch(
    base: Omit<DecideRequest, 'input' | 'hasInput'>,
    inputs: ReadonlyMap<string, unknown>,
  ): Promise<Map<string, BatchOutcome>> {
    const ids = [...inputs.keys()];
    const outcomes = await Promise.all(
      ids.map(async (id): Promise<BatchOutcome> => {
        try {
          const decision = await this.decide({ ...base, hasInput: true, input: inputs.get(id) });
          return { ok: true, decision };
        } catch (err) {
          if (err instanceof VerdictError) return { ok: false, error: err };
          this.logger.error({ err }, 'batch decision failed');
          return {
            ok: false,
            error: new VerdictError(
              'internal',
              'An internal error occurred; the server log has details.',
            ),
          };
        }
      }),
    );
    return new Map(ids.map((id, i) => [id, outcomes[i] as BatchOutcome]));
  }

  private async answer(
    engines: TenantEngines,
    route: Route,
    path: string,
    request: DecideRequest,
  ): Promise<{ answer: CachedAnswer; cache: CacheOutcome; evalNs: number }> {
    const stats = this.cache.costs(request.tenantId, route.bundle.revision);
    const plan = this.cache.plan(route.bundle.cache, stats);
    if (!plan.l1) {
      const inputJson = request.hasInput ? JSON.stringify(request.input) : undefined;
      const { answer, evalNs } = this.evaluate(engines, route, inputJson, stats);
      return { answer, cache: 'bypass', evalNs };
    }
    const lookupStarted = process.hrtime.bigint();
    const canonical = request.hasInput ? canonicalInputJson(request.input) : undefined;
    const key = this.cache.key(request.tenantId, route.bundle.revision, path, canonical);
    let hit = this.lookUpL1(key);
    this.cache.recordLookup(stats, elapsedNs(lookupStarted));
    if (hit === undefined && plan.l2) hit = await this.lookUpL2(key);
    if (hit !== undefined) return { answer: hit, cache: 'hit', evalNs: 0 };
    this.cache.miss();
    const { answer, evalNs } = this.evaluate(engines, route, canonical, stats);
    this.cache.put(key, answer, plan.l2);
    return { answer, cache: 'miss', evalNs };
  }

  /**
   * Evaluates the version a rollout compares with the served one and logs its answer beside
   * the served decision, saying whether the two agree. A failed evaluation is logged as a
   * disagreement without a result; nothing here reaches the caller.
   */
  private compare(
    engines: TenantEngines,
    plan: DecisionPlan,
    request: DecideRequest,
    servedDecisionId: string,
    served: CachedAnswer,
  ): void {
    const compared = plan.rollout?.compared;
    if (plan.rollout === undefined || compared === undefined) return;
    const started = process.hrtime.bigint();
    let answer: CachedAnswer | undefined = { defined: false };
    if (compared.route !== undefined) {
      try {
        const inputJson = request.hasInput ? JSON.stringify(request.input) : undefined;
        ({ answer } = this.evaluate(engines, compared.route, inputJson));
      } catch {
        // evaluate() logged the failure.
        answer = undefined;
      }
    }
    const bundle = bundleRef(compared.bundle);
    try {
      this.audit.record({
        tenantId: request.tenantId,
        path: request.path.join('/'),
        bundleName: bundle.name,
        bundleVersion: bundle.version,
        bundleRevision: bundle.revision,
        input: request.hasInput ? maskInput(request.input, compared.bundle.mask) : undefined,
        result: answer?.defined === true ? answer.result : undefined,
        caller: request.caller,
        cache: 'bypass',
        durationUs: Math.round(elapsedNs(started) / 1000),
        rollout: {
          rolloutId: plan.rollout.rollout.id,
          arm: compared.arm,
          comparedWith: servedDecisionId,
          agrees: answer !== undefined && sameAnswer(answer, served),
        },
        ...(request.traceId === undefined ? {} : { traceId: request.traceId }),
      });
    } catch (err) {
      this.logger.warn({ err: messageOf(err) }, 'rollout comparison could not be logged');
    }
  }

  /**
   * Runs the entrypoint. Synchronous from the input to the parsed result: nothing else can
   * use the instance meanwhile (see engine-pool.ts). Cost statistics feed the cache plan;
   * comparisons under a rollout pass none.
   */
  private evaluate(
    engines: TenantEngines,
    route: Route,
    inputJson: string | undefined,
    stats?: CostStats,
  ): { answer: CachedAnswer; evalNs: number } {
    const { tracer } = this;
    if (tracer === undefined) return this.evaluateOnce(engines, route, inputJson, stats);
    const { bundle } = route;
    const attributes = {
      'verdict.entrypoint': route.entrypoint,
      'verdict.bundle.name': bundle.name,
      'verdict.bundle.version': bundle.version,
      'verdict.bundle.revision': bundle.revision,
    };
    return inSpan(tracer, 'verdict.engine.evaluate', attributes, () =>
      this.evaluateOnce(engines, route, inputJson, stats),
    );
  }

  private evaluateOnce(
    engines: TenantEngines,
    route: Route,
    inputJson: string | undefined,
    stats?: CostStats,
  ): { answer: CachedAnswer; evalNs: number } {
    const started = process.hrtime.bigint();
    let answer: CachedAnswer;
    try {
      const text = route.bundle.engine.evaluateJSON(route.entrypoint, inputJson);
      answer = firstResult(text);
    } catch (err) {
      throw this.evaluationFailure(engines, route, err);
    }
    const evalNs = elapsedNs(started);
    if (stats !== undefined) this.cache.recordEval(stats, evalNs);
    return {
      answer: route.below.length === 0 ? answer : descend(answer.result, route.below),
      evalNs,
    };
  }

  private evaluationFailure(engines: TenantEngines, route: Route, err: unknown): VerdictError {
    const { bundle } = route;
    const where = `${route.entrypoint} (bundle ${bundle.name} ${bundle.version}, revision ${bundle.revision})`;
    const code = err instanceof EngineError ? err.code : 'eval_internal_error';
    const location = err instanceof EngineError ? err.location : undefined;
    const extensions = {
      policyError: code,
      bundle: bundle.name,
      version: bundle.version,
      revision: bundle.revision,
      ...(location === undefined ? {} : { location }),
    };
    this.logger.warn(
      { err: messageOf(err), policyError: code, tenantId: engines.tenantId },
      'policy evaluation failed',
    );
    if (code === 'eval_budget_error' || code === 'eval_memory_error') {
      // A memory cap reached leaves the instance at its largest: load a fresh one next time.
      if (code === 'eval_memory_error') this.pool.discard(engines);
      const limit = code === 'eval_budget_error' ? 'its step budget' : 'its memory cap';
      return new VerdictError(
        'policy_limit_exceeded',
        `Evaluating ${where} reached ${limit} and was stopped: ${messageOf(err)}. Simplify the policy or the input; other requests are not affected.`,
        { cause: err, extensions },
      );
    }
    return new VerdictError('policy_error', `Evaluating ${where} failed: ${messageOf(err)}.`, {
      cause: err,
      extensions,
    });
  }

  private lookUpL1(key: string): CachedAnswer | undefined {
    const { tracer } = this;
    if (tracer === undefined) return this.cache.getL1(key);
    return inSpan(tracer, 'verdict.cache.l1', {}, (span) =>
      cacheLookup(span, this.cache.getL1(key)),
    );
  }

  private lookUpL2(key: string): Promise<CachedAnswer | undefined> {
    const { tracer } = this;
    if (tracer === undefined) return this.cache.getL2(key);
    return inAsyncSpan(tracer, 'verdict.cache.l2', {}, async (span) =>
      cacheLookup(span, await this.cache.getL2(key)),
    );
  }

  private recordAudit(entry: AuditEntry, strict: boolean): Promise<void> {
    const { tracer } = this;
    if (tracer === undefined) return this.recordAuditOnce(entry, strict);
    const attributes = { 'verdict.audit.strict': strict };
    return inAsyncSpan(tracer, 'verdict.audit.enqueue', attributes, () =>
      strict
        ? this.recordAuditOnce(entry, strict)
        : // The decision does not wait for its row: the batch it goes in belongs to no request.
          context.with(ROOT_CONTEXT, () => this.recordAuditOnce(entry, strict)),
    );
  }

  private async recordAuditOnce(entry: AuditEntry, strict: boolean): Promise<void> {
    try {
      if (strict) await this.audit.recordStrict(entry);
      else this.audit.record(entry);
    } catch (err) {
      throw new VerdictError(
        'database_unavailable',
        strict
          ? 'This tenant answers only decisions whose audit record is written, and the audit log could not write it in time; retry shortly.'
          : 'The decision could not be recorded in the audit log; retry shortly.',
        { cause: err },
      );
    }
  }
}
