/**
 * Access to the admin API: authenticate the caller, then ask the platform policy whether that
 * principal may take the route's action on the tenant the route names, and log the answer.
 *
 * Credentials, by form of the bearer token:
 * - `vdk_...`: a tenant API key (role `app`, with its scopes);
 * - a compact JWS: a user's access token, checked by the identity service;
 * - anything else: the bootstrap admin token (VERDICT_ADMIN_TOKEN), a platform admin.
 * A route that asks for it (`consoleSession`) also takes the auditor console's session cookie
 * in place of a bearer token: the credential the console signed in with, checked the same way
 * (api/auth/console-session.ts).
 *
 * The tenant: the `:tenant` route parameter (slug or id). A key of another tenant is refused
 * before that tenant is looked up, so it learns nothing about it; for a user of another
 * tenant, an unknown tenant and a foreign one get the same 403.
 *
 * Every answer is written to the decision log like any other decision, in the platform's own
 * chain (see platformTenantId), naming the tenant it concerns in its input.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { VerdictError, messageOf } from '../errors';
import type { Logger } from '../logger';
import {
  bearerToken,
  challengeIfUnauthorized,
  authenticateApiKey,
  unauthorized,
} from '../middleware/api-key';
import { looksLikeApiKey, type ApiKeyService } from '../services/api-keys';
import { consoleCookie, type ConsoleSessionAuth } from './console-session';
import type { AuditSink } from '../services/audit/sink';
import { SecurityEvents, type SecurityEventSink } from '../services/security/events';
import type { TenantService } from '../services/tenants';
import {
  PlatformPolicy,
  platformEntrypoint,
  policyInput,
  type PlatformDecision,
} from './platform-policy';
import { bootstrapPrincipal, type AccessTokenVerifier, type Principal } from './principal';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set once the platform policy allowed the request. */
    principal?: Principal;
  }
}

/**
 * The decision-log chain the platform policy's answers go to (the nil UUID; no tenant has
 * it). Kept apart from the tenants' own chains so that reading a tenant's log never changes
 * it. Platform admins read it as the tenant `platform` on the decision-log routes.
 */
export const platformTenantId = '00000000-0000-0000-0000-000000000000';

/** The name the decision-log routes take for the platform chain. */
export const platformTenantRef = 'platform';

export interface PlatformAccessOptions {
  /** The bootstrap token; undefined disables it (other credentials still work). */
  readonly adminToken: string | undefined;
  readonly apiKeys: ApiKeyService;
  readonly tenants: TenantService;
  readonly logger: Logger;
  /** Verifies users' access tokens; without it, only keys and the bootstrap token work. */
  readonly accessTokens?: AccessTokenVerifier | undefined;
  /** Where decisions are logged; without it, nothing is (tests of single routers). */
  readonly audit?: Pick<AuditSink, 'record'> | undefined;
  /** The policy; the shipped one, compiled once per process, by default. */
  readonly policy?: () => Promise<PlatformPolicy>;
  /** The auditor console's cookie sessions; without them, no route takes the cookie. */
  readonly consoleSessions?: ConsoleSessionAuth | undefined;
  /** Where denials are reported as security events; by default they are only logged. */
  readonly securityEvents?: SecurityEventSink | undefined;
}

/** Where `require` finds the credential and the tenant, when not in the usual places. */
export interface RequireOptions {
  /**
   * Whether the console's session cookie may stand in for a bearer credential (only the
   * decision-log reads the console makes); the session must be for the route's tenant.
   */
  readonly consoleSession?: boolean;
  /** The credential to check instead of the bearer token (the console's sign-in body). */
  readonly credential?: (req: Request) => string | undefined;
  /** The tenant reference instead of the `:tenant` route parameter. */
  readonly tenant?: (req: Request) => string | undefined;
}

const adminDisabled = (): VerdictError =>
  new VerdictError('admin_api_disabled', 'admin API disabled: set VERDICT_ADMIN_TOKEN');

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Constant-time comparison whatever the lengths (both sides are hashed first). */
function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

function elapsedUs(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1000;
}

/** The actor of a security event: `user:<id>`, `api-key:<id>`, `bootstrap:admin-token`. */
export function actorOf(principal: Principal): string {
  return `${principal.kind}:${principal.id}`;
}

/**
 * Whether a request names a tenant other than the principal's own (the platform's chain
 * included): a tenant user or key reaching beyond its tenant. Platform admins have no tenant
 * of their own, so nothing is cross-tenant for them.
 */
export function isCrossTenant(
  principal: Principal,
  tenantRef: unknown,
  tenantId: string | null,
): boolean {
  return (
    principal.tenantId !== null && typeof tenantRef === 'string' && tenantId !== principal.tenantId
  );
}

function tenantRefOf(req: Request, options: RequireOptions): string | undefined {
  if (options.tenant !== undefined) return options.tenant(req);
  const ref = req.params.tenant;
  return typeof ref === 'string' ? ref : undefined;
}

export class PlatformAccess {
  private readonly options: PlatformAccessOptions;
  private readonly policy: () => Promise<PlatformPolicy>;
  private readonly events: SecurityEventSink;

  constructor(options: PlatformAccessOptions) {
    this.options = options;
    this.policy = options.policy ?? (() => PlatformPolicy.load());
    this.events = options.securityEvents ?? new SecurityEvents({ logger: options.logger });
  }

