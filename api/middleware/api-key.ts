/**
 * Tenant API-key authentication for the routes app backends call: reads
 * `Authorization: Bearer vdk_...`, verifies the key, and leaves who it speaks for on
 * `req.apiKey`. No key, or a malformed, unknown, revoked or expired one, is a 401; a valid
 * key without the route's scope is a 403.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import { VerdictError } from '../errors';
import type { ApiKeyScope } from '../models/api-key';
import type { ApiKeyPrincipal, ApiKeyService, VerifyFailure } from '../services/api-keys';

declare module 'express-serve-static-core' {
  interface Request {
    /** Set once a tenant API key has been verified for this request. */
    apiKey?: ApiKeyPrincipal;
  }
}

/** The credential of a `Bearer` Authorization header; undefined when there is none. */
export function bearerToken(req: { readonly headers: IncomingHttpHeaders }): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1] ?? '';
}

const failureDetails: Record<VerifyFailure | 'missing', string> = {
  missing:
    'This endpoint needs a tenant API key: send `Authorization: Bearer vdk_...` (an admin creates one with `verdict keys create`).',
  malformed:
    'The Authorization header does not hold a Verdict API key: expected `Bearer vdk_<prefix>_<secret>`.',
  unknown: 'The API key is not valid: check that it was copied whole, or create a new one.',
  revoked: 'The API key was revoked: create a new one with `verdict keys create`.',
  expired: 'The API key has expired: create a new one with `verdict keys create`.',
};

export function unauthorized(detail: string): VerdictError {
  return new VerdictError('unauthorized', detail);
}

/** A 401 tells the client how to authenticate (RFC 9110 WWW-Authenticate). */
export function challengeIfUnauthorized(res: ServerResponse, err: unknown): void {
  if (err instanceof VerdictError && err.code === 'unauthorized') {
    res.setHeader('WWW-Authenticate', 'Bearer realm="verdict"');
  }
}

export function missingScope(scope: ApiKeyScope): VerdictError {
  return new VerdictError(
    'forbidden',
    `The API key lacks the "${scope}" scope: create a key with \`--scope ${scope}\`.`,
    { extensions: { scope } },
  );
}

/**
 * Verifies `token` as a tenant API key: the principal, or a VerdictError to answer with.
 * A database that cannot be reached is a 503, never a 401.
 */
export async function authenticateApiKey(
  keys: ApiKeyService,
  token: string | undefined,
): Promise<ApiKeyPrincipal> {
  if (token === undefined) throw unauthorized(failureDetails.missing);
  let result;
  try {
    result = await keys.verify(token);
  } catch (err) {
    throw new VerdictError(
      'database_unavailable',
      'The API key could not be checked because the database is unavailable; retry shortly.',
      { cause: err },
    );
  }
  if (!result.ok) throw unauthorized(failureDetails[result.reason]);
  return result.principal;
}

/** Requires a valid tenant API key, with `scope` when one is given. */
export function requireApiKey(keys: ApiKeyService, scope?: ApiKeyScope): RequestHandler {
  return async (req, res, next) => {
    try {
      const principal = await authenticateApiKey(keys, bearerToken(req));
      if (scope !== undefined && !principal.scopes.includes(scope)) throw missingScope(scope);
      req.apiKey = principal;
      next();
    } catch (err) {
      challengeIfUnauthorized(res, err);
      next(err);
    }
  };
}
