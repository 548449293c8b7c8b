/**
 * Rate limits (rate-limiter-flexible): fixed windows of `points` requests per `duration`,
 * counted in Redis when REDIS_URL is set, so every instance shares one count, and in-process
 * otherwise. A refused request gets a 429 problem with Retry-After; every limited response
 * carries the IETF draft RateLimit-Limit/-Remaining/-Reset headers of the limit closest to
 * running out.
 *
 * When the store fails (Redis down or slower than `storeTimeoutMs`), a limiter either lets the
 * request through (`allow`: decisions must never fail because of a limiter) or counts in this
 * process instead (`local`: logins stay limited per instance and stay available). Counts go
 * through Redis's circuit breaker when one is given: while it is open, no request waits for
 * the store timeout, each goes straight to its fallback.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Request, RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import {
  RLWrapperTimeouts,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import type { RateLimitRule } from '../config';
import { VerdictError, messageOf } from '../errors';
import type { Logger } from '../logger';
import type { CircuitBreaker } from '../services/breaker';

export type { RateLimitRule } from '../config';

/** Where counts live: one Redis shared by all instances, or this process. */
export type RateLimitStore =
  | { readonly kind: 'memory' }
  | {
      readonly kind: 'redis';
      readonly client: Redis;
      /** Redis's circuit breaker (the cache's): counts go through it. */
      readonly breaker?: CircuitBreaker | undefined;
    };

/**
 * What a limit's key reads of a request: an Express request, or the decision lane's plain
 * one with the client address it worked out (api/routes/data-lane.ts).
 */
export interface LimitedRequest {
  readonly ip?: string | undefined;
  readonly socket: { readonly remoteAddress?: string | undefined };
  readonly headers: IncomingHttpHeaders;
  readonly body?: unknown;
}

/** A named limit and the bucket a request counts against (undefined: not counted). */
export interface AppliedLimit {
  readonly name: string;
  readonly count: Counter;
  readonly key: (req: LimitedRequest) => string | undefined;
}

/** What a limiter does when its store cannot answer. */
export type StoreFailurePolicy = 'allow' | 'local';

export interface RateLimitOptions {
  readonly rule: RateLimitRule;
  /** The bucket a request counts against; undefined leaves the request unlimited. */
  readonly key: (req: Request) => string | undefined;
  /** Default `allow`. */
  readonly onStoreFailure?: StoreFailurePolicy;
}

export interface RateLimitsOptions {
  readonly store: RateLimitStore;
  readonly logger: Logger;
  /** How long a Redis count may take before the store counts as failed (default 250 ms). */
  readonly storeTimeoutMs?: number;
}

export const defaultStoreTimeoutMs = 250;

/** How often a failing store is reported in the log, at most. */
const storeFailureLogIntervalMs = 10_000;

/** A limiter's verdict on one request. */
interface Outcome {
  readonly allowed: boolean;
  /** Absent when the store failed and the request was let through uncounted. */
  readonly state?: RateLimiterRes;
  readonly rule: RateLimitRule;
}

/** The limit state already announced on a response, to keep the tightest one. */
const announced = new WeakMap<ServerResponse, number>();

function resetSeconds(state: RateLimiterRes): number {
  return Math.max(0, Math.ceil(state.msBeforeNext / 1000));
}

/** Sets the RateLimit headers unless an earlier limiter announced a tighter limit. */
function announce(res: ServerResponse, outcome: Outcome): void {
  const { state, rule } = outcome;
  if (state === undefined) return;
  const remaining = state.remainingPoints;
  const earlier = announced.get(res);
  if (earlier !== undefined && earlier <= remaining) return;
  announced.set(res, remaining);
  res.setHeader('RateLimit-Limit', String(rule.points));
  res.setHeader('RateLimit-Remaining', String(remaining));
  res.setHeader('RateLimit-Reset', String(resetSeconds(state)));
  res.setHeader('RateLimit-Policy', `${rule.points};w=${rule.durationSeconds}`);
}

function tooManyRequests(res: ServerResponse, name: string, outcome: Outcome): VerdictError {
  const state = outcome.state as RateLimiterRes;
  announced.delete(res);
  announce(res, outcome);
  const retryAfter = Math.max(1, resetSeconds(state));
  res.setHeader('Retry-After', String(retryAfter));
  return new VerdictError(
    'too_many_requests',
    `Rate limit "${name}" (${outcome.rule.points} requests per ${outcome.rule.durationSeconds} s) reached; retry after ${retryAfter} s.`,
    { extensions: { limit: name, retryAfterSeconds: retryAfter } },
  );
}

/** Counts one request against `key`. */
export type Counter = (key: string) => Promise<Outcome>;

/** Builds limiters over one store, and the middleware that applies them. */
export class RateLimits {
  private readonly store: RateLimitStore;
  private readonly logger: Logger;
  private readonly storeTimeoutMs: number;
  private readonly lastFailureLog = new Map<string, number>();

