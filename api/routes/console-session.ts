/**
 * The auditor console's session: sign in with the credential the console always asked for
 * (a tenant API key with `audit:read`, a user's access token, or the admin token) and get an
 * HttpOnly cookie instead of keeping the credential in the page; read the session back after
 * a reload; sign out. See api/auth/console-session.ts for the cookie and CSRF rules.
 *
 * Sign-in checks the credential exactly as the decision-log search would (the platform
 * policy's `decisions.read` on the tenant), so a credential the console could not use is
 * refused with the same words before any session exists.
 */
import { Router, type Request, type Response } from 'express';
import { VerdictError } from '../errors';
import type { PlatformAccess } from '../auth/access';
import {
  clearConsoleCookie,
  consoleCookie,
  requireSameOrigin,
  setConsoleCookie,
  type ConsoleSessionAuth,
} from '../auth/console-session';
import { consoleSignInSchema, type ConsoleSignInBody } from '../schemas/console';
import { bodyValidator } from '../schemas/validate';
import type { ConsoleSession } from '../services/console/sessions';
import { requireJsonBody } from './admin';

export const consoleSessionPath = '/console/session';

export interface ConsoleSessionRouterOptions {
  readonly access: PlatformAccess;
  readonly auth: ConsoleSessionAuth;
}

const validateSignIn = bodyValidator(consoleSignInSchema);

const loopbackHost = /^(localhost|.+\.localhost|127(\.\d{1,3}){3}|\[::1\]|::1)$/iu;

/**
 * Browsers keep a Secure cookie only from https, or from http on a loopback address; any other
 * plain-HTTP sign-in would seem to succeed and then fail, so it is refused with the reason.
 */
function requireSecureContext(req: Request): void {
  if (req.secure || loopbackHost.test(req.hostname)) return;
  throw new VerdictError(
    'bad_request',
    'The console signs in only over https (or on localhost): its session cookie is Secure, so a browser would drop it here. Behind a TLS-terminating proxy, set VERDICT_TRUST_PROXY so the server sees https.',
  );
}

function sessionAnswer(res: Response, session: ConsoleSession): Record<string, string> {
  res.setHeader('Cache-Control', 'no-store');
  return {
    tenant: session.tenant,
    csrf_token: session.csrfToken,
    expires_at: session.expiresAt.toISOString(),
  };
}

export function consoleSessionRouter(options: ConsoleSessionRouterOptions): Router {
  const router = Router();
  const { access, auth } = options;

  router.post(
    consoleSessionPath,
    (req, _res, next) => {
      requireSameOrigin(req);
      requireSecureContext(req);
      next();
    },
    requireJsonBody,
    (req, _res, next) => {
      req.body = validateSignIn(req.body);
      next();
    },
    access.require('decisions.read', {
      credential: (req) => (req.body as ConsoleSignInBody).token,
      tenant: (req) => (req.body as ConsoleSignInBody).tenant,
    }),
    async (req, res) => {
      const body = req.body as ConsoleSignInBody;
      // Signing in again replaces the browser's session: the one it held ends here.
      const previous = consoleCookie(req);
      if (previous !== undefined) await auth.end(previous);
      const session = await auth.open(body.tenant, body.token);
      setConsoleCookie(res, session.id, auth.sessions.lifetimeMs);
      res.status(201).json(sessionAnswer(res, session));
    },
  );

  router.get(consoleSessionPath, async (req, res) => {
    const { session } = await auth.authenticate(req);
    res.json(sessionAnswer(res, session));
  });

  router.delete(consoleSessionPath, async (req, res) => {
    const { id } = await auth.authenticate(req);
    await auth.end(id);
    clearConsoleCookie(res);
    res.status(204).end();
  });

  return router;
}
