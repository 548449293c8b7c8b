/**
 * Which rate limits apply to which routes (docs/security.md, "Rate limits"):
 *
 * - every route but /health: per client address (`ip`);
 * - decisions (`/v1/data`, `/v1/batch/data`, `/v1/casl`, and `/`, the default decision): per
 *   credential (`decisions`);
 * - logins (`/v1/auth`): per client address (`auth-ip`) and per account name (`auth-account`),
 *   counted in-process when Redis fails, so they never go unlimited;
 * - every other `/v1` route: per credential (`admin`).
 *
 * A credential is the bearer token, known by its SHA-256 only: a caller who knows a key's
 * public prefix but not its secret cannot spend that key's allowance. Requests without a
 * token count per client address. Paths are matched case-insensitively, as Express routes are.
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import type { VerdictError } from '../errors';
import type { RateLimitRules } from '../config';
import { bearerToken } from './api-key';
import { RateLimits, type AppliedLimit, type LimitedRequest } from './rate-limit';

const healthPath = /^\/health(\/|$)/i;
const decisionPath = /^\/(v1\/(data|batch\/data|casl)(\/|$)|$)/i;
const authPath = /^\/v1\/auth(\/|$)/i;
const apiPath = /^\/v1(\/|$)/i;

type RouteClass = 'health' | 'decisions' | 'auth' | 'admin' | 'other';

export function routeClassOf(path: string): RouteClass {
  if (healthPath.test(path)) return 'health';
  if (decisionPath.test(path)) return 'decisions';
  if (authPath.test(path)) return 'auth';
  if (apiPath.test(path)) return 'admin';
  return 'other';
}

export function clientAddress(req: LimitedRequest): string {
  return `ip:${req.ip ?? req.socket.remoteAddress ?? 'unknown'}`;
}

/** The bearer token's digest, or the client address for a request without one. */
export function credentialKey(req: LimitedRequest): string {
  const token = bearerToken(req);
  if (token === undefined || token === '') return clientAddress(req);
  return `cred:${createHash('sha256').update(token, 'utf8').digest('base64url')}`;
}

/** The account a login names (`email` of a JSON body), case-folded; undefined without one. */
export function accountKey(req: LimitedRequest): string | undefined {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null || !('email' in body)) return undefined;
  const { email } = body;
  if (typeof email !== 'string' || email.trim() === '') return undefined;
  const digest = createHash('sha256').update(email.trim().toLowerCase(), 'utf8');
  return `account:${digest.digest('base64url')}`;
}

/** The limits of one route class, with the key each counts by. */
function limitsFor(limits: RateLimits, rules: RateLimitRules): Record<RouteClass, AppliedLimit[]> {
  const make = (
    name: string,
    rule: RateLimitRules[keyof RateLimitRules],
    key: (req: LimitedRequest) => string | undefined,
    local = false,
  ): AppliedLimit[] =>
    rule === undefined
      ? []
      : [{ name, count: limits.counter(name, rule, local ? 'local' : 'allow'), key }];
  const ip = make('ip', rules.ip, clientAddress);
  return {
    health: [],
    other: ip,
    decisions: [...ip, ...make('decisions', rules.decisions, credentialKey)],
    admin: [...ip, ...make('admin', rules.admin, credentialKey)],
    auth: [...ip, ...make('auth-ip', rules.authIp, clientAddress, true)],
  };
}

/** Counts a decision request against its limits: the refusal, or undefined to go on. */
export type DecisionLimitCheck = (
  req: LimitedRequest,
  res: ServerResponse,
) => Promise<VerdictError | undefined>;

/**
 * The app's rate limits: `beforeBody` runs before the body is read (a refused request costs
 * no parsing), `afterBody` needs the parsed body (the account a login names). `decisions` is
 * the decision class's check for the lane that answers decisions without Express; it counts
 * in the same limiters as `beforeBody`.
 */
export function routeRateLimits(
  limits: RateLimits,
  rules: RateLimitRules,
): { beforeBody: RequestHandler; afterBody: RequestHandler; decisions: DecisionLimitCheck } {
  const byClass = limitsFor(limits, rules);
  const handlers = Object.fromEntries(
    Object.entries(byClass).map(([routeClass, list]) => [routeClass, limits.all(list)]),
  ) as Record<RouteClass, RequestHandler>;
  const account = rules.authAccount;
  const accountLimit =
    account === undefined
      ? undefined
      : limits.rateLimit('auth-account', {
          rule: account,
          key: accountKey,
          onStoreFailure: 'local',
        });
  return {
    decisions: (req, res) => limits.check(byClass.decisions, req, res),
    beforeBody: (req, res, next) => handlers[routeClassOf(req.path)](req, res, next),
    afterBody: (req, res, next) => {
      if (accountLimit === undefined || routeClassOf(req.path) !== 'auth') {
        next();
        return;
      }
      accountLimit(req, res, next);
    },
  };
}
