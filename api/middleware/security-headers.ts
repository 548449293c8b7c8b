/**
 * Security headers for every response (helmet), set for an API that answers JSON: nothing it
 * sends is meant to run or render in a browser, so the default content security policy allows
 * nothing at all and no page may frame a response. The auditor console under /console sets its
 * own, wider policy on its files (api/routes/console.ts), which replaces this one there.
 */
import type { RequestHandler } from 'express';
import helmet from 'helmet';

/** One year, as HSTS preload lists expect; browsers only heed it over https. */
export const hstsMaxAgeSeconds = 365 * 24 * 60 * 60;

export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'none'"],
        frameAncestors: ["'none'"],
      },
    },
    strictTransportSecurity: { maxAge: hstsMaxAgeSeconds, includeSubDomains: true },
    // Both headers forbid framing: CSP frame-ancestors for current browsers, X-Frame-Options
    // for old ones.
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // Kept at helmet's defaults: X-Content-Type-Options: nosniff,
    // Cross-Origin-Resource-Policy: same-origin (CORS requests are unaffected by it),
    // Cross-Origin-Opener-Policy: same-origin, X-XSS-Protection: 0.
  });
}