  /** The sink of security events (routes report what they did, e.g. revoked keys). */
  get securityEvents(): SecurityEventSink {
    return this.events;
  }

  /** Middleware: the caller must be allowed `action` (on the `:tenant` of the route, if any). */
  require(action: string, options: RequireOptions = {}): RequestHandler {
    return async (req, res, next) => {
      const started = process.hrtime.bigint();
      try {
        const principal = await this.authenticate(req, await this.credentialOf(req, options));
        const tenantRef = tenantRefOf(req, options);
        const tenantId = await this.targetTenant(req, principal, tenantRef);
        const policy = await this.policy();
        const decision = policy.decide({ principal, action, tenantId });
        this.log(req, policy, { principal, action, tenantId }, decision, started);
        if (!decision.allow) {
          this.events.record({
            type: isCrossTenant(principal, tenantRef, tenantId)
              ? 'cross_tenant_denied'
              : 'access_denied',
            actor: actorOf(principal),
            tenant: principal.tenantId,
            ip: req.ip,
            requestId: req.id,
            details: { action, targetTenant: tenantId, reason: decision.reason },
          });
          throw new VerdictError('forbidden', `Not allowed to ${action}: ${decision.reason}.`, {
            extensions: { action },
          });
        }
        req.principal = principal;
        next();
      } catch (err) {
        challengeIfUnauthorized(res, err);
        next(err);
      }
    };
  }

  /**
   * The request's bearer token, or the credential `options` name. On a route that takes the
   * console's cookie, a request with no Authorization header but the cookie is checked by the
   * console's session rules and stands for the credential its session signed in with.
   */
  private async credentialOf(req: Request, options: RequireOptions): Promise<string | undefined> {
    if (options.credential !== undefined) return options.credential(req);
    const token = bearerToken(req);
    const consoleSessions = this.options.consoleSessions;
    if (
      token !== undefined ||
      options.consoleSession !== true ||
      consoleSessions === undefined ||
      consoleCookie(req) === undefined
    ) {
      return token;
    }
    const { session } = await consoleSessions.authenticate(req);
    if (req.params.tenant !== session.tenant) {
      throw new VerdictError(
        'forbidden',
        `The console session is for tenant "${session.tenant}": sign out, then sign in to this one.`,
      );
    }
    return session.credential;
  }

  /** The principal behind `token` (by default the request's bearer token). */
  async authenticate(req: Request, token = bearerToken(req)): Promise<Principal> {
    const tokens = this.options.accessTokens;
    const adminToken = this.options.adminToken;
    // With neither the admin token nor user logins configured, no human can get in at all.
    const noHumanCredential = adminToken === undefined && tokens === undefined;
    if ((token === undefined || token === '') && noHumanCredential) throw adminDisabled();
    if (token === undefined || token === '') {
      throw unauthorized(
        'This endpoint needs credentials: send `Authorization: Bearer <token>` with an access token from `verdict login`, a tenant API key, or the admin token.',
      );
    }
    if (looksLikeApiKey(token)) {
      const key = await authenticateApiKey(this.options.apiKeys, token);
      req.apiKey = key;
      return {
        kind: 'api-key',
        id: key.keyId,
        tenantId: key.tenantId,
        roles: ['app'],
        scopes: key.scopes,
      };
    }
    if (tokens?.looksLikeAccessToken(token) === true) return tokens.verify(token);
    if (adminToken === undefined) throw adminDisabled();
    if (!sameSecret(token, adminToken)) {
      throw unauthorized(
        'The token is not valid: use an access token from `verdict login`, a tenant API key, or the value of VERDICT_ADMIN_TOKEN.',
      );
    }
    return bootstrapPrincipal;
  }

  /**
   * The id of the tenant the route names; null when it names none, or one the principal may
   * not learn about or that does not exist.
   */
  private async targetTenant(
    req: Request,
    principal: Principal,
    ref: string | undefined,
  ): Promise<string | null> {
    if (ref === undefined) return null;
    if (ref === platformTenantRef) return platformTenantId;
    if (principal.kind === 'api-key') {
      const own = req.apiKey;
      return own !== undefined && (ref === own.tenantSlug || ref === own.tenantId)
        ? own.tenantId
        : null;
    }
    const tenant = await this.options.tenants.find(ref);
    return tenant?.id ?? null;
  }

  private log(
    req: Request,
    policy: PlatformPolicy,
    input: { principal: Principal; action: string; tenantId: string | null },
    decision: PlatformDecision,
    started: bigint,
  ): void {
    const audit = this.options.audit;
    if (audit === undefined) return;
    try {
      audit.record({
        tenantId: platformTenantId,
        path: platformEntrypoint,
        bundleName: 'verdict-platform',
        bundleVersion: '1.0.0',
        bundleRevision: policy.revision,
        input: { ...policyInput(input), request: { method: req.method, path: req.path } },
        result: decision,
        caller: `${input.principal.kind}:${input.principal.id}`,
        cache: 'bypass',
        durationUs: elapsedUs(started),
      });
    } catch (err) {
      // The answer stands; a log that cannot take it says so in the server log.
      this.options.logger.error({ err: messageOf(err) }, 'platform decision could not be logged');
    }
  }
}
