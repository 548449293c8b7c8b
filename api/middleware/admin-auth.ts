/**
 * Access to the admin API while there are no user logins yet: the bootstrap admin token
 * (VERDICT_ADMIN_TOKEN) may do everything; a tenant API key may only reach its own tenant's
 * routes that accept keys, and only with the scope they ask for. A key of another tenant
 * is refused before anything about that tenant is looked up, so it learns nothing.
 *
 * With no admin token configured, admin-token routes answer 503: the admin API is disabled.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { VerdictError } from '../errors';
import type { ApiKeyScope } from '../models/api-key';
import { looksLikeApiKey, type ApiKeyService } from '../services/api-keys';
import {
  authenticateApiKey,
  bearerToken,
  challengeIfUnauthorized,
  missingScope,
  unauthorized,
} from './api-key';

export interface AdminAccessOptions {
  /** The bootstrap token; undefined disables the admin API. */
  readonly adminToken: string | undefined;
  readonly apiKeys: ApiKeyService;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Constant-time comparison whatever the lengths (both sides are hashed first). */
function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

const adminDisabled = (): VerdictError =>
  new VerdictError('admin_api_disabled', 'admin API disabled: set VERDICT_ADMIN_TOKEN');

function checkAdminToken(adminToken: string | undefined, token: string | undefined): void {
  if (adminToken === undefined) throw adminDisabled();
  if (token === undefined) {
    throw unauthorized(
      'This endpoint needs the admin token: send `Authorization: Bearer <VERDICT_ADMIN_TOKEN>`.',
    );
  }
  if (!sameSecret(token, adminToken)) {
    throw unauthorized('The admin token is not valid: use the value of VERDICT_ADMIN_TOKEN.');
  }
}

/** Only the admin token passes; a tenant API key is refused with 403. */
export function requireAdminToken(options: AdminAccessOptions): RequestHandler {
  return (req, res, next) => {
    try {
      const token = bearerToken(req);
      if (token !== undefined && looksLikeApiKey(token)) {
        throw new VerdictError(
          'forbidden',
          'Tenant API keys cannot use this endpoint: it needs the admin token.',
        );
      }
      checkAdminToken(options.adminToken, token);
      next();
    } catch (err) {
      challengeIfUnauthorized(res, err);
      next(err);
    }
  };
}

/**
 * The admin token, or a tenant API key of the tenant named by the `:tenant` route parameter
 * (slug or id) that carries `scope` when one is given.
 */
export function requireTenantAccess(
  options: AdminAccessOptions,
  scope?: ApiKeyScope,
): RequestHandler {
  return async (req, res, next) => {
    try {
      const token = bearerToken(req);
      if (token === undefined || !looksLikeApiKey(token)) {
        checkAdminToken(options.adminToken, token);
        next();
        return;
      }
      const principal = await authenticateApiKey(options.apiKeys, token);
      const tenant = req.params.tenant;
      if (tenant !== principal.tenantSlug && tenant !== principal.tenantId) {
        throw new VerdictError(
          'forbidden',
          "This API key belongs to another tenant; it can reach only its own tenant's routes.",
        );
      }
      if (scope !== undefined && !principal.scopes.includes(scope)) throw missingScope(scope);
      req.apiKey = principal;
      next();
    } catch (err) {
      challengeIfUnauthorized(res, err);
      next(err);
    }
  };
}
