/**
 * Cross-origin requests from browsers, for exact origins on an allowlist
 * (VERDICT_CORS_ORIGINS) only. With an empty list no response carries a CORS header, so no
 * web page on another origin can read anything. An allowed origin is echoed back (never `*`)
 * with credentials allowed; any other origin gets no CORS header, and its preflight a 403.
 * Responses vary by Origin whenever a list is set, so caches keep the answers apart.
 */
import type { RequestHandler, Response } from 'express';
import { VerdictError } from '../errors';

export const corsAllowedMethods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
/** Request headers a page may send: credentials, JSON, a request id, W3C trace context. */
export const corsAllowedHeaders = [
  'Authorization',
  'Content-Type',
  'X-Request-Id',
  'traceparent',
  'tracestate',
];
/** Response headers a page may read besides the CORS-safelisted ones. */
export const corsExposedHeaders = [
  'X-Request-Id',
  // The default decision (POST /) names its audit row here; a traced answer its trace here.
  'X-Decision-Id',
  'traceresponse',
  'Location',
  'Content-Disposition',
  'WWW-Authenticate',
  'Retry-After',
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
];
/** How long a browser may reuse a preflight answer, in seconds. */
export const corsMaxAgeSeconds = 600;

function addVary(res: Response, field: string): void {
  const current = res.getHeader('Vary');
  const fields = typeof current === 'string' ? current.split(/\s*,\s*/) : [];
  if (!fields.some((f) => f.toLowerCase() === field.toLowerCase() || f === '*')) {
    res.setHeader('Vary', [...fields.filter((f) => f !== ''), field].join(', '));
  }
}

/** The allowlist as a set of lower-cased origins (the scheme and host are case-insensitive). */
function allowlist(origins: readonly string[]): ReadonlySet<string> {
  return new Set(origins.map((origin) => origin.toLowerCase()));
}

export function corsPolicy(origins: readonly string[]): RequestHandler {
  const allowed = allowlist(origins);
  if (allowed.size === 0) {
    return (_req, _res, next) => {
      next();
    };
  }
  return (req, res, next) => {
    addVary(res, 'Origin');
    const origin = req.headers.origin;
    const isPreflight =
      req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
    if (origin === undefined || !allowed.has(origin.toLowerCase())) {
      if (isPreflight) {
        next(
          new VerdictError(
            'forbidden',
            `Origin ${JSON.stringify(origin ?? '')} may not call this API from a browser: an operator adds it to VERDICT_CORS_ORIGINS.`,
          ),
        );
        return;
      }
      next();
      return;
    }
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    if (!isPreflight) {
      res.setHeader('Access-Control-Expose-Headers', corsExposedHeaders.join(', '));
      next();
      return;
    }
    addVary(res, 'Access-Control-Request-Method');
    addVary(res, 'Access-Control-Request-Headers');
    res.setHeader('Access-Control-Allow-Methods', corsAllowedMethods.join(', '));
    res.setHeader('Access-Control-Allow-Headers', corsAllowedHeaders.join(', '));
    res.setHeader('Access-Control-Max-Age', String(corsMaxAgeSeconds));
    res.status(204).end();
  };
}
