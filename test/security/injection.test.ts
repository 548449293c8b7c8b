/**
 * Injection and abuse over real HTTP against a real server (real Postgres and Redis): SQL-ish
 * strings, prototype-pollution names and unicode edge cases in every string field, path
 * parameter and query parameter of the public bodies and routes (tenant create and update, key
 * create, decision inputs and batch ids, decision-log filters, bundle push parameters,
 * activation, signing key, rollouts, CASL principals, logins, token refresh, MFA); `__proto__`/`constructor`/`prototype`
 * members in every body and query; oversized and deeply nested bodies; and bundle archives
 * whose entries climb out of the bundle. Every answer must be below 500, a refusal must be a
 * problem+json without a stack trace, and no built-in prototype of the server's process (this
 * one) may change. Stored strings must come back exactly as sent.
 */
import { rawTarGz } from '../integration/bundles/fixtures';
import { caslBundle } from '../integration/bundles/fixtures';
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

jest.setTimeout(300_000);

const counter = new CaseCounter('injection.test');

const sqlish = [
  "' OR '1'='1",
  "'; DROP TABLE tenants; --",
  '" OR ""="',
  '1) OR (1=1',
  "%' --",
  "\\'; select pg_sleep(5); --",
  '$$; drop table decisions; $$',
  "admin'--",
  "' UNION SELECT null, version() --",
  '?',
  '$1',
  ':name',
  '*/ or 1=1 /*',
  "'||(select current_user)||'",
];

const prototypeNames = [
  '__proto__',
  'constructor',
  'prototype',
  '__proto__.polluted',
  'constructor.prototype.polluted',
  'hasOwnProperty',
  'toString',
  '__defineGetter__',
  'valueOf',
];

const unicode = [
  '\ud800',
  '\udc00x',
  'a\u0000b',
  '\u202egnp.exe',
  '\ufeffbom',
  'zero\u200bwidth\u200d',
  '👩‍💻 emoji',
  'e\u0301'.repeat(500),
  'x'.repeat(100_000),
  '\u2028\u2029',
  '\uffff\ufffe',
  '\u001b[31mred\u007f',
  'Ｆｕｌｌｗｉｄｔｈ',
  '..',
  '../../etc/passwd',
  '%00',
  '%2e%2e%2f',
];

const payloads: [string, string][] = [
  ...sqlish.map((p): [string, string] => ['sql', p]),
  ...prototypeNames.map((p): [string, string] => ['prototype', p]),
  ...unicode.map((p): [string, string] => ['unicode', p]),
];

let api: SecurityServer;
let decideKey = '';
let auditKey = '';
let pushKey = '';
let slugCounter = 0;

const failures: string[] = [];

function check(res: RawAnswer, what: string): void {
  const why = unacceptable(res);
  if (why !== undefined) failures.push(`${what}: ${why}`);
  const polluted = pollutedPrototypes();
  if (polluted.length > 0) failures.push(`${what}: polluted ${polluted.join(', ')}`);
}

function call(method: string, path: string, options: Parameters<typeof send>[3] = {}) {
  return send(api.url, method, path, options);
}

