/**
 * Cookie authentication for the auditor console, and its CSRF defences. Only the routes the
 * console needs take the cookie (the decision-log reads it makes, and its own session
 * routes); every other route reads bearer credentials only, so a browser's cookie cannot
 * reach them at all.
 *
 * A request that presents the cookie must
 * 1. come from this origin: `Sec-Fetch-Site: same-origin` when the browser sends that header
 *    (`none`, a typed address, is let through for reads), else an `Origin` equal to the
 *    request's own, when there is one;
 * 2. carry the session's CSRF token in `X-CSRF-Token` when it changes state (any method but
 *    GET, HEAD and OPTIONS).
 * Either failure is a 403 `csrf_failed`. The cookie itself is SameSite=Strict, so a browser
 * does not send it on a request another site starts; these checks hold when it does anyway
 * (an old browser, a sibling subdomain that is same-site but not same-origin).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Request, Response } from 'express';
import { VerdictError } from '../errors';
import { unauthorized } from '../middleware/api-key';
import {
  csrfTokenMatches,
  type ConsoleSession,
  type ConsoleSessions,
  type NewConsoleSession,
} from '../services/console/sessions';

/**
 * `__Host-`: the browser keeps it only if it is Secure, has Path=/ and no Domain, so no
 * subdomain can set or shadow it.
 */
export const consoleCookieName = '__Host-verdict-console';
export const csrfHeaderName = 'X-CSRF-Token';

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The value of the console's cookie in the request; undefined when it has none. */
export function consoleCookie(req: { readonly headers: IncomingHttpHeaders }): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq !== -1 && pair.slice(0, eq).trim() === consoleCookieName) {
      return pair.slice(eq + 1).trim();
    }
  }
  return undefined;
}

export function csrfFailed(detail: string): VerdictError {
  return new VerdictError('csrf_failed', detail);
}

/** Throws `csrf_failed` unless the browser says the request comes from this origin. */
export function requireSameOrigin(req: Request): void {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string') {
    if (site === 'same-origin' || (site === 'none' && safeMethods.has(req.method))) return;
    throw csrfFailed(
      `The console's session works only from its own pages; this request came from another origin (Sec-Fetch-Site: ${site}).`,
    );
  }
  const origin = req.headers.origin;
  if (origin === undefined) return;
  const own = `${req.protocol}://${req.host}`;
  if (origin.toLowerCase() !== own.toLowerCase()) {
    throw csrfFailed(
      `The console's session works only from its own pages; this request came from ${origin}, not ${own}.`,
    );
  }
}

/** Sets the session cookie: HttpOnly, Secure, SameSite=Strict, Path=/, ending with it. */
export function setConsoleCookie(res: Response, id: string, lifetimeMs: number): void {
  res.cookie(consoleCookieName, id, {
    httpOnly: true,
    secure: true,
    sameSite: 'strict',
    path: '/',
    maxAge: lifetimeMs,
  });
}

export function clearConsoleCookie(res: Response): void {
  res.clearCookie(consoleCookieName, {
    httpOnly: true,
    secure: true,
    sameSite: 'strict',
    path: '/',
  });
}

export interface CookieSession {
  readonly id: string;
  readonly session: ConsoleSession;
}

function storeUnavailable(err: unknown): never {
  throw new VerdictError(
    'cache_unavailable',
    'The console session store (Redis) is unavailable; retry shortly.',
    { cause: err },
  );
}

export class ConsoleSessionAuth {
  readonly sessions: ConsoleSessions;

  constructor(sessions: ConsoleSessions) {
    this.sessions = sessions;
  }

  /**
   * The live session the request's cookie names, once the request passed the origin check
   * and, when it changes state, the CSRF check. A 401 without a live session.
   */
  async authenticate(req: Request): Promise<CookieSession> {
    const id = consoleCookie(req);
    if (id === undefined) {
      throw unauthorized('There is no console session: sign in on the console first.');
    }
    requireSameOrigin(req);
    const session = await this.sessions.find(id).catch(storeUnavailable);
    if (session === undefined) {
      throw unauthorized('The console session has ended or expired: sign in again.');
    }
    if (!safeMethods.has(req.method)) {
      const given = req.get(csrfHeaderName);
      if (!csrfTokenMatches(session, given)) {
        throw csrfFailed(
          given === undefined || given === ''
            ? `This request needs the console session's CSRF token in the ${csrfHeaderName} header.`
            : `The ${csrfHeaderName} header does not hold this console session's CSRF token: reload the console.`,
        );
      }
    }
    return { id, session };
  }

  /** Starts a session for `credential` on `tenant`. */
  async open(tenant: string, credential: string): Promise<NewConsoleSession> {
    return this.sessions.create(tenant, credential).catch(storeUnavailable);
  }

  /** Ends the session `id` server-side. */
  async end(id: string): Promise<void> {
    await this.sessions.delete(id).catch(storeUnavailable);
  }
}
