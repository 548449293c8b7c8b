/**
 * Rate limits engage and release as docs/security.md says, over real HTTP against a real
 * server whose counts live in the real Redis: per API key on decisions, per credential on
 * admin routes, per client address everywhere but /health, and per client address and per
 * account name on logins. Small limits come from the settings (two-second windows where a
 * test waits for the release, ten-second ones where a slow machine must not see a window
 * roll over mid-test); X-Forwarded-For (trusted from loopback here) gives each scenario its
 * own client address so the per-address limit of one scenario never spends another's
 * allowance. That Redis failing lets decisions through and keeps logins counted is shown in
 * test/unit/api/middleware/rate-limit.test.ts, on a Redis that refuses and one that hangs.
 */
import {
  ADMIN,
  CaseCounter,
  markerBundle,
  pushAndActivate,
  send,
  startSecurityServer,
  tenantKey,
  type RawAnswer,
  type SecurityServer,
} from './helpers';

jest.setTimeout(120_000);

const counter = new CaseCounter('rate-limits.test');

let api: SecurityServer;
let keyA = '';
let keyB = '';

beforeAll(async () => {
  api = await startSecurityServer({
    VERDICT_TRUST_PROXY: 'loopback',
    VERDICT_RATE_LIMIT_IP: '12/10s',
    VERDICT_RATE_LIMIT_DECISIONS: '3/2s',
    VERDICT_RATE_LIMIT_ADMIN: '4/2s',
    VERDICT_RATE_LIMIT_AUTH_IP: '3/10s',
    VERDICT_RATE_LIMIT_AUTH_ACCOUNT: '2/2s',
  });
  // The setup's five admin calls fit two admin windows (4 per 2 s).
  keyA = await tenantKey(api.url, 'acme', ['decide']);
  const second = await send(api.url, 'POST', '/v1/tenants/acme/keys', {
    token: ADMIN,
    json: { name: 'b', scopes: ['decide'] },
  });
  keyB = (second.json as { key: string }).key;
  await sleep(2100);
  await pushAndActivate(api.url, 'acme', await markerBundle('acme'));
});

afterAll(async () => {
  await api.stop();
  counter.print();
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function decide(key: string, from: string): Promise<RawAnswer> {
  return send(api.url, 'POST', '/v1/data/iso/allow', {
    token: key,
    json: { input: { user: 'acme' } },
    headers: { 'x-forwarded-for': from },
  });
}

function login(email: string, from: string): Promise<RawAnswer> {
  return send(api.url, 'POST', '/v1/auth/login', {
    json: { tenant: 'acme', email, password: 'not-the-password' },
    headers: { 'x-forwarded-for': from },
  });
}

/**
 * Asserts a 429 problem from `limit` (`points` per `window` seconds) with its headers; returns
 * Retry-After in seconds.
 */
function expectRefusal(res: RawAnswer, limit: string, points: number, window = 2): number {
  expect(res.status).toBe(429);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = res.json as Record<string, unknown>;
  expect(body).toMatchObject({ code: 'too_many_requests', status: 429, limit });
  expect(body.requestId).toBe(res.headers.get('x-request-id'));
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(window);
  expect(body.retryAfterSeconds).toBe(retryAfter);
  expect(res.headers.get('ratelimit-limit')).toBe(String(points));
  expect(res.headers.get('ratelimit-remaining')).toBe('0');
  expect(Number(res.headers.get('ratelimit-reset'))).toBeLessThanOrEqual(window);
  expect(res.headers.get('ratelimit-policy')).toBe(`${points};w=${window}`);
  return retryAfter;
}

it('limits decisions per API key, leaves other keys alone, and releases after the window', async () => {
  const from = '198.51.100.1';
  for (let i = 0; i < 3; i += 1) {
    counter.add('decisions');
    const res = await decide(keyA, from);
    expect(res.status).toBe(200);
    expect(res.headers.get('ratelimit-remaining')).toBe(String(2 - i));
  }
  counter.add('decisions');
  const retryAfter = expectRefusal(await decide(keyA, from), 'decisions', 3);
  // Another key of the same tenant, from the same address, has its own allowance.
  counter.add('decisions');
  expect((await decide(keyB, from)).status).toBe(200);

  await sleep(retryAfter * 1000 + 100);
  counter.add('release');
  expect((await decide(keyA, from)).status).toBe(200);
});

it('limits admin routes per credential, apart from decisions', async () => {
  const from = '198.51.100.2';
  const admin = () =>
    send(api.url, 'GET', '/v1/tenants', { token: ADMIN, headers: { 'x-forwarded-for': from } });
  await sleep(2100); // The setup's admin calls used this credential's window.
  for (let i = 0; i < 4; i += 1) {
    counter.add('admin');
    expect((await admin()).status).toBe(200);
  }
  counter.add('admin');
  expectRefusal(await admin(), 'admin', 4);
  counter.add('admin');
  expect((await decide(keyB, from)).status).toBe(200);
});

it('limits every route but /health per client address, whoever calls', async () => {
  const from = '198.51.100.3';
  const anonymous = (path: string, address = from) =>
    send(api.url, 'GET', path, { headers: { 'x-forwarded-for': address } });
  // Paths outside /v1 count against the address alone (a /v1 call without a token would
  // also count against its route class's allowance for that address).
  const paths = ['/no/such/route', '/console/', '/.well-known/jwks.json'];
  for (let i = 0; i < 12; i += 1) {
    counter.add('ip');
    expect((await anonymous(paths[i % paths.length] as string)).status).not.toBe(429);
  }
  counter.add('ip');
  expectRefusal(await anonymous('/v1/tenants'), 'ip', 12, 10);
  counter.add('ip');
  expect((await anonymous('/health/live')).status).toBe(200);
  counter.add('ip');
  expect((await anonymous('/v1/tenants', '198.51.100.4')).status).toBe(401);
});

it('limits logins per client address', async () => {
  const from = '198.51.100.5';
  for (let i = 0; i < 3; i += 1) {
    counter.add('auth-ip');
    const res = await login(`user${i}@example.com`, from);
    expect(res.status).not.toBe(429);
    expect(res.status).toBeGreaterThanOrEqual(400);
  }
  counter.add('auth-ip');
  expectRefusal(await login('user9@example.com', from), 'auth-ip', 3, 10);
});

it('limits logins per account name from any address, case-folded, then releases', async () => {
  const email = 'Target@Example.com';
  counter.add('auth-account');
  expect((await login(email, '198.51.100.10')).status).not.toBe(429);
  counter.add('auth-account');
  expect((await login(email.toLowerCase(), '198.51.100.11')).status).not.toBe(429);
  counter.add('auth-account');
  const retryAfter = expectRefusal(
    await login(` ${email.toUpperCase()}`, '198.51.100.12'),
    'auth-account',
    2,
  );
  counter.add('auth-account');
  expect((await login('someone.else@example.com', '198.51.100.13')).status).not.toBe(429);

  await sleep(retryAfter * 1000 + 100);
  counter.add('release');
  expect((await login(email, '198.51.100.14')).status).not.toBe(429);
});
