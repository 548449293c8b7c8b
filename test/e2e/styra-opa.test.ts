/**
 * The @styra/opa compatibility test: the official TypeScript OPA SDK, unchanged, pointed at a
 * real Verdict server (real HTTP, the real Postgres and Redis). Every answer the SDK gives —
 * `evaluate` with and without input, on nested paths, booleans and objects; `evaluateDefault`;
 * `evaluateBatch` all-success, mixed and with `rejectMixed`; undefined decisions; policy,
 * request and authentication errors — is compared with a direct `fetch` of the same decision.
 */
import { OPAClient, type ToInput } from '@styra/opa';
import { HTTPClient } from '@styra/opa/lib/http.js';
import { BatchServerError, ClientError, SDKError, ServerError } from '@styra/opa/sdk/models/errors';
import { start, type RunningServer } from '../../api/server';
import { buildBundle } from '../../policies/bundle/build';
import { ObjectValue } from '../../policies/ir/value';
import {
  createTestDatabase,
  redisUrl,
  testConfig,
  uniqueName,
  type TestDatabase,
} from '../integration/helpers/services';
import { call } from './http';

const ADMIN = 'e2e-admin-token-0123456789abcdef';

const appPolicy = `package app

import rego.v1

default allow := false

allow if input.user.role == "admin"

allow if input.user.name == input.resource.owner

reasons contains "admin" if input.user.role == "admin"

reasons contains "owner" if input.user.name == input.resource.owner

decision := {"allow": allow, "reasons": reasons, "user": input.user.name}
`;

const limitsPolicy = `package app.nested.limits

max_items := 10

tiers := {"free": 1, "pro": 5}
`;

const errorsPolicy = `package app.errors

import rego.v1

level := 1 if input.a

level := 2 if input.b
`;

const systemPolicy = `package system

import rego.v1

default user := "anonymous"

user := input.user.name

main := {"allowed": data.app.allow, "user": user}
`;

const admin = { user: { name: 'ann', role: 'admin' }, resource: { owner: 'bob' } };
const owner = { user: { name: 'bob', role: 'viewer' }, resource: { owner: 'bob' } };
const stranger = { user: { name: 'eve', role: 'viewer' }, resource: { owner: 'bob' } };

let db: TestDatabase;
let server: RunningServer;
let acmeKey = '';
let betaKey = '';
let emptyKey = '';
let pushOnlyKey = '';
let compared = 0;

/** What a direct request answered: status, content type, parsed body, and the headers. */
interface Direct {
  readonly status: number;
  readonly type: string | null;
  readonly body: unknown;
  readonly headers: Headers;
}

/** The decision asked directly, with the headers OPA's SDK sends (`Accept: application/json`). */
async function direct(
  key: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<Direct> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      accept: 'application/json',
      ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    body: text === '' ? undefined : (JSON.parse(text) as unknown),
    headers: res.headers,
  };
}

/** The SDK's answer equals the direct one: one call compared. */
function same(fromSdk: unknown, fromFetch: unknown): void {
  expect(fromSdk).toEqual(fromFetch);
  compared += 1;
}

function client(key?: string): OPAClient {
  return new OPAClient(
    server.url,
    key === undefined ? {} : { headers: { Authorization: `Bearer ${key}` } },
  );
}