beforeAll(async () => {
  // Login limits would answer most login cases with 429 before the login reads them, and the
  // admin limit (100 a second) the read-backs of a fast run: every case must reach its handler.
  api = await startSecurityServer({
    VERDICT_RATE_LIMIT_AUTH_IP: 'off',
    VERDICT_RATE_LIMIT_AUTH_ACCOUNT: 'off',
    VERDICT_RATE_LIMIT_ADMIN: 'off',
  });
  decideKey = await tenantKey(api.url, 'acme', ['decide']);
  auditKey = await tenantKey(api.url, 'acme', ['audit:read']);
  pushKey = await tenantKey(api.url, 'acme', ['bundles:write']);
  await pushAndActivate(api.url, 'acme', await markerBundle('acme-marker'));
  const casl = await caslBundle();
  const pushed = await call('POST', '/v1/tenants/acme/bundles', {
    token: ADMIN,
    body: casl.tarGz,
    headers: { 'content-type': 'application/gzip' },
  });
  expect(pushed.status).toBe(201);
  caslName = (pushed.json as { bundle: string }).bundle;
  const activated = await call('POST', `/v1/tenants/acme/bundles/${caslName}/activate`, {
    token: ADMIN,
    json: { version: (pushed.json as { version: string }).version },
  });
  expect(activated.status).toBe(200);
  // A few decisions, so the decision-log filters have rows to look through.
  for (const user of ['acme-marker', 'bob']) {
    const res = await call('POST', '/v1/data/iso/allow', {
      token: decideKey,
      json: { input: { user } },
    });
    expect(res.status).toBe(200);
  }
  await api.server.audit.flush();
});

let caslName = '';

afterAll(async () => {
  await api.stop();
  counter.print();
});

afterEach(() => {
  const found = failures.splice(0);
  expect(found).toEqual([]);
});

interface StringTarget {
  readonly name: string;
  /** Sends `p` in the target's place; may check more (round trips) and report failures. */
  send(p: string): Promise<RawAnswer>;
}

