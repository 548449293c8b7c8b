/**
 * The auditor console's cookie session over real HTTP, on a real server (`start`: Postgres,
 * Redis, the decision lane): sign-in sets a `__Host-` cookie with the right attributes; the
 * cookie and its CSRF token work on the console's routes; a state change without the token,
 * or with a wrong one, is a 403 `csrf_failed`; requests from another origin are refused; the
 * cookie is worth nothing on the decision and admin routes; sign-out ends the session on the
 * server; a session expires. The expiry runs on a second app over the same database and
 * Redis, whose session clock the test moves.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../api/app';
import { start, type RunningServer } from '../../api/server';
import { ConsoleSessions, consoleSessionLifetimeMs } from '../../api/services/console/sessions';
import {
  createTestDatabase,
  redisUrl,
  silentLogger,
  testConfig,
  uniqueName,
  type TestDatabase,
} from './helpers/services';

jest.setTimeout(120_000);

const adminToken = 'console-session-admin-token-0123456789';
const cookieName = '__Host-verdict-console';

interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
  readonly json: Record<string, unknown>;
}

interface Sent {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly json?: unknown;
}

/** A request with exactly these headers (no client adds Origin, Sec-Fetch-* or cookies). */
function send(base: string, path: string, options: Sent = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] = 'application/json';
  }
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method: options.method ?? 'GET', headers });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Record<string, unknown> = {};
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // Not JSON.
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.end(body);
  });
}

interface SignedIn {
  readonly cookie: string;
  readonly id: string;
  readonly csrf: string;
  readonly setCookie: string;
  readonly reply: Reply;
}

let database: TestDatabase;
let server: RunningServer;
let url = '';
const keys = { audit: '', decide: '', globex: '' };