  constructor(options: RateLimitsOptions) {
    this.store = options.store;
    this.logger = options.logger;
    this.storeTimeoutMs = options.storeTimeoutMs ?? defaultStoreTimeoutMs;
  }

  get storeKind(): RateLimitStore['kind'] {
    return this.store.kind;
  }

  /** A counter named `name` (its keys live under `rl:<name>:`). */
  counter(
    name: string,
    rule: RateLimitRule,
    onStoreFailure: StoreFailurePolicy = 'allow',
  ): Counter {
    const common = { keyPrefix: `rl:${name}`, points: rule.points, duration: rule.durationSeconds };
    if (this.store.kind === 'memory') {
      const memory = new RateLimiterMemory(common);
      return (key) => outcomeOf(() => memory.consume(key), rule);
    }
    const remote = this.redisLimiter(this.store.client, common, rule);
    const breaker = this.store.breaker;
    // A refusal (RateLimiterRes) is Redis answering, not failing: it must not count against
    // the breaker, so it is carried out of the guarded call as a value.
    const consume = (key: string): Promise<Outcome> =>
      remote.consume(key).then(
        (state) => ({ allowed: true, state, rule }),
        (err: unknown) => {
          if (err instanceof RateLimiterRes) return { allowed: false, state: err, rule };
          throw err;
        },
      );
    const guarded =
      breaker === undefined ? consume : (key: string) => breaker.run(() => consume(key));
    const local = onStoreFailure === 'local' ? new RateLimiterMemory(common) : undefined;
    return async (key) => {
      try {
        return await guarded(key);
      } catch (err) {
        this.reportStoreFailure(name, err, onStoreFailure);
        return local === undefined
          ? { allowed: true, rule }
          : outcomeOf(() => local.consume(key), rule);
      }
    };
  }

  /** Middleware that counts each request against `options.key(req)` under the name `name`. */
  rateLimit(name: string, options: RateLimitOptions): RequestHandler {
    const count = this.counter(name, options.rule, options.onStoreFailure);
    return async (req, res, next) => {
      const key = options.key(req);
      if (key === undefined) {
        next();
        return;
      }
      const outcome = await count(key);
      announce(res, outcome);
      next(outcome.allowed ? undefined : tooManyRequests(res, name, outcome));
    };
  }

  /**
   * Counts the request against several limiters at once (in parallel: one store round trip
   * of latency) and announces the tightest state on `res`: the first refusal's problem, or
   * undefined when every limiter lets the request through.
   */
  async check(
    limits: readonly AppliedLimit[],
    req: LimitedRequest,
    res: ServerResponse,
  ): Promise<VerdictError | undefined> {
    const applied = limits.flatMap((limit) => {
      const key = limit.key(req);
      return key === undefined ? [] : [{ name: limit.name, key, count: limit.count }];
    });
    if (applied.length === 0) return undefined;
    const outcomes = await Promise.all(applied.map((limit) => limit.count(limit.key)));
    for (const outcome of outcomes) announce(res, outcome);
    const refused = outcomes.findIndex((outcome) => !outcome.allowed);
    if (refused === -1) return undefined;
    const name = (applied[refused] as { name: string }).name;
    return tooManyRequests(res, name, outcomes[refused] as Outcome);
  }

  /** `check` as middleware. */
  all(limits: readonly AppliedLimit[]): RequestHandler {
    return async (req, res, next) => {
      next(await this.check(limits, req, res));
    };
  }

  private redisLimiter(
    client: Redis,
    common: { keyPrefix: string; points: number; duration: number },
    rule: RateLimitRule,
  ): RateLimiterAbstract {
    const redis = new RateLimiterRedis({
      ...common,
      storeClient: client,
      rejectIfRedisNotReady: true,
      // Once a key is over its limit, refuse it from memory until the window ends: a flood
      // costs no Redis round trips.
      inMemoryBlockOnConsumed: rule.points + 1,
    });
    return new RLWrapperTimeouts({ limiter: redis, timeoutMs: this.storeTimeoutMs });
  }

  private reportStoreFailure(name: string, err: unknown, policy: StoreFailurePolicy): void {
    const now = Date.now();
    const last = this.lastFailureLog.get(name);
    if (last !== undefined && now - last < storeFailureLogIntervalMs) return;
    this.lastFailureLog.set(name, now);
    this.logger.warn(
      { limit: name, err: messageOf(err) },
      policy === 'allow'
        ? 'rate limit store failed: requests pass uncounted meanwhile'
        : 'rate limit store failed: requests are counted in this process meanwhile',
    );
  }
}

/** Counts with a limiter that refuses by rejecting with its state (rate-limiter-flexible). */
async function outcomeOf(
  consume: () => Promise<RateLimiterRes>,
  rule: RateLimitRule,
): Promise<Outcome> {
  try {
    return { allowed: true, state: await consume(), rule };
  } catch (err) {
    if (err instanceof RateLimiterRes) return { allowed: false, state: err, rule };
    throw err;
  }
}
