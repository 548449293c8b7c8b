/**
 * The edge pieces one by one: which route class a path is in, the keys limits count by, the
 * trust-proxy setting, the URL guard, the CORS policy without an allowlist and with Vary
 * already set, JSON shape limits, the raw answers for requests Node's parser refuses, and
 * problems for errors with a client status from Express's dependencies.
 */
import express, { type Request } from 'express';
import request from 'supertest';
import { VerdictError } from '../../../../api/errors';
import { PassThrough } from 'node:stream';
import { answerClientError, clientErrorResponse } from '../../../../api/middleware/client-error';
import { corsPolicy } from '../../../../api/middleware/cors';
import { edgeMiddleware, rejectNulInUrl, trustProxyValue } from '../../../../api/middleware/edges';
import { jsonShapeLimits } from '../../../../api/middleware/json-limits';
import { problemHandler } from '../../../../api/middleware/problem';
import {
  accountKey,
  clientAddress,
  credentialKey,
  routeClassOf,
} from '../../../../api/middleware/route-limits';
import { exceededJsonLimit, exceedsDepth } from '../../../../api/services/decisions/input';
import { silentLogger } from '../../../integration/helpers/services';

function fakeRequest(parts: { authorization?: string; body?: unknown; ip?: string }): Request {
  return {
    headers: parts.authorization === undefined ? {} : { authorization: parts.authorization },
    body: parts.body,
    ip: parts.ip,
    socket: { remoteAddress: '192.0.2.9' },
  } as unknown as Request;
}

describe('route classes', () => {
  it.each([
    ['/health/live', 'health'],
    ['/v1/data', 'decisions'],
    ['/v1/data/rbac/allow', 'decisions'],
    ['/V1/DATA/rbac', 'decisions'],
    ['/v1/batch/data/x', 'decisions'],
    ['/v1/casl/b/rules', 'decisions'],
    ['/', 'decisions'],
    ['/v1/auth/login', 'auth'],
    ['/V1/Auth/login', 'auth'],
    ['/v1/auth', 'auth'],
    ['/v1/authority', 'admin'],
    ['/v1/datastore', 'admin'],
    ['/v1/tenants', 'admin'],
    ['/v1', 'admin'],
    ['/console/', 'other'],
    ['/.well-known/jwks.json', 'other'],
  ])('%s is %s', (path, routeClass) => {
    expect(routeClassOf(path)).toBe(routeClass);
  });
});

describe('limit keys', () => {
  it('counts a credential by its digest, never by the token itself', () => {
    const key = credentialKey(fakeRequest({ authorization: 'Bearer vdk_abc_secret', ip: '::1' }));
    expect(key).toMatch(/^cred:[A-Za-z0-9_-]{43}$/);
    expect(key).not.toContain('secret');
    expect(credentialKey(fakeRequest({ authorization: 'Bearer vdk_abc_other' }))).not.toBe(key);
  });

  it('counts requests without a token by client address', () => {
    expect(credentialKey(fakeRequest({ ip: '203.0.113.5' }))).toBe('ip:203.0.113.5');
    expect(credentialKey(fakeRequest({ authorization: 'Basic x', ip: '::1' }))).toBe('ip:::1');
    expect(clientAddress(fakeRequest({}))).toBe('ip:192.0.2.9');
  });

  it('counts a login by its e-mail, case and blanks folded; none without one', () => {
    const a = accountKey(fakeRequest({ body: { email: ' Alice@Example.com ' } }));
    expect(a).toMatch(/^account:/);
    expect(accountKey(fakeRequest({ body: { email: 'alice@example.com' } }))).toBe(a);
    expect(accountKey(fakeRequest({ body: { email: 'bob@example.com' } }))).not.toBe(a);
    expect(accountKey(fakeRequest({ body: { email: '  ' } }))).toBeUndefined();
    expect(accountKey(fakeRequest({ body: { email: 42 } }))).toBeUndefined();
    expect(accountKey(fakeRequest({ body: { user: 'x' } }))).toBeUndefined();
    expect(accountKey(fakeRequest({ body: undefined }))).toBeUndefined();
  });
});

describe('VERDICT_TRUST_PROXY', () => {
  it('trusts nobody by default, a number of hops, or the listed proxies', () => {
    expect(trustProxyValue(undefined)).toBe(false);
    expect(trustProxyValue(' 2 ')).toBe(2);
    expect(trustProxyValue('10.0.0.0/8, loopback,fd00::/8, 192.0.2.1')).toEqual([
      '10.0.0.0/8',
      'loopback',
      'fd00::/8',
      '192.0.2.1',
    ]);
  });

  it('stops the start on an item that is no address, range or name', () => {
    for (const bad of ['10.0.0.0/33', '999.1.1.1', 'everyone', '10.0.0.1/8/8', 'fd00::/129']) {
      expect(() => trustProxyValue(`loopback, ${bad}`)).toThrow(
        expect.objectContaining({ code: 'config_invalid' }) as VerdictError,
      );
    }
  });
});