async function createTenant(slug: string): Promise<void> {
  const res = await send(url, '/v1/tenants', {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}` },
    json: { slug, name: slug },
  });
  expect(res.status).toBe(201);
}

async function createKey(tenant: string, scopes: string[]): Promise<string> {
  const res = await send(url, `/v1/tenants/${tenant}/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}` },
    json: { name: 'console', scopes },
  });
  expect(res.status).toBe(201);
  return res.json.key as string;
}

async function signIn(base: string, tenant: string, token: string): Promise<SignedIn> {
  const reply = await send(base, '/console/session', {
    method: 'POST',
    json: { tenant, token },
  });
  expect(reply.status).toBe(201);
  const setCookie = reply.headers['set-cookie']?.[0] ?? '';
  const id = /^__Host-verdict-console=([^;]*)/u.exec(setCookie)?.[1] ?? '';
  expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/u);
  return {
    cookie: `${cookieName}=${id}`,
    id,
    csrf: reply.json.csrf_token as string,
    setCookie,
    reply,
  };
}

function withCookie(session: SignedIn, extra: Record<string, string> = {}): Record<string, string> {
  return { cookie: session.cookie, ...extra };
}

const search = '/v1/tenants/acme/decisions';

beforeAll(async () => {
  database = await createTestDatabase('console_session');
  server = await start({
    config: testConfig({
      DATABASE_URL: database.url,
      REDIS_URL: redisUrl,
      VERDICT_REDIS_PREFIX: `${uniqueName('console_session')}:`,
      VERDICT_ADMIN_TOKEN: adminToken,
    }),
    logger: silentLogger,
  });
  url = server.url;
  await createTenant('acme');
  await createTenant('globex');
  keys.audit = await createKey('acme', ['audit:read']);
  keys.decide = await createKey('acme', ['decide']);
  keys.globex = await createKey('globex', ['audit:read']);
});

afterAll(async () => {
  await server.stop();
  await database.drop();
});

describe('sign-in', () => {
  it('sets a __Host- cookie: HttpOnly, Secure, SameSite=Strict, Path=/, no Domain, 8 hours', async () => {
    const before = Date.now();
    const session = await signIn(url, 'acme', keys.audit);
    const attributes = session.setCookie
      .split(';')
      .slice(1)
      .map((part) => part.trim().toLowerCase());
    expect(attributes).toEqual(
      expect.arrayContaining(['httponly', 'secure', 'samesite=strict', 'path=/']),
    );
    expect(attributes).toContain(`max-age=${String(consoleSessionLifetimeMs / 1000)}`);
    expect(attributes.some((part) => part.startsWith('domain'))).toBe(false);
    expect(session.reply.headers['cache-control']).toBe('no-store');
    expect(session.reply.json.tenant).toBe('acme');
    expect(session.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/u);
    const expires = Date.parse(session.reply.json.expires_at as string);
    expect(expires).toBeGreaterThanOrEqual(before + consoleSessionLifetimeMs);
    expect(expires).toBeLessThanOrEqual(Date.now() + consoleSessionLifetimeMs);
  });

  it('keeps neither the cookie nor the credential readable in Redis', async () => {
    const session = await signIn(url, 'acme', keys.audit);
    const digest = createHash('sha256').update(session.id, 'utf8').digest('base64url');
    const stored = await server.cache.get(`console-session:${digest}`);
    expect(stored).toBeDefined();
    expect(stored).not.toContain(keys.audit);
    expect(stored).not.toContain(keys.audit.split('_').at(-1) as string);
    expect(stored).not.toContain(session.id);
    expect(await server.cache.get(`console-session:${session.id}`)).toBeUndefined();
  });

  it('refuses a credential the console could not use, with the API’s words and no cookie', async () => {
    const cases: [string, string, number, RegExp][] = [
      ['acme', 'vdk_nope_nope', 401, /not/u],
      ['acme', 'not-the-admin-token', 401, /not valid/u],
      ['acme', keys.decide, 403, /audit:read/u],
      ['acme', keys.globex, 403, /another tenant/u],
    ];
    for (const [tenant, token, status, detail] of cases) {
      const res = await send(url, '/console/session', { method: 'POST', json: { tenant, token } });
      expect([token, res.status]).toEqual([token, status]);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/u);
      expect(res.json.detail).toMatch(detail);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
  });

  it('refuses a bad body', async () => {
    const missing = await send(url, '/console/session', {
      method: 'POST',
      json: { tenant: 'acme' },
    });
    expect(missing.status).toBe(400);
    const form = await send(url, '/console/session', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
  });

  it('signs in with the admin token too', async () => {
    const session = await signIn(url, 'acme', adminToken);
    const res = await send(url, search, { headers: withCookie(session) });
    expect(res.status).toBe(200);
  });

  it('ends the session the browser held when it signs in again', async () => {
    const first = await signIn(url, 'acme', keys.audit);
    const again = await send(url, '/console/session', {
      method: 'POST',
      headers: withCookie(first),
      json: { tenant: 'acme', token: keys.audit },
    });
    expect(again.status).toBe(201);
    expect(again.headers['set-cookie']?.[0]).not.toContain(first.id);
    expect((await send(url, search, { headers: withCookie(first) })).status).toBe(401);
  });

  it('refuses sign-in over plain HTTP on an address that is not loopback', async () => {
    const res = await send(url, '/console/session', {
      method: 'POST',
      headers: { host: 'verdict.example:8181' },
      json: { tenant: 'acme', token: keys.audit },
    });
    expect(res.status).toBe(400);
    expect(res.json.detail).toMatch(/https/u);
    expect(res.headers['set-cookie']).toBeUndefined();
  });
});

describe('the cookie on the console’s routes', () => {
  it('reads the decision log, one record and the counts', async () => {
    const session = await signIn(url, 'acme', keys.audit);
    const page = await send(url, search, { headers: withCookie(session) });
    expect(page.status).toBe(200);
    expect(page.json.decisions).toEqual(expect.any(Array));
    const stats = await send(url, `${search}/stats`, { headers: withCookie(session) });
    expect(stats.status).toBe(200);
    // Past authentication: the record is simply not there.
    const record = await send(url, `${search}/00000000-0000-4000-8000-000000000000`, {
      headers: withCookie(session),
    });
    expect(record.status).toBe(404);
  });

  it('gives the session back, with the same CSRF token, after a reload', async () => {
    const session = await signIn(url, 'acme', keys.audit);
    const res = await send(url, '/console/session', { headers: withCookie(session) });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      tenant: 'acme',
      csrf_token: session.csrf,
      expires_at: session.reply.json.expires_at,
    });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('reaches only the tenant it signed in to', async () => {
    const session = await signIn(url, 'acme', adminToken);
    const res = await send(url, '/v1/tenants/globex/decisions', { headers: withCookie(session) });
    expect(res.status).toBe(403);
    expect(res.json.detail).toMatch(/acme/u);
  });

  it('answers 401 for an unknown or malformed session id', async () => {
    for (const cookie of [`${cookieName}=${'A'.repeat(43)}`, `${cookieName}=junk`]) {
      const res = await send(url, search, { headers: { cookie } });
      expect(res.status).toBe(401);
      const session = await send(url, '/console/session', { headers: { cookie } });
      expect(session.status).toBe(401);
    }
  });
});

describe('CSRF', () => {
  it('refuses sign-out without the token, or with a wrong one, and the session lives on', async () => {
    const session = await signIn(url, 'acme', keys.audit);
    const tokens: (string | undefined)[] = [undefined, '', 'x'.repeat(43), `${session.csrf}x`];
    for (const token of tokens) {
      const res = await send(url, '/console/session', {
        method: 'DELETE',
        headers: withCookie(session, token === undefined ? {} : { 'x-csrf-token': token }),
      });
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/u);
      expect(res.json.code).toBe('csrf_failed');
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    const still = await send(url, search, { headers: withCookie(session) });
    expect(still.status).toBe(200);
  });

  it('does not take another session’s token', async () => {
    const mine = await signIn(url, 'acme', keys.audit);
    const theirs = await signIn(url, 'acme', keys.audit);
    const res = await send(url, '/console/session', {
      method: 'DELETE',
      headers: withCookie(mine, { 'x-csrf-token': theirs.csrf }),
    });
    expect(res.status).toBe(403);
    expect(res.json.code).toBe('csrf_failed');
  });

  it('refuses requests from another origin, whatever they carry', async () => {
    const session = await signIn(url, 'acme', keys.audit);
    const foreign: Record<string, string>[] = [
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      // Sec-Fetch-Site is the browser's word and outranks an Origin that looks right.
      { 'sec-fetch-site': 'cross-site', origin: url },
    ];
    for (const headers of foreign) {
      const read = await send(url, search, { headers: withCookie(session, headers) });
      expect([headers, read.status, read.json.code]).toEqual([headers, 403, 'csrf_failed']);
      const out = await send(url, '/console/session', {
        method: 'DELETE',
        headers: withCookie(session, { ...headers, 'x-csrf-token': session.csrf }),
      });
      expect([headers, out.status, out.json.code]).toEqual([headers, 403, 'csrf_failed']);
      const signInFrom = await send(url, '/console/session', {
        method: 'POST',
        headers,
        json: { tenant: 'acme', token: keys.audit },
      });
      expect([headers, signInFrom.status, signInFrom.json.code]).toEqual([
        headers,
        403,
        'csrf_failed',
      ]);
    }
    const own: Record<string, string>[] = [
      { 'sec-fetch-site': 'same-origin' },
      { origin: url },
      { 'sec-fetch-site': 'same-origin', origin: url },
    ];
    for (const headers of own) {
      const read = await send(url, search, { headers: withCookie(session, headers) });
      expect([headers, read.status]).toEqual([headers, 200]);
    }
  });

  it('lets a typed address (Sec-Fetch-Site: none) read, but not change state', async () => {
    const session = await signIn(url, 'acme', keys.audit);
    const read = await send(url, '/console/session', {
      headers: withCookie(session, { 'sec-fetch-site': 'none' }),
    });
    expect(read.status).toBe(200);
    const out = await send(url, '/console/session', {
      method: 'DELETE',
      headers: withCookie(session, { 'sec-fetch-site': 'none', 'x-csrf-token': session.csrf }),
    });
    expect(out.status).toBe(403);
    expect(out.json.code).toBe('csrf_failed');
  });
});

describe('the cookie elsewhere', () => {
  it('is no credential on the decision, admin and other decision-log routes', async () => {
    const session = await signIn(url, 'acme', adminToken);
    const headers = withCookie(session, {
      'x-csrf-token': session.csrf,
      'sec-fetch-site': 'same-origin',
    });
    const attempts: [string, string, unknown][] = [
      ['POST', '/v1/data/rbac/allow', { input: {} }],
      ['GET', '/v1/data/rbac/allow', undefined],
      ['POST', '/v1/batch/data/rbac/allow', { inputs: {} }],
      ['GET', '/v1/casl/rbac/rules', undefined],
      ['GET', '/v1/tenants', undefined],
      ['GET', '/v1/tenants/acme', undefined],
      ['POST', '/v1/tenants/acme/keys', { name: 'stolen', scopes: ['decide'] }],
      ['GET', '/v1/tenants/acme/keys', undefined],
      ['GET', '/v1/tenants/acme/bundles', undefined],
      ['GET', `${search}/export`, undefined],
      ['GET', `${search}/verify`, undefined],
    ];
    for (const [method, path, json] of attempts) {
      const res = await send(url, path, { method, headers, json });
      expect([method, path, res.status]).toEqual([method, path, 401]);
    }
  });

  it('leaves bearer authentication as it was, with or without a cookie beside it', async () => {
    const session = await signIn(url, 'acme', keys.audit);
    const bearer = await send(url, search, { headers: { authorization: `Bearer ${keys.audit}` } });
    expect(bearer.status).toBe(200);
    // The bearer decides: a cookie beside it neither helps nor hinders.
    const both = await send(url, '/v1/tenants/acme/keys', {
      headers: withCookie(session, { authorization: `Bearer ${adminToken}` }),
    });
    expect(both.status).toBe(200);
    const wrongBearer = await send(url, search, {
      headers: withCookie(session, { authorization: 'Bearer not-the-admin-token' }),
    });
    expect(wrongBearer.status).toBe(401);
  });
});

describe('sign-out and expiry', () => {
  it('ends the session on the server: the old cookie is refused afterwards', async () => {
    const session = await signIn(url, 'acme', keys.audit);
    const out = await send(url, '/console/session', {
      method: 'DELETE',
      headers: withCookie(session, { 'x-csrf-token': session.csrf }),
    });
    expect(out.status).toBe(204);
    const cleared = out.headers['set-cookie']?.[0] ?? '';
    expect(cleared).toMatch(/^__Host-verdict-console=;/u);
    expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970/u);
    for (const path of [search, '/console/session']) {
      const res = await send(url, path, { headers: withCookie(session) });
      expect([path, res.status]).toEqual([path, 401]);
    }
    const again = await send(url, '/console/session', {
      method: 'DELETE',
      headers: withCookie(session, { 'x-csrf-token': session.csrf }),
    });
    expect(again.status).toBe(401);
  });

  it('expires a session when its lifetime is over', async () => {
    let clock = Date.now();
    const sessions = new ConsoleSessions({ cache: server.cache, now: () => clock });
    const app = createApp({
      logger: silentLogger,
      db: server.db,
      cache: server.cache,
      isShuttingDown: () => false,
      adminToken,
      consoleSessions: sessions,
    });
    const other = http.createServer(app).listen(0, '127.0.0.1');
    await once(other, 'listening');
    try {
      const base = `http://127.0.0.1:${String((other.address() as AddressInfo).port)}`;
      const session = await signIn(base, 'acme', keys.audit);
      clock += consoleSessionLifetimeMs - 1;
      expect((await send(base, search, { headers: withCookie(session) })).status).toBe(200);
      clock += 1;
      for (const path of [search, '/console/session']) {
        const res = await send(base, path, { headers: withCookie(session) });
        expect([path, res.status]).toEqual([path, 401]);
        expect(res.json.detail).toMatch(/expired/u);
      }
    } finally {
      other.close();
      await once(other, 'close');
    }
  });
});
