/** The auditor console's session: sign in for a cookie, read it back, sign out. */
import type { Operation } from '../route-table';
import { jsonAnswer, jsonBody, noStore } from './shared';

const sessionPath = '/console/session';

export const consoleSessionOperations: readonly Operation[] = [
  {
    method: 'post',
    path: sessionPath,
    operationId: 'consoleSignIn',
    tag: 'Service',
    summary: "Sign the auditor console in: a session cookie for the console's credential",
    description:
      'Checks the credential as a decision-log search of the tenant would (`decisions.read`), then sets the `__Host-verdict-console` cookie (HttpOnly, Secure, SameSite=Strict, Path=/, 8 hours). The session, and the credential encrypted under a key only the cookie gives, are kept server-side. Only over https or on a loopback address, and only from this origin.',
    access: { kind: 'public' },
    body: jsonBody(
      'ConsoleSignInRequest',
      'The tenant (slug, id or `platform`) and a tenant API key with `audit:read`, a user access token or the admin token.',
    ),
    answers: {
      201: jsonAnswer('Signed in: the session and its CSRF token.', 'ConsoleSession', {
        ...noStore,
        'Set-Cookie': { description: 'The session cookie.', required: true },
      }),
    },
    problems: {
      400: 'A bad body, or a plain-HTTP address other than loopback (the cookie is Secure).',
      401: 'The credential is missing, unknown, revoked or expired.',
      403: "The credential may not read this tenant's decision log (`forbidden`), or the request came from another origin (`csrf_failed`).",
      503: 'The database or the session store is unavailable.',
    },
  },
  {
    method: 'get',
    path: sessionPath,
    operationId: 'consoleSession',
    tag: 'Service',
    summary: "The console's session: its tenant and CSRF token (after a reload)",
    access: { kind: 'console' },
    answers: { 200: jsonAnswer('The session.', 'ConsoleSession', noStore) },
    problems: {
      401: 'No session cookie, or the session ended or expired.',
      403: 'The request came from another origin (`csrf_failed`).',
    },
  },
  {
    method: 'delete',
    path: sessionPath,
    operationId: 'consoleSignOut',
    tag: 'Service',
    summary: 'Sign the console out: the session ends server-side and the cookie is cleared',
    description: "Needs the session's CSRF token in `X-CSRF-Token`.",
    access: { kind: 'console' },
    answers: {
      204: {
        description: 'Signed out.',
        headers: { 'Set-Cookie': { description: 'Clears the cookie.', required: true } },
      },
    },
    problems: {
      401: 'No session cookie, or the session ended or expired.',
      403: 'No or a wrong `X-CSRF-Token`, or the request came from another origin (`csrf_failed`).',
    },
  },
];
