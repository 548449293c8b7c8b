/**
 * A property-based fuzz (fast-check) of the public endpoints over real HTTP against a real
 * server on the real Postgres and Redis, loopback only. Two tenants, `alpha` and `bravo`,
 * each have their own bundle whose data holds a marker no other tenant has, and decisions in
 * their own log (whose inputs carry the marker too).
 *
 * 1. Random methods, paths (known routes, random segments, traversal and prototype names),
 *    query strings, headers, credentials and bodies: no answer is a 5xx, every refusal is a
 *    problem+json, and no built-in prototype of the server's process changes.
 * 2. Random requests with one tenant's keys to the decision, batch, CASL, decision-log and
 *    bundle routes, naming either tenant: no answer holds the other tenant's marker, tenant id
 *    or decision ids.
 *
 * Runs per property: SECURITY_FUZZ_RUNS (default 300); seed: SECURITY_FUZZ_SEED (default from
 * the clock; a failure prints the seed and the shrunk case to replay it).
 */
import fc from 'fast-check';
import {
  ADMIN,
  CaseCounter,
  markerBundle,
  pollutedPrototypes,
  pushAndActivate,
  send,
  startSecurityServer,
  tenantKey,
  unacceptable,
  urlText,
  type RawAnswer,
  type SecurityServer,
} from './helpers';

jest.setTimeout(600_000);

const RUNS = Number(process.env.SECURITY_FUZZ_RUNS ?? 300);
const SEED = Number(process.env.SECURITY_FUZZ_SEED ?? Date.now() % 2_147_483_647);

const counter = new CaseCounter(`fuzz.test (seed ${SEED})`);

type Tenant = 'alpha' | 'bravo';
const tenants: readonly Tenant[] = ['alpha', 'bravo'];
const scopes = ['decide', 'audit:read', 'bundles:write'] as const;
type Scope = (typeof scopes)[number];

interface TenantFixture {
  id: string;
  marker: string;
  keys: Record<Scope, string>;
  decisionIds: string[];
}

const fixtures = {} as Record<Tenant, TenantFixture>;
let api: SecurityServer;

function other(tenant: Tenant): Tenant {
  return tenant === 'alpha' ? 'bravo' : 'alpha';
}

beforeAll(async () => {
  // The fuzz is about answers, not limits: with limits on, most cases would meet a 429.
  api = await startSecurityServer({
    VERDICT_RATE_LIMIT_IP: 'off',
    VERDICT_RATE_LIMIT_DECISIONS: 'off',
    VERDICT_RATE_LIMIT_ADMIN: 'off',
    VERDICT_RATE_LIMIT_AUTH_IP: 'off',
    VERDICT_RATE_LIMIT_AUTH_ACCOUNT: 'off',
  });
  for (const tenant of tenants) {
    const marker = `marker-${tenant}-${Math.random().toString(36).slice(2)}`;
    const keys = {} as Record<Scope, string>;
    for (const scope of scopes) keys[scope] = await tenantKey(api.url, tenant, [scope]);
    const read = await send(api.url, 'GET', `/v1/tenants/${tenant}`, { token: ADMIN });
    await pushAndActivate(api.url, tenant, await markerBundle(marker));
    const decisionIds: string[] = [];
    for (const user of [marker, 'someone']) {
      const res = await send(api.url, 'POST', '/v1/data/iso/allow', {
        token: keys.decide,
        json: { input: { user, note: marker } },
      });
      expect(res.status).toBe(200);
      decisionIds.push((res.json as { decision_id: string }).decision_id);
    }
    fixtures[tenant] = { id: (read.json as { id: string }).id, marker, keys, decisionIds };
  }
  await api.server.audit.flush();
});

afterAll(async () => {
  await api.stop();
  counter.print();
});

/** Any UTF-16 text, lone surrogate halves included. */
const anyText = (maxLength: number) =>
  fc.string({
    unit: fc.oneof(
      fc.constantFrom('a', '/', '.', '%', '\u0000', '"', "'", '\\'),
      fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    ),
    maxLength,
  });

