/**
 * The decision service end to end, as an operator and an app backend use it, over real HTTP
 * against a real server on the real Postgres and Redis: create a tenant and keys, push the
 * examples/rbac bundle, activate it, ask for decisions (allow and deny), find their audit rows
 * with the right revision and a valid hash chain; push and activate v2 while decisions stream
 * (none fails, and decisions follow v2); push the CASL example, decide through it and fetch a
 * user's packed rules that decide the same in @casl/ability.
 */
import { createMongoAbility, subject as withType } from '@casl/ability';
import { unpackRules } from '@casl/ability/extra';
import { start, type RunningServer } from '../../api/server';
import { verifyChain } from '../../api/services/audit';
import { buildBundle } from '../../policies/bundle/build';
import type { RawRule } from '../../policies/casl';
import { caslBundle, rbacBundle } from '../integration/bundles/fixtures';
import {
  createTestDatabase,
  redisUrl,
  testConfig,
  uniqueName,
  type TestDatabase,
} from '../integration/helpers/services';
import { ObjectValue } from '../../policies/ir/value';
import { call as callAt, type Answer, type CallOptions } from './http';

const ADMIN = 'e2e-admin-token-0123456789abcdef';

const bobDeletes = {
  subject: { id: 'bob', tenant: 'acme' },
  action: 'delete',
  resource: { type: 'document', id: 'd1', tenant: 'acme', owner: 'bob' },
};
const carolDeletes = { ...bobDeletes, subject: { id: 'carol', tenant: 'acme' } };

let db: TestDatabase;
let server: RunningServer;

function call(method: string, path: string, options: CallOptions = {}): Promise<Answer> {
  return callAt(server.url, method, path, options);
}

async function decide(key: string, path: string, input: unknown): Promise<Record<string, unknown>> {
  const res = await call('POST', `/v1/data/${path}`, { token: key, json: { input } });
  expect(res.status).toBe(200);
  return res.body;
}

// Creating an embedded database takes several seconds, more on a busy machine.
jest.setTimeout(120_000);

interface Setup {
  /** Settings beyond the test defaults; the database is created per run when `external`. */
  readonly env: () => Record<string, string>;
  readonly external: boolean;
}

const setups: [string, Setup][] = [
  [
    'on the real Postgres and Redis',
    {
      external: true,
      env: () => ({
        DATABASE_URL: db.url,
        REDIS_URL: redisUrl,
        VERDICT_REDIS_PREFIX: `${uniqueName('e2e')}:`,
      }),
    },
  ],
  // No DATABASE_URL or REDIS_URL: embedded PGlite and the in-process cache and pub/sub.
  ['on the embedded defaults', { external: false, env: () => ({}) }],
];

