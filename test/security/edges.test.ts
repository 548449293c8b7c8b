/**
 * The service's edges over real HTTP against a real server (real Postgres and Redis): security
 * headers, the CORS allowlist, request ids, and problem+json (never an HTML page, never a
 * stack trace) for malformed URLs, bad JSON, oversized and over-deep bodies, and requests
 * Node's HTTP parser refuses.
 */
import net from 'node:net';
import { hstsMaxAgeSeconds } from '../../api/middleware/security-headers';
import {
  ADMIN,
  CaseCounter,
  expectAcceptable,
  send,
  startSecurityServer,
  type RawAnswer,
  type SecurityServer,
} from './helpers';

jest.setTimeout(120_000);

const allowedOrigin = 'https://console.example.com';
const counter = new CaseCounter('edges.test');

let api: SecurityServer;

beforeAll(async () => {
  api = await startSecurityServer({
    VERDICT_CORS_ORIGINS: `${allowedOrigin}, http://localhost:5173`,
    VERDICT_MAX_BODY_MEMBERS: '1000',
  });
});

afterAll(async () => {
  await api.stop();
  counter.print();
});

function call(method: string, path: string, options: Parameters<typeof send>[3] = {}) {
  return send(api.url, method, path, options);
}

/**
 * Sends `raw` bytes over a fresh connection and returns everything the server wrote back
 * until it closed the connection (each request here makes it close; 5 s at most).
 */
async function rawExchange(raw: string): Promise<string> {
  const { port } = new URL(api.url);
  const socket = net.connect(Number(port), '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const timer = setTimeout(() => socket.destroy(), 5000);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => {
      socket.write(raw);
    });
    socket.once('close', () => {
      resolve();
    });
    socket.once('error', reject);
  });
  clearTimeout(timer);
  return Buffer.concat(chunks).toString('utf8');
}

function problemOf(res: RawAnswer): Record<string, unknown> {
  expectAcceptable(res, 'answer');
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return res.json as Record<string, unknown>;
}