const segment = fc.oneof(
  fc.constantFrom('iso', 'secret', 'echo', 'allow', 'alpha', 'bravo', '..', '.', '%2e%2e', '%2F'),
  fc.constantFrom('__proto__', 'constructor', 'prototype', '%00', '%E0%A4%A', '%', ''),
  anyText(12).map(urlText),
);
const segments = fc.array(segment, { maxLength: 4 }).map((parts) => parts.join('/'));

const tenantRef = fc.oneof(fc.constantFrom<string>('alpha', 'bravo'), segment);
const tenantSuffix = fc.constantFrom(
  '',
  '/keys',
  '/keys/00000000-0000-0000-0000-000000000000',
  '/bundles',
  '/bundles/iso/versions',
  '/bundles/iso/versions/1.0.0',
  '/bundles/iso/versions/1.0.0/download',
  '/bundles/iso/activate',
  '/bundles/iso/rollouts',
  '/decisions',
  '/decisions/export',
  '/decisions/verify',
  '/decisions/stats',
  '/rollouts',
  '/signing-key',
  '/replay',
  '/users',
);

const path = fc.oneof(
  fc
    .tuple(fc.constantFrom('/v1/data', '/v1/batch/data'), segments)
    .map(([base, rest]) => (rest === '' ? base : `${base}/${rest}`)),
  fc
    .tuple(tenantRef, tenantSuffix, segments)
    .map(
      ([tenant, suffix, rest]) => `/v1/tenants/${tenant}${suffix}${rest === '' ? '' : `/${rest}`}`,
    ),
  fc.constantFrom(
    '/v1/tenants',
    '/v1/auth/login',
    '/v1/auth/refresh',
    '/v1/users/me',
    '/health/ready',
  ),
  segments.map((rest) => `/v1/casl/${rest}/rules`),
  segments.map((rest) => `/${rest}`),
);

const queryKey = fc.oneof(
  fc.constantFrom('input', 'path', 'caller', 'limit', 'cursor', 'from', 'to', 'format', 'allowed'),
  fc.constantFrom('metrics', 'pretty', 'provenance', 'explain', 'name', 'version', 'user', 'kind'),
  fc.constantFrom('__proto__', 'constructor[prototype][x]', '__proto__[polluted]'),
  anyText(8),
);
const query = fc
  .array(fc.tuple(queryKey, anyText(40)), { maxLength: 4 })
  .map((pairs) =>
    pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${urlText(k)}=${urlText(v)}`).join('&')}`,
  );

const credential = fc.oneof(
  fc.constant<string | undefined>(undefined),
  fc.constant(ADMIN),
  fc
    .constantFrom(...tenants)
    .chain((tenant) => fc.constantFrom(...scopes).map((scope) => fixtures[tenant].keys[scope])),
  fc.constantFrom('vdk_aaaaaaaa_bbbbbbbb', 'not-a-key', ''),
  anyText(20).filter((text) => /^[\x21-\x7e]+$/.test(text)),
);

const contentType = fc.constantFrom(
  undefined,
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/gzip',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
);

const jsonBody = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.record({ input: fc.jsonValue({ maxDepth: 4 }) }),
  fc.record({ inputs: fc.dictionary(anyText(6), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }) }),
  fc.record({ slug: anyText(10), name: anyText(10) }),
  fc.record({ version: anyText(10), mode: anyText(6), percent: fc.double() }),
  fc.record({ user: fc.jsonValue({ maxDepth: 3 }) }),
  fc.record({ email: anyText(20), password: anyText(20) }),
);

const body = fc.oneof(
  fc.constant<string | Uint8Array | undefined>(undefined),
  jsonBody.map((value) => JSON.stringify(value)),
  anyText(60),
  fc.uint8Array({ maxLength: 200 }),
);

const method = fc.constantFrom(
  'GET',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'HEAD',
  'OPTIONS',
  'PROPFIND',
);

const fuzzRequest = fc.record({
  method,
  path,
  query,
  credential,
  contentType,
  body,
  requestId: fc.option(anyText(20).filter((text) => /^[\x20-\x7e]*$/.test(text))),
  origin: fc.option(fc.constantFrom('https://evil.example.com', 'null', 'http://localhost')),
});

type FuzzRequest = typeof fuzzRequest extends fc.Arbitrary<infer T> ? T : never;

