/* global document, fetch, URL */
/**
 * Calls to the decision-log API with the session's bearer token. A refusal becomes an
 * `ApiError` carrying the problem+json `detail`, which says what went wrong and what to do.
 */

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.name = 'ApiError';
    this.status = status;
  }
}

/**
 * The URL of a tenant route. The console lives at `<base>/console/`, so the API is one level
 * up, which also holds behind a proxy that serves Verdict under a path prefix.
 */
function tenantUrl(session, route, params) {
  const url = new URL(
    `../v1/tenants/${encodeURIComponent(session.tenant)}${route}`,
    document.baseURI,
  );
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

/** GETs a tenant route and returns its JSON body. */
export async function getJson(session, route, params = {}) {
  let response;
  try {
    response = await fetch(tenantUrl(session, route, params), {
      headers: { Authorization: `Bearer ${session.token}`, Accept: 'application/json' },
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (err) {
    throw new ApiError(0, `The server could not be reached (${err.message}); check it is running.`);
  }
  if (!response.ok) throw new ApiError(response.status, await problemDetail(response));
  return response.json();
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