const stringTargets: StringTarget[] = [
  {
    name: 'tenant create: slug',
    send: (p) => call('POST', '/v1/tenants', { token: ADMIN, json: { slug: p, name: 'x' } }),
  },
  {
    name: 'tenant create: name (stored and read back as sent)',
    send: async (p) => {
      slugCounter += 1;
      const slug = `t${slugCounter}`;
      const res = await call('POST', '/v1/tenants', { token: ADMIN, json: { slug, name: p } });
      if (res.status === 201) {
        const back = await call('GET', `/v1/tenants/${slug}`, { token: ADMIN });
        if (back.status !== 200) {
          failures.push(`tenant ${slug} could not be read back: ${back.status}`);
        } else if ((back.json as { name?: unknown }).name !== p) {
          failures.push(`tenant name ${JSON.stringify(p.slice(0, 40))} came back changed`);
        }
      }
      return res;
    },
  },
  {
    name: 'tenant update: name',
    send: (p) => call('PATCH', '/v1/tenants/acme', { token: ADMIN, json: { name: p } }),
  },
  {
    name: 'tenant read: path parameter',
    send: (p) => call('GET', `/v1/tenants/${urlText(p)}`, { token: ADMIN }),
  },
  {
    name: 'key create: name',
    send: (p) =>
      call('POST', '/v1/tenants/acme/keys', {
        token: ADMIN,
        json: { name: p, scopes: ['decide'], expires_in: '1d' },
      }),
  },
  {
    name: 'key create: scope',
    send: (p) =>
      call('POST', '/v1/tenants/acme/keys', { token: ADMIN, json: { name: 'k', scopes: [p] } }),
  },
  {
    name: 'key create: expires_in',
    send: (p) =>
      call('POST', '/v1/tenants/acme/keys', {
        token: ADMIN,
        json: { name: 'k', scopes: ['decide'], expires_in: p },
      }),
  },
  {
    name: 'key revoke: path parameter',
    send: (p) => call('DELETE', `/v1/tenants/acme/keys/${urlText(p)}`, { token: ADMIN }),
  },
  {
    name: 'decision input: member value (echoed back as sent)',
    send: async (p) => {
      const res = await call('POST', '/v1/data/iso/echo', {
        token: decideKey,
        json: { input: { user: p } },
      });
      // As OPA does, the engine reads a surrogate half without its partner as U+FFFD.
      const expected = p.replace(/[\uD800-\uDFFF]/gu, '\uFFFD');
      const result = (res.json as { result?: { user?: unknown } } | undefined)?.result;
      if (res.status === 200 && result?.user !== expected) {
        failures.push(`decision input ${JSON.stringify(p.slice(0, 40))} came back changed`);
      }
      return res;
    },
  },
  {
    name: 'decision input: member name',
    send: (p) =>
      call('POST', '/v1/data/iso/allow', { token: decideKey, json: { input: { [p]: p } } }),
  },
  {
    name: 'decision input: the whole input',
    send: (p) => call('POST', '/v1/data/iso/allow', { token: decideKey, json: { input: p } }),
  },
  {
    name: 'decision: path segment',
    send: (p) =>
      call('POST', `/v1/data/iso/${urlText(p)}`, { token: decideKey, json: { input: {} } }),
  },
  {
    name: 'decision: query flags',
    send: (p) =>
      call('GET', `/v1/data/iso/allow?metrics=${urlText(p)}&explain=${urlText(p)}`, {
        token: decideKey,
      }),
  },
  {
    name: 'batch: input id and value',
    send: (p) =>
      call('POST', '/v1/batch/data/iso/allow', {
        token: decideKey,
        json: { inputs: { [p]: { user: p }, ok: { user: 'bob' } } },
      }),
  },
  ...[
    'path',
    'bundle_version',
    'caller',
    'decision_id',
    'kind',
    'rollout',
    'from',
    'to',
    'limit',
    'cursor',
    'allowed',
  ].map((param): StringTarget => ({
    name: `decision log: ?${param}`,
    send: (p) =>
      call('GET', `/v1/tenants/acme/decisions?${param}=${urlText(p)}`, { token: auditKey }),
  })),
  {
    name: 'decision log: ?input value',
    send: (p) =>
      call(
        'GET',
        `/v1/tenants/acme/decisions?input=${urlText(`input.user=${JSON.stringify(p)}`)}`,
        {
          token: auditKey,
        },
      ),
  },
  {
    name: 'decision log: ?input raw value',
    send: (p) =>
      call('GET', `/v1/tenants/acme/decisions?input=${urlText(`input.user=${p}`)}`, {
        token: auditKey,
      }),
  },
  {
    name: 'decision log: ?input path',
    send: (p) =>
      call('GET', `/v1/tenants/acme/decisions?input=${urlText(`input.${p}=1`)}`, {
        token: auditKey,
      }),
  },
  {
    name: 'decision log: export ?format and ?path',
    send: (p) =>
      call('GET', `/v1/tenants/acme/decisions/export?format=${urlText(p)}&path=${urlText(p)}`, {
        token: auditKey,
      }),
  },
  {
    name: 'decision log: one decision by id',
    send: (p) => call('GET', `/v1/tenants/acme/decisions/${urlText(p)}`, { token: auditKey }),
  },
  {
    name: 'decision log: verify ?from',
    send: (p) =>
      call('GET', `/v1/tenants/acme/decisions/verify?from=${urlText(p)}`, { token: auditKey }),
  },
  {
    name: 'bundle push: ?name and ?version',
    send: async (p) =>
      call('POST', `/v1/tenants/acme/bundles?name=${urlText(p)}&version=${urlText(p)}`, {
        token: pushKey,
        body: await bundleBody(),
        headers: { 'content-type': 'application/gzip' },
      }),
  },
  {
    name: 'bundle read: name and version path parameters',
    send: (p) =>
      call('GET', `/v1/tenants/acme/bundles/${urlText(p)}/versions/${urlText(p)}`, {
        token: pushKey,
      }),
  },
  {
    name: 'bundle activate: version',
    send: (p) =>
      call('POST', '/v1/tenants/acme/bundles/iso/activate', {
        token: pushKey,
        json: { version: p },
      }),
  },
  {
    name: 'signing key: public_key',
    send: (p) =>
      call('PUT', '/v1/tenants/acme/signing-key', {
        token: ADMIN,
        json: { public_key: p, require_signed: false },
      }),
  },
  {
    name: 'rollout start: version and sticky',
    send: (p) =>
      call('POST', '/v1/tenants/acme/bundles/iso/rollouts', {
        token: ADMIN,
        json: { version: p, mode: 'canary', percent: 10, sticky: p },
      }),
  },
  {
    name: 'CASL rules: principal member (body)',
    send: (p) =>
      call('POST', `/v1/casl/${caslName}/rules`, {
        token: decideKey,
        json: { user: { id: p, roles: [p], [p]: p } },
      }),
  },
  ...(['tenant', 'email', 'password'] as const).map((field): StringTarget => ({
    name: `login: ${field}`,
    send: (p) =>
      call('POST', '/v1/auth/login', {
        json: { tenant: 'acme', email: 'a@example.com', password: 'pw', [field]: p },
      }),
  })),
  {
    name: 'refresh: refresh_token',
    send: (p) => call('POST', '/v1/auth/refresh', { json: { refresh_token: p } }),
  },
  {
    name: 'MFA: mfa_token and code',
    send: (p) => call('POST', '/v1/auth/mfa', { json: { mfa_token: p, code: p } }),
  },
  {
    name: 'CASL rules: ?user and bundle name',
    send: (p) =>
      call('GET', `/v1/casl/${urlText(p)}/rules?user=${urlText(p)}`, { token: decideKey }),
  },
];

