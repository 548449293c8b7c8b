/**
 * The console's session, kept by the server: signing in trades the token for an HttpOnly,
 * SameSite=Strict cookie that no script can read, so the token is not kept in the page, in
 * sessionStorage or anywhere else in the browser. The page holds only the tenant and the
 * session's CSRF token, in memory; after a reload it asks the server for them again.
 */
import { ApiError, consoleUrl, send } from './api.js';

const sessionUrl = () => consoleUrl('session');

function sessionOf(body) {
  return { tenant: body.tenant, csrfToken: body.csrf_token };
}

/** Signs in; the server checks the token may read the tenant's log before any session exists. */
export async function signIn(tenant, token) {
  return sessionOf(await send(sessionUrl(), { method: 'POST', json: { tenant, token } }));
}

/** The session the browser's cookie holds, or undefined when there is none (or it ended). */
export async function currentSession() {
  try {
    return sessionOf(await send(sessionUrl()));
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return undefined;
    throw err;
  }
}

/** Ends the session on the server, which also clears the cookie. */
export async function signOut(session) {
  await send(sessionUrl(), { method: 'DELETE', csrfToken: session.csrfToken });
}