describe('security headers', () => {
  it('sends the API headers on answers, errors included', async () => {
    const answers = [
      await call('GET', '/health/live'),
      await call('GET', '/v1/tenants', { token: ADMIN }),
      await call('GET', '/nothing/here'),
    ];
    for (const res of answers) {
      counter.add('headers');
      expect(res.headers.get('content-security-policy')).toBe(
        "default-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'",
      );
      expect(res.headers.get('strict-transport-security')).toBe(
        `max-age=${hstsMaxAgeSeconds}; includeSubDomains`,
      );
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
  });

  it('lets the console keep its own page policy, which also forbids framing', async () => {
    counter.add('headers');
    const res = await call('GET', '/console/');
    // The console's files exist in a checkout; its policy replaces the API's.
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('CORS allowlist', () => {
  it('echoes an allowed origin with credentials, exposes its headers and varies by Origin', async () => {
    counter.add('cors');
    const res = await call('GET', '/v1/tenants', {
      token: ADMIN,
      headers: { origin: allowedOrigin },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(allowedOrigin);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    const exposed = res.headers.get('access-control-expose-headers') ?? '';
    for (const header of ['X-Request-Id', 'X-Decision-Id', 'traceresponse']) {
      expect(exposed).toContain(header);
    }
    expect(res.headers.get('vary')).toMatch(/\bOrigin\b/);
  });

  it('gives other origins, and requests without one, no CORS header at all', async () => {
    for (const origin of [
      'https://evil.example.com',
      'https://console.example.com.evil.io',
      'null',
    ]) {
      counter.add('cors');
      const res = await call('GET', '/v1/tenants', { token: ADMIN, headers: { origin } });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
      expect(res.headers.get('vary')).toMatch(/\bOrigin\b/);
    }
    counter.add('cors');
    const none = await call('GET', '/v1/tenants', { token: ADMIN });
    expect(none.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers an allowed preflight with 204 and the methods and headers it may use', async () => {
    counter.add('cors');
    const res = await call('OPTIONS', '/v1/data/iso/allow', {
      headers: {
        origin: 'http://localhost:5173',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, traceparent',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    const allowed = res.headers.get('access-control-allow-headers') ?? '';
    for (const header of ['Authorization', 'traceparent', 'tracestate']) {
      expect(allowed).toContain(header);
    }
    expect(res.headers.get('access-control-max-age')).toBe('600');
  });

  it('refuses a preflight from an origin off the list with a 403 problem', async () => {
    counter.add('cors');
    const res = await call('OPTIONS', '/v1/tenants', {
      headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'DELETE' },
    });
    expect(res.status).toBe(403);
    expect(problemOf(res).code).toBe('forbidden');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('request ids', () => {
  it('makes one up, or keeps a sane one of the caller, on every answer and in problems', async () => {
    counter.add('request-id');
    const fresh = await call('GET', '/health/live');
    expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    counter.add('request-id');
    const kept = await call('GET', '/v1/tenants/nope', {
      token: ADMIN,
      headers: { 'x-request-id': 'client.trace-42_A' },
    });
    expect(kept.headers.get('x-request-id')).toBe('client.trace-42_A');
    expect(problemOf(kept).requestId).toBe('client.trace-42_A');

    for (const bad of ['x'.repeat(129), 'has space', 'semi;colon', '<script>', 'ünïcode']) {
      counter.add('request-id');
      const res = await call('GET', '/nothing', {
        headers: { 'x-request-id': bad },
      }).catch(() => undefined);
      // fetch refuses header values it cannot send; those never reach the server anyway.
      if (res === undefined) continue;
      const id = res.headers.get('x-request-id');
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(problemOf(res).requestId).toBe(id);
    }
  });
});

describe('problem+json for everything that goes wrong', () => {
  const badUrls = [
    '/v1/tenants/%E0%A4%A',
    '/v1/tenants/%',
    '/v1/data/%E0%A4%A/allow',
    '/v1/tenants/acme/keys/%C0%AF',
    '/%E0%A4%A',
    '/v1/tenants/%00',
    '/v1/tenants?x=%00',
  ];

  it.each(badUrls)('answers %s with a 4xx problem, never a 5xx or HTML', async (path) => {
    counter.add('malformed-url');
    const res = await call('GET', path, { token: ADMIN });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    problemOf(res);
  });

  it('answers bad JSON, too large and too deep or wide bodies with clear problems', async () => {
    const cases: [string, string | Uint8Array, number, string][] = [
      ['truncated', '{"slug": ', 400, 'invalid_json'],
      ['trailing comma', '{"slug": "a",}', 400, 'invalid_json'],
      ['not JSON at all', 'slug=a', 400, 'invalid_json'],
      ['a bare string', '"acme"', 400, 'invalid_json'],
      [
        'invalid UTF-8',
        new Uint8Array([0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d]),
        400,
        'bad_request',
      ],
      [
        'over 1 MiB',
        JSON.stringify({ slug: 'a', name: 'x'.repeat(1024 * 1024) }),
        413,
        'payload_too_large',
      ],
      ['129 levels deep', `{"a":${'['.repeat(128)}${']'.repeat(128)}}`, 400, 'bad_request'],
      ['100000 levels deep', '['.repeat(100_000) + ']'.repeat(100_000), 400, 'bad_request'],
      [
        '1001 members',
        JSON.stringify({ a: Array.from({ length: 1001 }, () => 0) }),
        413,
        'payload_too_large',
      ],
    ];
    for (const [what, body, status, code] of cases) {
      counter.add('bodies');
      const res = await call('POST', '/v1/tenants', {
        token: ADMIN,
        body,
        headers: { 'content-type': 'application/json' },
      });
      expect([what, res.status]).toEqual([what, status]);
      // Invalid UTF-8 decodes to U+FFFD, which the schema then refuses.
      if (what !== 'invalid UTF-8') expect(problemOf(res).code).toBe(code);
      else problemOf(res);
      if (what.endsWith('levels deep')) {
        expect(problemOf(res).detail).toContain('deeper than 128 levels');
      }
    }
  });

  it('answers methods Express has no route for, and ones HTTP does not know, with problems', async () => {
    for (const method of ['PROPFIND', 'PURGE', 'PUT', 'PATCH']) {
      counter.add('methods');
      const res = await call(method, '/v1/tenants', { token: ADMIN });
      expect(res.status).toBe(404);
      problemOf(res);
    }
    counter.add('methods');
    const trace = await rawExchange(
      'TRACE /v1/tenants HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(trace).toMatch(/^HTTP\/1\.1 404 /);
    expect(trace).toContain('application/problem+json');

    counter.add('methods');
    const unknown = await rawExchange('BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(unknown).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(unknown).toContain('application/problem+json');
    const body = JSON.parse(unknown.slice(unknown.indexOf('\r\n\r\n') + 4)) as Record<
      string,
      unknown
    >;
    expect(body).toMatchObject({ status: 400, code: 'bad_request' });
  });

  it('answers malformed HTTP and oversized headers with problems from the parser guard', async () => {
    counter.add('parser');
    const garbage = await rawExchange('GET / HTTP/1.1\r\nHost x\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1\.1 400 /);
    expect(garbage).toContain('"code":"bad_request"');

    counter.add('parser');
    const huge = await rawExchange(
      `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect(huge).toMatch(/^HTTP\/1\.1 431 /);
    expect(huge).toContain('"code":"headers_too_large"');
  });
});