/** The rejection of `promise`, which must reject. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the SDK call to fail, and it answered');
}

function result(answer: Direct): unknown {
  expect(answer.status).toBe(200);
  return (answer.body as { result?: unknown }).result;
}

async function admin200(method: string, path: string, json: unknown): Promise<unknown> {
  const answer = await call(server.url, method, path, { token: ADMIN, json });
  if (answer.status >= 300) throw new Error(`${method} ${path}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

async function tenantWithKey(slug: string, defaultDecision?: string): Promise<string> {
  await admin200('POST', '/v1/tenants', {
    slug,
    name: slug,
    ...(defaultDecision === undefined ? {} : { default_decision: defaultDecision }),
  });
  const key = (await admin200('POST', `/v1/tenants/${slug}/keys`, {
    name: 'backend',
    scopes: ['decide'],
  })) as { key: string };
  return key.key;
}

async function pushAndActivate(slug: string, tarGz: Uint8Array): Promise<void> {
  const pushed = await call(server.url, 'POST', `/v1/tenants/${slug}/bundles`, {
    token: ADMIN,
    body: tarGz,
  });
  if (pushed.status !== 201) throw new Error(JSON.stringify(pushed.body));
  await admin200('POST', `/v1/tenants/${slug}/bundles/app/activate`, { version: '1.0.0' });
}

// Starting the server and building the bundle take a few seconds on a busy machine.
jest.setTimeout(120_000);

beforeAll(async () => {
  db = await createTestDatabase('styra_opa');
  server = await start({
    config: testConfig({
      DATABASE_URL: db.url,
      REDIS_URL: redisUrl,
      VERDICT_REDIS_PREFIX: `${uniqueName('styra')}:`,
      VERDICT_ADMIN_TOKEN: ADMIN,
    }),
  });
  const built = await buildBundle({
    modules: [
      { file: 'app/policy.rego', text: appPolicy },
      { file: 'app/nested/limits.rego', text: limitsPolicy },
      { file: 'app/errors.rego', text: errorsPolicy },
      { file: 'system/main.rego', text: systemPolicy },
    ],
    data: new ObjectValue(),
    entrypoints: [
      'app/allow',
      'app/decision',
      'app/nested/limits',
      'app/errors/level',
      'system/main',
    ],
    manifest: { name: 'app', version: '1.0.0' },
  });
  if (built.bundle === undefined) throw new Error(JSON.stringify(built.diagnostics));
  // acme keeps OPA's default decision (system/main); beta names another before deciding.
  acmeKey = await tenantWithKey('acme');
  betaKey = await tenantWithKey('beta', 'app/errors/level');
  emptyKey = await tenantWithKey('empty');
  pushOnlyKey = (
    (await admin200('POST', '/v1/tenants/acme/keys', {
      name: 'ci',
      scopes: ['bundles:write'],
    })) as { key: string }
  ).key;
  await pushAndActivate('acme', built.bundle.tarGz);
  await pushAndActivate('beta', built.bundle.tarGz);
});

afterAll(async () => {
  await server.stop();
  await db.drop();
  process.stdout.write(`@styra/opa: ${String(compared)} calls compared\n`);
});

describe('The @styra/opa compatibility test', () => {
  it('evaluate: booleans and objects, with and without input, nested paths', async () => {
    const opa = client(acmeKey);
    for (const input of [admin, owner, stranger]) {
      same(
        await opa.evaluate('app/allow', input),
        result(await direct(acmeKey, 'POST', '/v1/data/app/allow', { input })),
      );
      same(
        await opa.evaluate('app/decision', input),
        result(await direct(acmeKey, 'POST', '/v1/data/app/decision', { input })),
      );
    }
    expect(await opa.evaluate('app/allow', owner)).toBe(true);
    expect(await opa.evaluate('app/allow', stranger)).toBe(false);
    expect(await opa.evaluate('app/decision', admin)).toEqual({
      allow: true,
      reasons: ['admin'],
      user: 'ann',
    });
    // Without input the SDK sends GET /v1/data/{path}.
    same(
      await opa.evaluate('app/nested/limits/max_items'),
      result(await direct(acmeKey, 'GET', '/v1/data/app/nested/limits/max_items')),
    );
    expect(await opa.evaluate('app/nested/limits/max_items')).toBe(10);
    same(
      await opa.evaluate('app/nested/limits'),
      result(await direct(acmeKey, 'GET', '/v1/data/app/nested/limits')),
    );
    same(
      await opa.evaluate('app/nested/limits/tiers/pro'),
      result(await direct(acmeKey, 'GET', '/v1/data/app/nested/limits/tiers/pro')),
    );
    // A member of a rule's object value, and the SDK's own input and result conversions.
    same(
      await opa.evaluate('app/decision/reasons', owner),
      result(await direct(acmeKey, 'POST', '/v1/data/app/decision/reasons', { input: owner })),
    );
    const request: ToInput = { toInput: () => admin };
    same(
      await opa.evaluate<ToInput, string>('app/decision', request, {
        fromResult: (r) => (r as { user: string }).user,
      }),
      'ann',
    );
  });

  it('evaluate: an undefined decision is undefined, as OPA answers it', async () => {
    const opa = client(acmeKey);
    const answer = await direct(acmeKey, 'POST', '/v1/data/app/nothing_here', { input: admin });
    expect(answer.status).toBe(200);
    expect(answer.body).not.toHaveProperty('result');
    same(await opa.evaluate('app/nothing_here', admin), result(answer));
    same(await opa.evaluate('app/errors/level', {}), undefined);
    // A tenant with no active bundle: every path is undefined.
    same(
      await client(emptyKey).evaluate('app/allow', admin),
      result(await direct(emptyKey, 'POST', '/v1/data/app/allow', { input: admin })),
    );
  });

  it('evaluateDefault: POST / with the bare input answers the bare value, and is audited', async () => {
    const opa = client(acmeKey);
    const answer = await direct(acmeKey, 'POST', '/', owner);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ allowed: true, user: 'bob' });
    same(await opa.evaluateDefault(owner), answer.body);
    same(await opa.evaluateDefault(stranger), (await direct(acmeKey, 'POST', '/', stranger)).body);
    // No input: the SDK sends `{}`.
    same(await opa.evaluateDefault(), (await direct(acmeKey, 'POST', '/', {})).body);
    expect(await opa.evaluateDefault()).toEqual({ allowed: false, user: 'anonymous' });
    // beta named app/errors/level its default decision.
    same(await client(betaKey).evaluateDefault({ b: true }), 2);
    same((await direct(betaKey, 'POST', '/', { b: true })).body, 2);

    const decisionId = answer.headers.get('x-decision-id');
    expect(decisionId).toMatch(/^[0-9a-f-]{36}$/);
    await server.audit.flush();
    const row = await server.db
      .knex('decisions')
      .where('decision_id', decisionId as string)
      .first<{ path: string; bundle_name: string }>('path', 'bundle_name');
    expect(row).toEqual({ path: 'system/main', bundle_name: 'app' });
  });

  it('evaluateDefault: an undefined default decision is 404 undefined_document, a ClientError', async () => {
    // beta's default decision is undefined for an input with neither a nor b.
    const undefinedForInput = await rejection(client(betaKey).evaluateDefault({}));
    const fetched = await direct(betaKey, 'POST', '/', {});
    expect(fetched.status).toBe(404);
    expect(fetched.type).toBe('application/json; charset=utf-8');
    expect(undefinedForInput).toBeInstanceOf(ClientError);
    const problem = fetched.body as { code: string; message: string; detail: string };
    expect(problem.code).toBe('undefined_document');
    expect(problem.message).toBe(problem.detail);
    expect(problem.message).toContain('data.app.errors.level is undefined for this input');
    same(
      {
        code: (undefinedForInput as ClientError).code,
        message: (undefinedForInput as Error).message,
      },
      { code: problem.code, message: problem.message },
    );

    // A tenant without any bundle holding system/main.
    const missing = await rejection(client(emptyKey).evaluateDefault(admin));
    const fetchedMissing = await direct(emptyKey, 'POST', '/', admin);
    expect(fetchedMissing.status).toBe(404);
    expect(missing).toBeInstanceOf(ClientError);
    const missingProblem = fetchedMissing.body as { code: string; message: string };
    expect(missingProblem.message).toContain(
      'no active bundle of this tenant holds data.system.main',
    );
    same(
      { code: (missing as ClientError).code, message: (missing as Error).message },
      { code: missingProblem.code, message: missingProblem.message },
    );
  });

  it('a policy error is 500 policy_error: a ServerError carrying the problem', async () => {
    const conflict = { a: true, b: true };
    const fromEvaluate = await rejection(client(acmeKey).evaluate('app/errors/level', conflict));
    const fetched = await direct(acmeKey, 'POST', '/v1/data/app/errors/level', { input: conflict });
    expect(fetched.status).toBe(500);
    expect(fromEvaluate).toBeInstanceOf(ServerError);
    const problem = fetched.body as { code: string; message: string; policyError: string };
    expect(problem).toMatchObject({ code: 'policy_error', policyError: 'eval_conflict_error' });
    same(
      { code: (fromEvaluate as ServerError).code, message: (fromEvaluate as Error).message },
      { code: problem.code, message: problem.message },
    );
    const fromDefault = await rejection(client(betaKey).evaluateDefault(conflict));
    const fetchedDefault = await direct(betaKey, 'POST', '/', conflict);
    expect(fetchedDefault.status).toBe(500);
    expect(fromDefault).toBeInstanceOf(ServerError);
    same((fromDefault as ServerError).code, (fetchedDefault.body as { code: string }).code);
  });

  it('a bad request is 400: a ClientError carrying the problem', async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 70; i++) deep = { a: deep };
    const fromEvaluate = await rejection(client(acmeKey).evaluate('app/allow', { deep }));
    const fetched = await direct(acmeKey, 'POST', '/v1/data/app/allow', { input: { deep } });
    expect(fetched.status).toBe(400);
    expect(fromEvaluate).toBeInstanceOf(ClientError);
    const problem = fetched.body as { code: string; message: string };
    expect(problem.code).toBe('bad_request');
    same(
      { code: (fromEvaluate as ClientError).code, message: (fromEvaluate as Error).message },
      { code: problem.code, message: problem.message },
    );
  });

  it('evaluateBatch: all decided is 200 with each result', async () => {
    const opa = client(acmeKey);
    const inputs = { ann: admin, bob: owner, eve: stranger };
    const fetched = await direct(acmeKey, 'POST', '/v1/batch/data/app/allow', { inputs });
    expect(fetched.status).toBe(200);
    const responses = (fetched.body as { responses: Record<string, { result?: unknown }> })
      .responses;
    same(
      await opa.evaluateBatch('app/allow', inputs),
      Object.fromEntries(Object.entries(responses).map(([id, r]) => [id, r.result])),
    );
    expect(await opa.evaluateBatch('app/decision', { eve: stranger })).toEqual({
      eve: { allow: false, reasons: [], user: 'eve' },
    });
  });

  it('evaluateBatch: a mixed batch is 207, its failures returned, or rejected with rejectMixed', async () => {
    const opa = client(acmeKey);
    const inputs = { fine: { a: true }, none: {}, bad: { a: true, b: true } };
    const fetched = await direct(acmeKey, 'POST', '/v1/batch/data/app/errors/level', { inputs });
    expect(fetched.status).toBe(207);
    const responses = (fetched.body as { responses: Record<string, Record<string, unknown>> })
      .responses;
    expect(responses.fine).toMatchObject({ result: 1, http_status_code: '200' });
    expect(responses.bad).toMatchObject({ code: 'policy_error', http_status_code: '500' });
    const answers = await opa.evaluateBatch('app/errors/level', inputs);
    same(answers, {
      fine: responses.fine?.result,
      none: responses.none?.result,
      bad: {
        httpStatusCode: responses.bad?.http_status_code,
        code: responses.bad?.code,
        message: responses.bad?.message,
      },
    });
    const rejected = await rejection(
      opa.evaluateBatch('app/errors/level', inputs, { rejectMixed: true }),
    );
    same(rejected, answers.bad);
    // Without failures, rejectMixed changes nothing.
    same(
      await opa.evaluateBatch('app/errors/level', { fine: { a: true } }, { rejectMixed: true }),
      { fine: 1 },
    );
  });

  it('evaluateBatch: a batch whose every input failed is 500, a BatchServerError', async () => {
    const inputs = { x: { a: true, b: true }, y: { a: true, b: true } };
    const fetched = await direct(acmeKey, 'POST', '/v1/batch/data/app/errors/level', { inputs });
    expect(fetched.status).toBe(500);
    const error = await rejection(client(acmeKey).evaluateBatch('app/errors/level', inputs));
    expect(error).toBeInstanceOf(BatchServerError);
    const responses = (
      fetched.body as { responses: Record<string, { code: string; message: string }> }
    ).responses;
    same(
      Object.fromEntries(
        Object.entries((error as BatchServerError).responses ?? {}).map(([id, r]) => [
          id,
          { code: r.code, message: r.message },
        ]),
      ),
      Object.fromEntries(
        Object.entries(responses).map(([id, r]) => [id, { code: r.code, message: r.message }]),
      ),
    );
  });

  it('authentication: no key, an unknown key and a key without decide are SDKErrors', async () => {
    const cases: [string, string | undefined, number][] = [
      ['no key', undefined, 401],
      ['an unknown key', `${acmeKey.slice(0, -4)}AAAA`, 401],
      ['a key without the decide scope', pushOnlyKey, 403],
    ];
    for (const [, key, status] of cases) {
      for (const [method, path, ask] of [
        ['POST', '/v1/data/app/allow', (opa: OPAClient) => opa.evaluate('app/allow', admin)],
        ['GET', '/v1/data/app/allow', (opa: OPAClient) => opa.evaluate('app/allow')],
        ['POST', '/', (opa: OPAClient) => opa.evaluateDefault(admin)],
        [
          'POST',
          '/v1/batch/data/app/allow',
          (opa: OPAClient) => opa.evaluateBatch('app/allow', { a: admin }),
        ],
      ] as const) {
        const error = await rejection(ask(client(key)));
        const fetched = await direct(
          key,
          method,
          path,
          method === 'GET'
            ? undefined
            : path === '/'
              ? admin
              : path.startsWith('/v1/batch')
                ? { inputs: { a: admin } }
                : { input: admin },
        );
        expect(fetched.status).toBe(status);
        expect(error).toBeInstanceOf(SDKError);
        const response = (error as SDKError).httpMeta.response;
        same(
          {
            status: response.status,
            type: response.headers.get('content-type'),
            challenge: response.headers.get('www-authenticate'),
          },
          {
            status: fetched.status,
            type: fetched.type,
            challenge: fetched.headers.get('www-authenticate'),
          },
        );
      }
    }
  });

  it("authentication: the problem body is the app's to read through the SDK's response hook", async () => {
    const problems: unknown[] = [];
    const httpClient = new HTTPClient();
    httpClient.addHook('response', async (res) => {
      if (res.status >= 400) problems.push(await res.clone().json());
    });
    const opa = new OPAClient(server.url, {
      headers: { Authorization: `Bearer ${pushOnlyKey}` },
      sdk: { httpClient },
    });
    await rejection(opa.evaluate('app/allow', admin));
    const fetched = await direct(pushOnlyKey, 'POST', '/v1/data/app/allow', { input: admin });
    const withoutIds = (body: unknown): unknown => ({
      ...(body as Record<string, unknown>),
      requestId: undefined,
    });
    expect(problems).toHaveLength(1);
    same(withoutIds(problems[0]), withoutIds(fetched.body));
    expect(fetched.body).toMatchObject({ code: 'forbidden', status: 403 });
  });
});
