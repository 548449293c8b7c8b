/* global document, fetch, URL */
/**
 * Calls from the console to the server. The session is an HttpOnly cookie the page never sees:
 * the browser sends it on these same-origin calls, and the page adds the session's CSRF token
 * to every call that changes state. A refusal becomes an `ApiError` carrying the problem+json
 * `detail`, which says what went wrong and what to do.
 */

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.name = 'ApiError';
    this.status = status;
  }
}

/** A URL relative to the console's own (`<base>/console/`), kept right behind a path prefix. */
export function consoleUrl(relative) {
  return new URL(relative, document.baseURI);
}

/**
 * The URL of a tenant route. The console lives at `<base>/console/`, so the API is one level
 * up, which also holds behind a proxy that serves Verdict under a path prefix.
 */
function tenantUrl(session, route, params) {
  const url = consoleUrl(`../v1/tenants/${encodeURIComponent(session.tenant)}${route}`);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') url.searchParams.set(name, value);
  }
  return url;
}

async function problemDetail(response) {
  try {
    const body = await response.json();
    if (body && typeof body.detail === 'string') return body.detail;
  } catch {
    // Not JSON: fall back to the status line.
  }
  return `The server answered ${response.status} ${response.statusText}.`.trim();
}

/**
 * Sends a request with the session cookie: `json` as the body, `csrfToken` in X-CSRF-Token.
 * The answer's JSON body, or undefined for an answer without one.
 */
export async function send(url, { method = 'GET', json, csrfToken } = {}) {
  const headers = { Accept: 'application/json' };
  if (json !== undefined) headers['Content-Type'] = 'application/json';
  if (csrfToken !== undefined) headers['X-CSRF-Token'] = csrfToken;
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (err) {
    throw new ApiError(0, `The server could not be reached (${err.message}); check it is running.`);
  }
  if (!response.ok) throw new ApiError(response.status, await problemDetail(response));
  return response.status === 204 ? undefined : response.json();
}

/** GETs a tenant route of the signed-in session and returns its JSON body. */
export function getJson(session, route, params = {}) {
  return send(tenantUrl(session, route, params));
}

export function searchDecisions(session, params) {
  return getJson(session, '/decisions', params);
}

export function decisionStats(session, params) {
  return getJson(session, '/decisions/stats', params);
}

export function getDecision(session, decisionId) {
  return getJson(session, `/decisions/${encodeURIComponent(decisionId)}`);
}
