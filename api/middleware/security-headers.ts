/**
 * Security headers for every response (helmet), set for an API that answers JSON: nothing it
 * sends is meant to run or render in a browser, so the default content security policy allows
 * nothing at all and no page may frame a response. The auditor console under /console sets its
 * own, wider policy on its files (api/routes/console.ts), which replaces this one there.
 */
import type { Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';

/** One year, as HSTS preload lists expect; browsers only heed it over https. */
export const hstsMaxAgeSeconds = 365 * 24 * 60 * 60;

const helmetOptions: Parameters<typeof helmet>[0] = {
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
};

export function securityHeaders(): RequestHandler {
  return helmet(helmetOptions);
}

/**
 * The headers `securityHeaders()` sets, as name/value pairs, read once by running it against
 * a recorder: the decision lane (api/routes/data-lane.ts), which answers without Express,
 * sets exactly these and so cannot drift from the middleware.
 */
export function securityHeaderValues(): (readonly [string, string])[] {
  const recorded: [string, string][] = [];
  const recorder = {
    setHeader(name: string, value: string) {
      recorded.push([name, value]);
    },
    removeHeader() {
      // helmet removes X-Powered-By; the lane never sets it.
    },
  };
  const run = { finished: false };
  securityHeaders()(Object.create(null) as Request, recorder as unknown as Response, () => {
    run.finished = true;
  });
  // helmet calls next synchronously; anything else would leave the lane without headers.
  if (!run.finished) throw new Error('security headers: helmet did not finish synchronously');
  return recorded;
}