let builtBody: Uint8Array | undefined;
async function bundleBody(): Promise<Uint8Array> {
  builtBody ??= await markerBundle('push-target');
  return builtBody;
}

describe('strings in every field, path and query parameter', () => {
  it.each(stringTargets.map((t) => [t.name, t] as const))('%s', async (_name, target) => {
    for (const [category, payload] of payloads) {
      counter.add(category);
      const res = await target.send(payload);
      check(res, `${target.name} <- ${JSON.stringify(payload.slice(0, 60))}`);
    }
  });

  it('kept every table, and no SQL slept: the strings were data, never SQL', async () => {
    const tables = await api.server.db.knex('tenants').count<{ count: string }[]>('* as count');
    expect(Number(tables[0]?.count)).toBeGreaterThan(1);
    const decisions = await api.server.db
      .knex('decisions')
      .count<{ count: string }[]>('* as count');
    expect(Number(decisions[0]?.count)).toBeGreaterThan(1);
  });

  it('finds a decision by an input value with NUL or a lone surrogate, as it was stored', async () => {
    for (const user of ['nul\u0000here', 'half\ud800here']) {
      counter.add('unicode');
      const decided = await call('POST', '/v1/data/iso/allow', {
        token: decideKey,
        json: { input: { user } },
      });
      expect(decided.status).toBe(200);
      await api.server.audit.flush();
      const filter = urlText(`input.user=${JSON.stringify(user)}`);
      const found = await call('GET', `/v1/tenants/acme/decisions?input=${filter}`, {
        token: auditKey,
      });
      expect(found.status).toBe(200);
      const ids = (found.json as { decisions: { decision_id: string }[] }).decisions.map(
        (d) => d.decision_id,
      );
      expect(ids).toContain((decided.json as { decision_id: string }).decision_id);
    }
  });

  it('finds tenants named like Object members by their slug, never Object internals', async () => {
    for (const slug of ['constructor', 'prototype', 'tostring', 'valueof', 'hasownproperty']) {
      counter.add('prototype');
      const created = await call('POST', '/v1/tenants', {
        token: ADMIN,
        json: { slug, name: slug },
      });
      // The slug loop above may have made some of them already.
      expect([201, 409]).toContain(created.status);
      const read = await call('GET', `/v1/tenants/${slug}`, { token: ADMIN });
      expect(read.status).toBe(200);
      expect(read.json).toMatchObject({ slug });
      expect((read.json as { id: unknown }).id).toMatch(/^[0-9a-f-]{36}$/);
    }
    counter.add('prototype');
    const missing = await call('GET', '/v1/tenants/isprototypeof', { token: ADMIN });
    expect(missing.status).toBe(404);
  });
});