/** Requests shaped like real calls (the right credential and content type), values random. */
const plausibleRequest: fc.Arbitrary<FuzzRequest> = fc
  .record({
    tenant: fc.constantFrom(...tenants),
    shape: fc.constantFrom('decide', 'batch', 'search', 'create tenant', 'update', 'create key'),
    value: fc.jsonValue({ maxDepth: 4 }),
    text: anyText(30),
    filter: query,
  })
  .map(({ tenant, shape, value, text, filter }): FuzzRequest => {
    const keys = fixtures[tenant].keys;
    const common = {
      contentType: 'application/json' as const,
      requestId: null,
      origin: null,
      query: '',
    };
    switch (shape) {
      case 'decide':
        return {
          ...common,
          method: 'POST',
          path: '/v1/data/iso/echo',
          query: filter,
          credential: keys.decide,
          body: JSON.stringify({ input: value }),
        };
      case 'batch':
        return {
          ...common,
          method: 'POST',
          path: '/v1/batch/data/iso/allow',
          credential: keys.decide,
          body: JSON.stringify({ inputs: { [text]: value, other: { user: text } } }),
        };
      case 'search':
        return {
          ...common,
          method: 'GET',
          path: `/v1/tenants/${tenant}/decisions`,
          query: filter,
          credential: keys['audit:read'],
          body: undefined,
        };
      case 'create tenant':
        return {
          ...common,
          method: 'POST',
          path: '/v1/tenants',
          credential: ADMIN,
          body: JSON.stringify({ slug: text, name: text, audit_retention_days: value }),
        };
      case 'update':
        return {
          ...common,
          method: 'PATCH',
          path: `/v1/tenants/${tenant}`,
          credential: ADMIN,
          body: JSON.stringify({ name: text.length > 0 ? text : tenant }),
        };
      case 'create key':
        return {
          ...common,
          method: 'POST',
          path: `/v1/tenants/${tenant}/keys`,
          credential: ADMIN,
          body: JSON.stringify({ name: text, scopes: [value], expires_in: text }),
        };
    }
  });

async function sendFuzz(req: FuzzRequest): Promise<RawAnswer> {
  const headers: Record<string, string> = {};
  if (req.contentType !== undefined) headers['content-type'] = req.contentType;
  if (req.requestId !== null) headers['x-request-id'] = req.requestId;
  if (req.origin !== null) headers.origin = req.origin;
  const sendsBody = req.body !== undefined && !['GET', 'HEAD'].includes(req.method);
  return send(api.url, req.method, `${req.path}${req.query}`, {
    headers,
    ...(req.credential === undefined ? {} : { token: req.credential }),
    ...(sendsBody ? { body: req.body } : {}),
  });
}

/** Why the answer is wrong; HEAD answers have no body to read a problem from. */
function verdictOn(req: FuzzRequest, res: RawAnswer): string | undefined {
  if (req.method === 'HEAD') return res.status >= 500 ? `${res.status}` : undefined;
  return unacceptable(res);
}

it(`answers ${RUNS} random requests without a 5xx, with problems, leaving prototypes alone`, async () => {
  await fc.assert(
    fc.asyncProperty(fc.oneof(fuzzRequest, plausibleRequest), async (req) => {
      counter.add('any request');
      const res = await sendFuzz(req);
      counter.add(`answered ${String(Math.floor(res.status / 100))}xx`);
      const why = verdictOn(req, res);
      if (why !== undefined) throw new Error(`${req.method} ${req.path}${req.query}: ${why}`);
      const polluted = pollutedPrototypes();
      if (polluted.length > 0) throw new Error(`polluted ${polluted.join(', ')}`);
    }),
    { numRuns: RUNS, seed: SEED, endOnFailure: true },
  );
});

/** A request with `tenant`'s key, to a route of `tenant` or of the other one. */
const tenantRequest = fc.constantFrom(...tenants).chain((tenant) =>
  fc.record({
    tenant: fc.constant(tenant),
    named: fc.constantFrom(tenant, other(tenant)),
    scope: fc.constantFrom(...scopes),
    route: fc.constantFrom(
      'data',
      'batch',
      'casl',
      'search',
      'export',
      'one decision',
      'bundles',
      'versions',
      'download',
      'tenant',
    ),
    dataPath: fc.constantFrom('iso/secret', 'iso/echo', 'iso/allow', 'iso', '', 'data', 'secret'),
    input: fc.jsonValue({ maxDepth: 3 }),
    filter: query,
    decision: fc.constantFrom(0, 1),
  }),
);

