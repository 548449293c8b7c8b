/**
 * The checks every request passes at the edge, before any route: no NUL in the URL, the CORS
 * allowlist, rate limits, and the shape limits of its JSON body. `createApp` mounts
 * `beforeBody` ahead of the JSON body parser and `afterBody` right after it.
 */
import { isIP } from 'node:net';
import type { RequestHandler } from 'express';
import type { Config, RateLimitRules } from '../config';
import { VerdictError } from '../errors';
import type { Logger } from '../logger';
import type { CacheStore } from '../services/cache';
import { RedisCache } from '../services/cache/redis';
import { defaultMaxInputDepth, type JsonShapeLimits } from '../services/decisions/input';
import { corsPolicy } from './cors';
import { bodyLimitsFor, defaultMaxBodyMembers, jsonShapeLimits } from './json-limits';
import { RateLimits, type RateLimitStore } from './rate-limit';
import { routeRateLimits, type DecisionLimitCheck } from './route-limits';

export interface EdgeOptions {
  /** Exact origins allowed to call from a browser; none by default. */
  readonly corsOrigins?: readonly string[];
  /** Shape limits of JSON bodies; default: room for decision inputs of 64 levels. */
  readonly bodyLimits?: JsonShapeLimits;
  /** No rate limits unless given (`start` always gives them, from the settings). */
  readonly rateLimits?: { readonly limits: RateLimits; readonly rules: RateLimitRules };
}

export const defaultBodyLimits = bodyLimitsFor(defaultMaxInputDepth, defaultMaxBodyMembers);

/**
 * NUL has no place in any name, id or filter of this API, and Postgres cannot store it in
 * text: refuse it before it reaches a query.
 */
export const rejectNulInUrl: RequestHandler = (req, _res, next) => {
  if (/%00/i.test(req.url)) {
    next(new VerdictError('bad_request', 'The URL holds a NUL character (%00); remove it.'));
    return;
  }
  next();
};

export function edgeMiddleware(options: EdgeOptions = {}): {
  beforeBody: RequestHandler[];
  afterBody: RequestHandler[];
  /** The decision routes' rate limits, for the lane that answers them without Express. */
  decisionLimits: DecisionLimitCheck | undefined;
} {
  const limits =
    options.rateLimits === undefined
      ? undefined
      : routeRateLimits(options.rateLimits.limits, options.rateLimits.rules);
  return {
    decisionLimits: limits?.decisions,
    beforeBody: [
      rejectNulInUrl,
      corsPolicy(options.corsOrigins ?? []),
      ...(limits === undefined ? [] : [limits.beforeBody]),
    ],
    afterBody: [
      jsonShapeLimits(options.bodyLimits ?? defaultBodyLimits),
      ...(limits === undefined ? [] : [limits.afterBody]),
    ],
  };
}

const proxyNames = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An address, an address/prefix length, or one of Express's names for ranges. */
function isProxyItem(item: string): boolean {
  if (proxyNames.has(item)) return true;
  const [address = '', bits, ...rest] = item.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  return (
    bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128))
  );
}

/**
 * Express's `trust proxy` value for a VERDICT_TRUST_PROXY setting: a number of hops, or the
 * proxies' addresses. An item that is neither stops the start with `config_invalid`.
 */
export function trustProxyValue(setting: string | undefined): boolean | number | string[] {
  if (setting === undefined) return false;
  if (/^\s*\d+\s*$/.test(setting)) return Number(setting);
  const items = setting.split(',').map((item) => item.trim());
  const bad = items.filter((item) => !isProxyItem(item));
  if (bad.length > 0) {
    throw new VerdictError(
      'config_invalid',
      `VERDICT_TRUST_PROXY: ${bad.map((item) => JSON.stringify(item)).join(', ')} is not an IP address, a CIDR range, loopback, linklocal or uniquelocal.`,
    );
  }
  return items;
}

/** The edge options `start` gives the app: everything from the settings. */
export function edgesFromConfig(
  config: Config,
  cache: CacheStore,
  logger: Logger,
): EdgeOptions & { trustProxy: string | undefined } {
  const store: RateLimitStore =
    cache instanceof RedisCache
      ? { kind: 'redis', client: cache.commands, breaker: cache.breaker }
      : { kind: 'memory' };
  return {
    corsOrigins: config.corsOrigins,
    bodyLimits: bodyLimitsFor(config.maxInputDepth, config.maxBodyMembers),
    rateLimits: { limits: new RateLimits({ store, logger }), rules: config.rateLimits },
    trustProxy: config.trustProxy,
  };
}