/** A JSON object text with the pollution members first, then `rest`'s members. */
function withPollution(rest: Record<string, unknown>): string {
  const inner = JSON.stringify(rest).slice(1, -1);
  const pollution =
    '"__proto__":{"polluted":"yes","isAdmin":true},"constructor":{"prototype":{"polluted":"yes"}},"prototype":{"polluted":"yes"}';
  return `{${pollution}${inner === '' ? '' : `,${inner}`}}`;
}

describe('__proto__, constructor and prototype members in bodies and queries', () => {
  const bodies: [string, string, string, string | undefined][] = [
    ['tenant create', 'POST', '/v1/tenants', undefined],
    ['tenant update', 'PATCH', '/v1/tenants/acme', undefined],
    ['key create', 'POST', '/v1/tenants/acme/keys', undefined],
    ['bundle activate', 'POST', '/v1/tenants/acme/bundles/iso/activate', undefined],
    ['signing key', 'PUT', '/v1/tenants/acme/signing-key', undefined],
    ['rollout start', 'POST', '/v1/tenants/acme/bundles/iso/rollouts', undefined],
    ['decision', 'POST', '/v1/data/iso/echo', 'decide'],
    ['batch', 'POST', '/v1/batch/data/iso/echo', 'decide'],
    ['CASL rules', 'POST', '/v1/casl/CASL/rules', 'decide'],
  ];
  const rests: Record<string, Record<string, unknown>> = {
    'tenant create': { slug: 'pp', name: 'pp' },
    'tenant update': { name: 'acme' },
    'key create': { name: 'pp', scopes: ['decide'] },
    'bundle activate': { version: '1.0.0' },
    'signing key': { require_signed: false },
    'rollout start': { version: '1.0.0', mode: 'shadow' },
    decision: {},
    batch: {},
    'CASL rules': {},
  };

  it.each(bodies)('%s: at the top and nested', async (name, method, path, key) => {
    const token = key === undefined ? ADMIN : decideKey;
    const target = path.replace('CASL', caslName);
    const texts = [
      withPollution(rests[name] ?? {}),
      JSON.stringify({ ...rests[name], nested: { a: 1 } }).replace(
        '"nested":{',
        '"nested":{"__proto__":{"polluted":"yes"},',
      ),
      JSON.stringify({ input: 1 }).replace('1', withPollution({ user: 'acme-marker' })),
      `{"inputs":{"__proto__":${withPollution({ user: 'x' })},"a":${withPollution({})}}}`,
      `{"user":${withPollution({ id: 'u1', roles: ['editor'] })}}`,
    ];
    for (const body of texts) {
      counter.add('prototype');
      const res = await call(method, target, {
        token,
        body,
        headers: { 'content-type': 'application/json' },
      });
      check(res, `${name} <- ${body.slice(0, 80)}`);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    }
  });

  it('keeps __proto__ in a decision input as plain data', async () => {
    counter.add('prototype');
    const res = await call('POST', '/v1/data/iso/echo', {
      token: decideKey,
      body: `{"input":${withPollution({ user: 'x' })}}`,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    const result = (res.json as { result: Record<string, unknown> }).result;
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.hasOwn(result, '__proto__')).toBe(true);
    expect(result.user).toBe('x');
  });

  it('answers batch inputs with ids like __proto__ and constructor under those ids', async () => {
    counter.add('prototype');
    const res = await call('POST', '/v1/batch/data/iso/allow', {
      token: decideKey,
      body: '{"inputs":{"__proto__":{"user":"acme-marker"},"constructor":{"user":"x"},"toString":{}}}',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    const responses = (res.json as { responses: Record<string, { result?: unknown }> }).responses;
    expect(Object.keys(responses).sort()).toEqual(['__proto__', 'constructor', 'toString']);
    expect(Object.getOwnPropertyDescriptor(responses, '__proto__')?.value).toMatchObject({
      result: true,
    });
    expect(responses.constructor).toMatchObject({ result: false });
  });

  it('refuses or ignores polluting query parameter names', async () => {
    const queries = [
      '__proto__[polluted]=yes',
      'constructor[prototype][polluted]=yes',
      '__proto__.polluted=yes',
      'a[__proto__][polluted]=yes',
      '__proto__=yes',
      'constructor=yes&prototype=yes',
    ];
    const paths = [
      ['/v1/tenants/acme/decisions', auditKey],
      ['/v1/tenants/acme/decisions/export', auditKey],
      ['/v1/data/iso/allow', decideKey],
      ['/v1/tenants', ADMIN],
      [`/v1/casl/${caslName}/rules`, decideKey],
    ] as const;
    for (const [path, token] of paths) {
      for (const query of queries) {
        counter.add('prototype');
        check(await call('GET', `${path}?${query}`, { token }), `${path}?${query}`);
      }
    }
  });
});

describe('oversized and deeply nested bodies on every JSON route', () => {
  const routes: [string, string, 'admin' | 'decide'][] = [
    ['POST', '/v1/tenants', 'admin'],
    ['PATCH', '/v1/tenants/acme', 'admin'],
    ['POST', '/v1/tenants/acme/keys', 'admin'],
    ['POST', '/v1/tenants/acme/bundles/iso/activate', 'admin'],
    ['PUT', '/v1/tenants/acme/signing-key', 'admin'],
    ['POST', '/v1/data/iso/allow', 'decide'],
    ['POST', '/v1/batch/data/iso/allow', 'decide'],
  ];
  const bodies: [string, string, number][] = [
    ['2 MiB', JSON.stringify({ input: 'x'.repeat(2 * 1024 * 1024) }), 413],
    ['1 MiB and one byte', `{"input":"${'x'.repeat(1024 * 1024 - 11)}"}`, 413],
    ['200 levels', `{"input":${'['.repeat(200)}${']'.repeat(200)}}`, 400],
    ['300000 levels', `{"input":${'['.repeat(300_000)}${']'.repeat(300_000)}}`, 400],
    ['120000 members', `{"input":[${Array.from({ length: 120_000 }, () => '0').join(',')}]}`, 413],
  ];

  it.each(routes)('%s %s', async (method, path, who) => {
    for (const [what, body, status] of bodies) {
      counter.add('size');
      const res = await call(method, path, {
        token: who === 'admin' ? ADMIN : decideKey,
        body,
        headers: { 'content-type': 'application/json' },
      });
      check(res, `${method} ${path} <- ${what}`);
      expect([what, res.status]).toEqual([what, status]);
    }
  });
});

describe('bundle archives that climb out of the bundle', () => {
  const entries: [string, string, string][] = [
    ['../evil.rego', '0', ''],
    ['../../../../tmp/evil.rego', '0', ''],
    ['/etc/evil.rego', '0', ''],
    ['a/../../evil.rego', '0', ''],
    ['./../evil.rego', '0', ''],
    ['..\\..\\evil.rego', '0', ''],
    ['ok/..', '0', ''],
    ['..', '5', ''],
    ['link.rego', '2', '../../etc/passwd'],
    ['hard.rego', '1', '/etc/passwd'],
    ['data.json\u0000.rego', '0', ''],
    ['C:\\evil.rego', '0', ''],
  ];

  it.each(entries)('refuses %j (type %s) with a 4xx problem', async (name, typeflag, link) => {
    for (const [route, token] of [
      ['/v1/tenants/acme/bundles', pushKey],
      ['/v1/tenants/acme/replay', ADMIN],
    ] as const) {
      counter.add('traversal');
      const res = await call('POST', route, {
        token,
        body: rawTarGz(name, 'package evil\n\nallow := true\n', typeflag, link),
        headers: { 'content-type': 'application/gzip' },
      });
      check(res, `${route} <- ${JSON.stringify(name)}`);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
  });
});