type TenantRequest = typeof tenantRequest extends fc.Arbitrary<infer T> ? T : never;

/** The request `r` stands for: method, URL and JSON body (none for GET). */
function tenantCall(r: TenantRequest): { method: string; url: string; json?: unknown } {
  const base = `/v1/tenants/${r.named}`;
  const decisionId = fixtures[r.named].decisionIds[r.decision] as string;
  switch (r.route) {
    case 'data':
      return { method: 'POST', url: `/v1/data/${r.dataPath}${r.filter}`, json: { input: r.input } };
    case 'batch':
      return {
        method: 'POST',
        url: `/v1/batch/data/${r.dataPath}`,
        json: { inputs: { a: r.input, b: { user: 'x' } } },
      };
    case 'casl':
      return { method: 'POST', url: '/v1/casl/iso/rules', json: { user: { id: 'u' } } };
    case 'search':
      return { method: 'GET', url: `${base}/decisions${r.filter}` };
    case 'export':
      return { method: 'GET', url: `${base}/decisions/export${r.filter}` };
    case 'one decision':
      // Under the caller's own tenant: an id of the other tenant must not be found there.
      return { method: 'GET', url: `/v1/tenants/${r.tenant}/decisions/${decisionId}` };
    case 'bundles':
      return { method: 'GET', url: `${base}/bundles` };
    case 'versions':
      return { method: 'GET', url: `${base}/bundles/iso/versions/1.0.0` };
    case 'download':
      return { method: 'GET', url: `${base}/bundles/iso/versions/1.0.0/download` };
    case 'tenant':
      return { method: 'GET', url: base };
  }
}

it("shows each tenant's own marker to its own keys, so the leak check below can see one", async () => {
  for (const tenant of tenants) {
    const { keys, marker } = fixtures[tenant];
    const decision = await send(api.url, 'GET', '/v1/data/iso/secret', { token: keys.decide });
    expect(decision.json).toMatchObject({ result: marker });
    const log = await send(api.url, 'GET', `/v1/tenants/${tenant}/decisions`, {
      token: keys['audit:read'],
    });
    expect(log.status).toBe(200);
    expect(log.text).toContain(marker);
  }
});

it(`never gives one tenant's key another tenant's data (${RUNS} random requests)`, async () => {
  await fc.assert(
    fc.asyncProperty(tenantRequest, async (r) => {
      counter.add('cross-tenant');
      const call = tenantCall(r);
      const res = await send(api.url, call.method, call.url, {
        token: fixtures[r.tenant].keys[r.scope],
        ...(call.json === undefined ? {} : { json: call.json }),
      });
      counter.add(`cross-tenant answered ${String(Math.floor(res.status / 100))}xx`);
      const why = unacceptable(res);
      if (why !== undefined) throw new Error(`${r.route} as ${r.tenant}: ${why}`);
      // What the caller sent may come back (a problem repeats the URL); anything else of the
      // other tenant must not.
      const sent = call.url + JSON.stringify(call.json ?? null);
      const foreign = fixtures[other(r.tenant)];
      const leaked = [foreign.marker, foreign.id, ...foreign.decisionIds].filter(
        (secret) => !sent.includes(secret) && res.text.includes(secret),
      );
      // A bundle download is gzip: its text is not searchable, so only its status counts.
      const downloadOfOther = r.route === 'download' && r.named !== r.tenant && res.status === 200;
      if (leaked.length > 0 || downloadOfOther) {
        throw new Error(
          `${r.route} as ${r.tenant} naming ${r.named}: got ${res.status} with ${leaked.join(', ')}`,
        );
      }
      if (
        r.named !== r.tenant &&
        ['search', 'export', 'bundles', 'versions', 'tenant'].includes(r.route)
      ) {
        if (res.status < 400)
          throw new Error(`${r.route} of ${r.named} with ${r.tenant}'s key: ${res.status}`);
      }
    }),
    { numRuns: RUNS, seed: SEED, endOnFailure: true },
  );
});