describe('edge middleware', () => {
  function app(handlers: express.RequestHandler[]) {
    const a = express();
    a.use(handlers);
    a.get('/x', (_req, res) => res.json({}));
    a.options('/x', (_req, res) => res.status(200).json({ route: true }));
    a.use(problemHandler(silentLogger));
    return a;
  }

  it('refuses NUL in the path or the query, in either case of hex', async () => {
    const a = app([rejectNulInUrl]);
    for (const path of ['/x%00', '/x?q=a%00b', '/x?q=%00']) {
      const res = await request(a).get(path).expect(400);
      expect(res.body).toMatchObject({ code: 'bad_request' });
    }
    await request(a).get('/x?q=%2500').expect(200);
  });

  it('adds no CORS header at all without an allowlist, preflights included', async () => {
    const a = app([corsPolicy([])]);
    const res = await request(a)
      .options('/x')
      .set('Origin', 'https://a.example.com')
      .set('Access-Control-Request-Method', 'GET')
      .expect(200);
    expect(res.body).toEqual({ route: true });
    expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    expect(res.headers.vary).toBeUndefined();
  });

  it('keeps a Vary set earlier and does not repeat Origin', async () => {
    const a = express();
    a.use((_req, res, next) => {
      res.setHeader('Vary', 'Accept-Encoding, origin');
      next();
    });
    a.use(corsPolicy(['https://A.example.com']));
    a.get('/x', (_req, res) => res.json({}));
    const res = await request(a).get('/x').set('Origin', 'https://a.example.com').expect(200);
    expect(res.headers.vary).toBe('Accept-Encoding, origin');
    expect(res.headers['access-control-allow-origin']).toBe('https://a.example.com');
  });

  it('builds the stack without rate limits when none are given', () => {
    const edges = edgeMiddleware();
    expect(edges.beforeBody).toHaveLength(2);
    expect(edges.afterBody).toHaveLength(1);
  });
});

describe('JSON shape limits', () => {
  it('measures depth and members without recursing', () => {
    expect(exceededJsonLimit({ a: [1, 2] }, { maxDepth: 2, maxMembers: 3 })).toBeUndefined();
    expect(exceededJsonLimit({ a: [1, 2] }, { maxDepth: 1 })).toBe('depth');
    expect(exceededJsonLimit({ a: [1, 2, 3] }, { maxDepth: 5, maxMembers: 3 })).toBe('members');
    expect(exceedsDepth('scalar', 0)).toBe(false);
    let deep: unknown = 0;
    for (let i = 0; i < 200_000; i += 1) deep = [deep];
    expect(exceedsDepth(deep, 64)).toBe(true);
  });

  it('passes bodies that are not parsed JSON through untouched', async () => {
    const a = express();
    a.use(express.raw({ type: 'application/octet-stream' }));
    a.use(jsonShapeLimits({ maxDepth: 1, maxMembers: 1 }));
    a.post('/x', (req, res) => res.json({ bytes: (req.body as Buffer).length }));
    await request(a)
      .post('/x')
      .set('Content-Type', 'application/octet-stream')
      .send(Buffer.alloc(10))
      .expect(200, { bytes: 10 });
  });
});

describe('requests the HTTP parser refuses', () => {
  function bodyOf(raw: string): Record<string, unknown> {
    return JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
  }

  it.each([
    ['HPE_HEADER_OVERFLOW', 431, 'headers_too_large'],
    ['ERR_HTTP_REQUEST_TIMEOUT', 408, 'request_timeout'],
    ['HPE_INVALID_METHOD', 400, 'bad_request'],
    ['HPE_INVALID_HEADER_TOKEN', 400, 'bad_request'],
  ])('answers %s with %d %s as problem+json', (code, status, problem) => {
    const err = Object.assign(new Error('parse'), { code });
    const raw = clientErrorResponse(err);
    expect(raw.startsWith(`HTTP/1.1 ${status} `)).toBe(true);
    expect(raw).toContain('Content-Type: application/problem+json; charset=utf-8');
    expect(raw).toContain('Connection: close');
    const body = bodyOf(raw);
    expect(body).toMatchObject({ status, code: problem });
    expect(Buffer.byteLength(JSON.stringify(body))).toBe(
      Number(/Content-Length: (\d+)/.exec(raw)?.[1]),
    );
  });
});

describe('the clientError listener', () => {
  it('answers a socket it can write to, and only closes one that reset or is closing', () => {
    const err = Object.assign(new Error('parse'), { code: 'HPE_INVALID_METHOD' });
    const open = new PassThrough();
    answerClientError(err, open);
    expect(String(open.read())).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);

    const reset = new PassThrough();
    answerClientError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }), reset);
    expect(reset.destroyed).toBe(true);
    expect(reset.read()).toBeNull();

    const closing = new PassThrough();
    closing.end();
    answerClientError(err, closing);
    expect(closing.destroyed).toBe(true);
  });
});

describe('client errors from Express dependencies', () => {
  it('answers an error with a 4xx status as bad_request, and a 5xx one as internal', async () => {
    const a = express();
    a.get('/client', () => {
      throw Object.assign(new Error('range not satisfiable'), { status: 416 });
    });
    a.get('/server', () => {
      throw Object.assign(new Error('boom'), { status: 502 });
    });
    a.get('/odd', () => {
      throw Object.assign(new Error('odd'), { status: 'bad' });
    });
    a.use(problemHandler(silentLogger));
    const client = await request(a).get('/client').expect(400);
    expect(client.body).toMatchObject({ code: 'bad_request' });
    expect(client.text).not.toContain('range not satisfiable');
    await request(a).get('/server').expect(500);
    await request(a).get('/odd').expect(500);
  });
});