describe.each(setups)('decision service end to end %s', (_name, setup) => {
  beforeAll(async () => {
    if (setup.external) db = await createTestDatabase('e2e');
    server = await start({
      config: testConfig({ ...setup.env(), VERDICT_ADMIN_TOKEN: ADMIN }),
    });
  });

  afterAll(async () => {
    await server.stop();
    if (setup.external) await db.drop();
  });

  let decideKey = '';
  let pushKey = '';
  let tenantId = '';

  it('creates a tenant and its keys through the admin API', async () => {
    const tenant = await call('POST', '/v1/tenants', {
      token: ADMIN,
      json: { slug: 'acme', name: 'Acme' },
    });
    expect(tenant.status).toBe(201);
    tenantId = tenant.body.id as string;
    const key = async (scopes: string[]) => {
      const res = await call('POST', '/v1/tenants/acme/keys', {
        token: ADMIN,
        json: { name: scopes.join('+'), scopes },
      });
      expect(res.status).toBe(201);
      return res.body.key as string;
    };
    decideKey = await key(['decide']);
    pushKey = await key(['bundles:write']);
  });

  it('pushes and activates examples/rbac, then decides allow and deny with audit rows', async () => {
    const v1 = await rbacBundle();
    const pushed = await call('POST', '/v1/tenants/acme/bundles', {
      token: pushKey,
      body: v1.tarGz,
    });
    expect(pushed.status).toBe(201);
    expect(pushed.body).toMatchObject({
      bundle: 'rbac',
      version: '1.0.0',
      revision: v1.manifest.revision,
    });
    // The decide key may not push; the push key may not decide.
    expect(
      (await call('POST', '/v1/tenants/acme/bundles', { token: decideKey, body: v1.tarGz })).status,
    ).toBe(403);
    expect(
      (await call('POST', '/v1/data/rbac/allow', { token: pushKey, json: { input: {} } })).status,
    ).toBe(403);

    const activated = await call('POST', '/v1/tenants/acme/bundles/rbac/activate', {
      token: pushKey,
      json: { version: '1.0.0' },
    });
    expect(activated.status).toBe(200);

    const allow = await decide(decideKey, 'rbac/allow', bobDeletes);
    const deny = await decide(decideKey, 'rbac/allow', carolDeletes);
    expect(allow.result).toBe(true);
    expect(deny.result).toBe(false);
    // An unknown path is 200 without a result, as OPA answers.
    const unknown = await decide(decideKey, 'rbac/nothing_here', bobDeletes);
    expect(unknown).not.toHaveProperty('result');

    await server.audit.flush();
    const rows = await server.db
      .knex('decisions')
      .whereIn('decision_id', [allow.decision_id as string, deny.decision_id as string])
      .orderBy('seq')
      .select('decision_id', 'bundle_name', 'bundle_version', 'bundle_revision', 'allowed', 'hash');
    expect(rows).toEqual([
      expect.objectContaining({
        decision_id: allow.decision_id,
        bundle_name: 'rbac',
        bundle_version: '1.0.0',
        bundle_revision: v1.manifest.revision,
        allowed: true,
      }),
      expect.objectContaining({ decision_id: deny.decision_id, allowed: false }),
    ]);
    const chain = await verifyChain(server.db.knex, tenantId);
    expect(chain.ok).toBe(true);
    expect(chain.rows).toBeGreaterThanOrEqual(3);
  });

  it('swaps to v2 while decisions stream: no request fails, and decisions follow v2', async () => {
    const v2 = await buildBundle({
      modules: [{ file: 'rbac/policy.rego', text: 'package rbac\n\nallow := true\n' }],
      data: new ObjectValue(),
      entrypoints: ['rbac/allow'],
      manifest: { name: 'rbac', version: '2.0.0' },
    });
    if (!v2.bundle) throw new Error(JSON.stringify(v2.diagnostics));
    const v2Revision = v2.bundle.manifest.revision;
    expect(
      (await call('POST', '/v1/tenants/acme/bundles', { token: pushKey, body: v2.bundle.tarGz }))
        .status,
    ).toBe(201);

    const flow = { streaming: true };
    const statuses: number[] = [];
    const stream = (async () => {
      while (flow.streaming) {
        const res = await call('POST', '/v1/data/rbac/allow', {
          token: decideKey,
          json: { input: carolDeletes },
        });
        statuses.push(res.status);
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const activated = await call('POST', '/v1/tenants/acme/bundles/rbac/activate', {
      token: pushKey,
      json: { version: '2.0.0' },
    });
    expect(activated.status).toBe(200);
    // The activation reaches the engine pool through Redis pub/sub; v2 answers true.
    const deadline = Date.now() + 10_000;
    let result: unknown = false;
    while (result !== true && Date.now() < deadline) {
      result = (await decide(decideKey, 'rbac/allow', carolDeletes)).result;
    }
    flow.streaming = false;
    await stream;
    expect(result).toBe(true);
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 200)).toBe(true);

    const last = await decide(decideKey, 'rbac/allow', carolDeletes);
    await server.audit.flush();
    const row = await server.db
      .knex('decisions')
      .where('decision_id', last.decision_id as string)
      .first<{ bundle_version: string; bundle_revision: string }>(
        'bundle_version',
        'bundle_revision',
      );
    expect(row).toEqual({ bundle_version: '2.0.0', bundle_revision: v2Revision });
    expect((await verifyChain(server.db.knex, tenantId)).ok).toBe(true);
  });

  it('serves a CASL bundle: decisions, and per-user packed rules that decide the same', async () => {
    const docs = await caslBundle();
    expect(
      (await call('POST', '/v1/tenants/acme/bundles', { token: pushKey, body: docs.tarGz })).status,
    ).toBe(201);
    expect(
      (
        await call('POST', '/v1/tenants/acme/bundles/documents/activate', {
          token: pushKey,
          json: { version: '1.0.0' },
        })
      ).status,
    ).toBe(200);
    const request = {
      user: { id: 'u4' },
      action: 'update',
      subject: 'Document',
      field: 'title',
      resource: { owner: { id: 'u1' }, editors: ['u4'], status: 'draft' },
    };
    const deadline = Date.now() + 10_000;
    let answer = await decide(decideKey, 'casl/decision', request);
    while (answer.result === undefined && Date.now() < deadline)
      answer = await decide(decideKey, 'casl/decision', request);
    expect(answer.result).toEqual({ allow: true, reason: null, rule: 5 });

    const user = encodeURIComponent(JSON.stringify(request.user));
    const rules = await call('GET', `/v1/casl/documents/rules?user=${user}`, { token: decideKey });
    expect(rules.status).toBe(200);
    expect(rules.body.bundle).toMatchObject({ name: 'documents', version: '1.0.0' });
    const ability = createMongoAbility(unpackRules<RawRule>(rules.body.rules as never));
    expect(ability.can('update', withType('Document', { ...request.resource }), 'title')).toBe(
      true,
    );
    expect(ability.can('update', withType('Document', { ...request.resource }), 'owner')).toBe(
      false,
    );

    const raw = await call('POST', '/v1/casl/documents/rules?packed=false', {
      token: decideKey,
      json: { user: { id: 'u1', roles: ['admin'] } },
    });
    expect((raw.body.rules as unknown[])[0]).toEqual({ action: 'manage', subject: 'all' });

    // Bad requests get problem+json, and a Rego bundle has no CASL rules.
    expect((await call('GET', '/v1/casl/documents/rules', { token: decideKey })).status).toBe(400);
    expect(
      (await call('GET', '/v1/casl/documents/rules?user=%7B', { token: decideKey })).status,
    ).toBe(400);
    expect(
      (await call('GET', `/v1/casl/rbac/rules?user=${user}`, { token: decideKey })).status,
    ).toBe(400);
    expect(
      (await call('GET', `/v1/casl/nope/rules?user=${user}`, { token: decideKey })).status,
    ).toBe(404);
    expect((await call('GET', `/v1/casl/documents/rules?user=${user}`)).status).toBe(401);
    expect(
      (await call('POST', '/v1/casl/documents/rules', { token: decideKey, json: { user: [1] } }))
        .status,
    ).toBe(400);
    expect(
      (
        await call('POST', '/v1/casl/documents/rules', {
          token: decideKey,
          body: new TextEncoder().encode('user=1'),
          type: 'text/plain',
        })
      ).status,
    ).toBe(415);
  });
});
