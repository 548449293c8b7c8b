import type { Request } from 'express';
import { VerdictError } from '../../../../api/errors';
import {
  consoleCookie,
  consoleCookieName,
  requireSameOrigin,
} from '../../../../api/auth/console-session';

function fakeRequest(method: string, headers: Record<string, string>): Request {
  return { method, headers, protocol: 'http', host: 'verdict.test:8181' } as unknown as Request;
}

function refusal(req: Request): string | undefined {
  try {
    requireSameOrigin(req);
    return undefined;
  } catch (err) {
    return err instanceof VerdictError ? err.code : String(err);
  }
}

describe('consoleCookie', () => {
  it('reads its own cookie among others, and only its own', () => {
    expect(consoleCookie({ headers: {} })).toBeUndefined();
    expect(consoleCookie({ headers: { cookie: 'a=1; b=2' } })).toBeUndefined();
    expect(consoleCookie({ headers: { cookie: `a=1; ${consoleCookieName}=abc; b=2` } })).toBe(
      'abc',
    );
    expect(consoleCookie({ headers: { cookie: `${consoleCookieName}=` } })).toBe('');
    // A cookie whose name merely contains the name is another cookie.
    expect(consoleCookie({ headers: { cookie: `x${consoleCookieName}=abc` } })).toBeUndefined();
  });
});

describe('requireSameOrigin', () => {
  it.each([
    ['GET', {}],
    ['DELETE', {}],
    ['GET', { 'sec-fetch-site': 'same-origin' }],
    ['DELETE', { 'sec-fetch-site': 'same-origin' }],
    ['GET', { 'sec-fetch-site': 'none' }],
    ['GET', { origin: 'http://verdict.test:8181' }],
    ['POST', { origin: 'HTTP://Verdict.Test:8181' }],
  ])('lets %s with %j through', (method, headers) => {
    expect(refusal(fakeRequest(method, headers))).toBeUndefined();
  });

  it.each([
    ['GET', { 'sec-fetch-site': 'cross-site' }],
    ['GET', { 'sec-fetch-site': 'same-site' }],
    ['DELETE', { 'sec-fetch-site': 'none' }],
    ['GET', { 'sec-fetch-site': 'cross-site', origin: 'http://verdict.test:8181' }],
    ['GET', { origin: 'https://verdict.test:8181' }],
    ['GET', { origin: 'http://verdict.test' }],
    ['POST', { origin: 'http://verdict.test:8181.evil.example' }],
    ['POST', { origin: 'null' }],
  ])('refuses %s with %j', (method, headers) => {
    expect(refusal(fakeRequest(method, headers))).toBe('csrf_failed');
  });
});
