/**
 * Rollouts end to end over real HTTP, on the real Postgres and Redis: a canary at 20%
 * sticky by `input.subject.id` serves about a fifth of the traffic, always the same users;
 * its status counts the split and the disagreements with stable (exactly the canary-served
 * requests the candidate answers differently), with samples; a rollback under steady load
 * returns every request to stable without one failure; promote, undo a promotion, shadow
 * and abort behave as documented; a second instance follows promote and rollback within a
 * second through Redis pub/sub.
 *
 * The two versions: every user u0..u{n-1} of tenant acme is a viewer; the candidate takes
 * the viewer's `read document` grant away. So a request to read someone else's document is
 * allowed by stable and denied by the candidate, and reading a folder is allowed by both.
 */
import { start, type RunningServer } from '../../api/server';
import { verifyChain } from '../../api/services/audit';
import { runRolloutEnd, runRolloutStart, runRolloutStatus } from '../../cli/rollout';
import { capture } from '../helpers/cli-io';
import { buildExample } from '../integration/helpers/bundles';
import {
  createTestDatabase,
  redisUrl,
  testConfig,
  uniqueName,
  type TestDatabase,
} from '../integration/helpers/services';
import { withoutViewerDocumentRead } from '../integration/replay/candidate';
import { call as callAt, type Answer, type CallOptions } from './http';

const ADMIN = 'rollout-admin-token-0123456789abcdef';
const USERS = 2000;

jest.setTimeout(180_000);

let db: TestDatabase;
let serverA: RunningServer;
let serverB: RunningServer;
let tenantId = '';
let decideKey = '';
let globexKey = '';

function call(method: string, path: string, options: CallOptions = {}): Promise<Answer> {
  return callAt(serverA.url, method, path, options);
}

function admin(method: string, path: string, json?: unknown): Promise<Answer> {
  return call(method, path, { token: ADMIN, ...(json === undefined ? {} : { json }) });
}

interface Request {
  readonly user: number;
  readonly document: boolean;
}

function inputOf(request: Request, tenant = 'acme'): unknown {
  return {
    subject: { id: `u${request.user}`, tenant },
    action: 'read',
    resource: {
      type: request.document ? 'document' : 'folder',
      id: 'r1',
      tenant,
      owner: 'zed',
    },
  };
}

interface Served {
  readonly status: number;
  readonly version: string | undefined;
  readonly allow: unknown;
}

async function decide(request: Request, base = serverA.url, key = decideKey): Promise<Served> {
  const tenant = key === globexKey ? 'globex' : 'acme';
  const res = await callAt(base, 'POST', '/v1/data/rbac/allow?provenance=true', {
    token: key,
    json: { input: inputOf(request, tenant) },
  });
  const provenance = res.body.provenance as
    { bundles: Record<string, { version: string }> } | undefined;
  return { status: res.status, version: provenance?.bundles.rbac?.version, allow: res.body.result };
}

/** Runs `requests` with `concurrency` in flight, answers in the requests' order. */
async function decideAll(requests: readonly Request[], concurrency = 16): Promise<Served[]> {
  const answers: Served[] = new Array<Served>(requests.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < requests.length; i = next++) {
      answers[i] = await decide(requests[i] as Request);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return answers;
}

interface Report {
  id: string;
  status: string;
  mode: string;
  percent: number | null;
  stats: {
    served: Record<string, number>;
    canary_share: number;
    comparisons: number;
    disagreements: number;
    disagreement_rate: number | null;
    samples: {
      input: unknown;
      served: { arm: string; version: string; result?: unknown };
      compared: { arm: string; version: string; result?: unknown };
    }[];
  };
}

async function latest(): Promise<Report> {
  const res = await admin('GET', '/v1/tenants/acme/bundles/rbac/rollouts');
  expect(res.status).toBe(200);
  return res.body.latest as Report;
}

/** The latest rollout's report once `ready` holds (audit rows are written in batches). */
async function reportWhen(ready: (report: Report) => boolean): Promise<Report> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const report = await latest();
    if (ready(report) || Date.now() > deadline) return report;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/** Milliseconds until `decideOnce` answers with `version`, polling every 20 ms for 5 s. */
async function millisUntil(version: string, decideOnce: () => Promise<Served>): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < 5000) {
    if ((await decideOnce()).version === version) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Infinity;
}

/**
 * Waits until server A's engines for acme run rollout `id` (undefined: none). Rollouts reach
 * instances through pub/sub, so a decision right after the API call may still be served by
 * the engines loaded before it.
 */
async function engagedOnA(id: string | undefined): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const engines = await serverA.decisions.pool.get(tenantId);
    if (engines.bundles[0]?.rollout?.id === id) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`rollout ${String(id)} did not reach server A within 5 s`);
}

beforeAll(async () => {
  db = await createTestDatabase('rollouts');
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL: redisUrl,
    VERDICT_REDIS_PREFIX: `${uniqueName('rollouts')}:`,
    VERDICT_ADMIN_TOKEN: ADMIN,
  };
  serverA = await start({ config: testConfig(env) });
  serverB = await start({ config: testConfig(env) });

  const members = Object.fromEntries(
    Array.from({ length: USERS }, (_, i) => [`u${i}`, ['viewer']]),
  );
  const everyoneViewer = (data: Record<string, unknown>): Record<string, unknown> => ({
    ...data,
    tenants: { acme: { members }, globex: { members } },
  });
  const v1 = await buildExample('rbac', { version: '1.0.0' }, everyoneViewer);
  const v2 = await buildExample('rbac', { version: '2.0.0' }, (data) =>
    withoutViewerDocumentRead(everyoneViewer(data)),
  );

  for (const slug of ['acme', 'globex']) {
    const tenant = await admin('POST', '/v1/tenants', { slug, name: slug });
    expect(tenant.status).toBe(201);
    if (slug === 'acme') tenantId = tenant.body.id as string;
    const key = await admin('POST', `/v1/tenants/${slug}/keys`, {
      name: 'backend',
      scopes: ['decide'],
    });
    if (slug === 'acme') decideKey = key.body.key as string;
    else globexKey = key.body.key as string;
    for (const built of [v1, v2]) {
      const pushed = await call('POST', `/v1/tenants/${slug}/bundles`, {
        token: ADMIN,
        body: built.bundle.tarGz,
      });
      expect(pushed.status).toBe(201);
    }
    const activated = await admin('POST', `/v1/tenants/${slug}/bundles/rbac/activate`, {
      version: '1.0.0',
    });
    expect(activated.status).toBe(200);
  }
});

afterAll(async () => {
  await serverB.stop();
  await serverA.stop();
  await db.drop();
});

describe('a canary at 20%, sticky by input.subject.id', () => {
  const requests: Request[] = Array.from({ length: USERS }, (_, user) => ({
    user,
    document: user % 2 === 0,
  }));
  let first: Served[] = [];

  it('starts, and refuses a second rollout and a direct activation meanwhile', async () => {
    const started = await admin('POST', '/v1/tenants/acme/bundles/rbac/rollouts', {
      version: '2.0.0',
      mode: 'canary',
      percent: 20,
      sticky: 'input.subject.id',
    });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({
      mode: 'canary',
      status: 'active',
      percent: 20,
      sticky: 'input.subject.id',
      candidate_version: '2.0.0',
      stable_version: '1.0.0',
      started_by: 'admin-token',
    });
    await engagedOnA(started.body.id as string);
    const again = await admin('POST', '/v1/tenants/acme/bundles/rbac/rollouts', {
      version: '2.0.0',
      mode: 'shadow',
    });
    expect(again.status).toBe(409);
    const activate = await admin('POST', '/v1/tenants/acme/bundles/rbac/activate', {
      version: '2.0.0',
    });
    expect(activate.status).toBe(409);
    expect(activate.body.detail).toMatch(/active rollout/);
  });

  it('serves about a fifth of the users from the canary, each user always from one version', async () => {
    first = await decideAll(requests);
    expect(first.every((served) => served.status === 200)).toBe(true);
    const canary = first.filter((served) => served.version === '2.0.0').length;
    console.log(
      `canary at 20%: ${canary} of ${USERS} users served by the canary (${((canary / USERS) * 100).toFixed(1)}%)`,
    );
    const stable = first.filter((served) => served.version === '1.0.0').length;
    expect(canary + stable).toBe(USERS);
    // Binomial(2000, 0.2): standard deviation 0.9 points; 3.5 points is about four of them.
    expect(Math.abs(canary / USERS - 0.2)).toBeLessThan(0.035);
    // Each version answers as its policy says.
    first.forEach((served, i) => {
      const documentRead = (requests[i] as Request).document;
      expect(served.allow).toBe(served.version === '1.0.0' || !documentRead);
    });
    const again = await decideAll(requests.slice(0, 300));
    expect(again.map((served) => served.version)).toEqual(
      first.slice(0, 300).map((served) => served.version),
    );
  });

  it('reports the split, the disagreement rate and sample disagreements', async () => {
    const servedTotal = USERS + 300;
    const canaryServed =
      first.filter((s) => s.version === '2.0.0').length +
      first.slice(0, 300).filter((s) => s.version === '2.0.0').length;
    const disagreeing =
      requests.filter((r, i) => r.document && first[i]?.version === '2.0.0').length +
      requests.slice(0, 300).filter((r, i) => r.document && first[i]?.version === '2.0.0').length;
    const report = await reportWhen(
      (r) => sum(r.stats.served) === servedTotal && r.stats.comparisons === canaryServed,
    );
    expect(report.stats.served).toEqual({
      canary: canaryServed,
      stable: servedTotal - canaryServed,
    });
    expect(report.stats.canary_share).toBeCloseTo(canaryServed / servedTotal, 10);
    expect(report.stats.comparisons).toBe(canaryServed);
    expect(report.stats.disagreements).toBe(disagreeing);
    expect(report.stats.disagreement_rate).toBeCloseTo(disagreeing / canaryServed, 10);
    expect(report.stats.samples.length).toBe(5);
    for (const sample of report.stats.samples) {
      expect(sample.served).toEqual({ arm: 'canary', version: '2.0.0', result: false });
      expect(sample.compared).toEqual({ arm: 'stable', version: '1.0.0', result: true });
      expect(sample.input).toMatchObject({ resource: { type: 'document' } });
    }
  });

  it('rolls back under steady load: no request fails and stable serves everything', async () => {
    const outcomes: (Served & { at: number })[] = [];
    let rolledBackAt = Infinity;
    let stop = false;
    const load = async (worker: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const served = await decide({ user: (worker * 7919 + i) % USERS, document: true });
        outcomes.push({ ...served, at: Date.now() });
      }
    };
    const workers = Array.from({ length: 8 }, (_, worker) => load(worker));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const rollback = await admin('POST', '/v1/tenants/acme/bundles/rbac/rollouts/rollback');
    rolledBackAt = Date.now();
    expect(rollback.status).toBe(200);
    expect(rollback.body).toMatchObject({ status: 'rolled_back', ended_by: 'admin-token' });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    stop = true;
    await Promise.all(workers);

    console.log(
      `rollback under load: ${outcomes.length} requests by 8 clients, ${outcomes.filter((served) => served.status !== 200).length} failed`,
    );
    expect(outcomes.filter((served) => served.status !== 200)).toEqual([]);
    const before = outcomes.filter((served) => served.at < rolledBackAt);
    const settled = outcomes.filter((served) => served.at > rolledBackAt + 1000);
    expect(before.some((served) => served.version === '2.0.0')).toBe(true);
    expect(settled.length).toBeGreaterThan(0);
    expect(settled.every((served) => served.version === '1.0.0')).toBe(true);
    const report = await latest();
    expect(report.status).toBe('rolled_back');
  });
});

describe('promote, undo, shadow and abort', () => {
  it('promotes a canary to stable, then rollback undoes the promotion', async () => {
    expect(
      (
        await admin('POST', '/v1/tenants/acme/bundles/rbac/rollouts', {
          version: '2.0.0',
          mode: 'canary',
          percent: 50,
        })
      ).status,
    ).toBe(201);
    const promoted = await admin('POST', '/v1/tenants/acme/bundles/rbac/rollouts/promote');
    expect(promoted.body).toMatchObject({ status: 'promoted', candidate_version: '2.0.0' });
    const versions = await admin('GET', '/v1/tenants/acme/bundles/rbac/versions');
    const stable = (versions.body.versions as { version: string; stable: boolean }[]).find(
      (v) => v.stable,
    );
    expect(stable?.version).toBe('2.0.0');
    expect(await millisUntil('2.0.0', () => decide({ user: 1, document: true }))).toBeLessThan(
      1000,
    );

    const undone = await admin('POST', '/v1/tenants/acme/bundles/rbac/rollouts/rollback');
    expect(undone.status).toBe(200);
    expect(undone.body).toMatchObject({ status: 'rolled_back', stable_version: '1.0.0' });
    expect(await millisUntil('1.0.0', () => decide({ user: 1, document: true }))).toBeLessThan(
      1000,
    );
    // Nothing left to roll back.
    const nothing = await admin('POST', '/v1/tenants/acme/bundles/rbac/rollouts/rollback');
    expect(nothing.status).toBe(409);
  });

  it('shadows a candidate: stable answers everything, every decision is compared', async () => {
    const started = await admin('POST', '/v1/tenants/acme/bundles/rbac/rollouts', {
      version: '2.0.0',
      mode: 'shadow',
    });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ mode: 'shadow', percent: null, sticky: null });
    await engagedOnA(started.body.id as string);
    const requests = Array.from({ length: 200 }, (_, user) => ({ user, document: user < 30 }));
    const served = await decideAll(requests);
    expect(served.every((s) => s.version === '1.0.0' && s.allow === true)).toBe(true);
    const report = await reportWhen((r) => r.stats.comparisons === 200);
    expect(report.stats.served).toEqual({ stable: 200 });
    expect(report.stats.canary_share).toBe(0);
    expect(report.stats.disagreements).toBe(30);
    expect(report.stats.samples[0]?.compared).toEqual({
      arm: 'shadow',
      version: '2.0.0',
      result: false,
    });

    // Comparison rows are in the decision log, told apart from served decisions.
    const rolloutId = started.body.id as string;
    const shadows = await admin(
      'GET',
      `/v1/tenants/acme/decisions?kind=shadow&rollout=${rolloutId}&limit=1000`,
    );
    const rows = shadows.body.decisions as { kind: string; rollout: { arm: string } }[];
    expect(rows.length).toBe(200);
    expect(rows.every((row) => row.kind === 'shadow' && row.rollout.arm === 'shadow')).toBe(true);

    const aborted = await admin('POST', '/v1/tenants/acme/bundles/rbac/rollouts/abort');
    expect(aborted.body).toMatchObject({ status: 'aborted' });
    expect((await admin('POST', '/v1/tenants/acme/bundles/rbac/rollouts/abort')).status).toBe(404);
  });

  it('keeps the audit chain whole with comparison rows in it', async () => {
    await serverA.audit.flush();
    const result = await verifyChain(serverA.db.knex, tenantId);
    expect(result).toMatchObject({ ok: true });
  });
});

describe('bad requests', () => {
  it.each([
    [{ version: '2.0.0', mode: 'canary' }, '/percent'],
    [{ version: '2.0.0', mode: 'canary', percent: 0 }, '/percent'],
    [{ version: '2.0.0', mode: 'canary', percent: 100.5 }, '/percent'],
    [{ version: '2.0.0', mode: 'canary', percent: 10.001 }, '/percent'],
    [{ version: '2.0.0', mode: 'canary', percent: 10, sticky: 'user.id' }, '/sticky'],
    [{ version: '2.0.0', mode: 'shadow', percent: 10 }, '/percent'],
    [{ version: '2.0.0', mode: 'shadow', sticky: 'input.user' }, '/sticky'],
    [{ version: '2.0.0', mode: 'blue-green' }, '/mode'],
    [{ version: 'latest', mode: 'shadow' }, '/version'],
  ])('refuses %j naming %s', async (body, field) => {
    const res = await admin('POST', '/v1/tenants/acme/bundles/rbac/rollouts', body);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain(field);
  });

  it('answers 404 for an unknown bundle or version, 409 for the stable version', async () => {
    const base = '/v1/tenants/acme/bundles';
    expect(
      (await admin('POST', `${base}/nope/rollouts`, { version: '1.0.0', mode: 'shadow' })).status,
    ).toBe(404);
    expect(
      (await admin('POST', `${base}/rbac/rollouts`, { version: '9.9.9', mode: 'shadow' })).status,
    ).toBe(404);
    expect(
      (await admin('POST', `${base}/rbac/rollouts`, { version: '1.0.0', mode: 'shadow' })).status,
    ).toBe(409);
    expect((await admin('POST', `${base}/rbac/rollouts/promote`)).status).toBe(404);
  });

  it("refuses a decide-only key and another tenant's key", async () => {
    const res = await call('GET', '/v1/tenants/acme/rollouts', { token: decideKey });
    expect(res.status).toBe(403);
    const other = await call('GET', '/v1/tenants/acme/rollouts', { token: globexKey });
    expect(other.status).toBe(403);
  });
});

describe('the CLI', () => {
  function options<T extends object>(extra: T) {
    return { server: serverA.url, token: ADMIN, tenant: 'acme', bundle: 'rbac', ...extra };
  }

  it('starts, reports and ends a rollout', async () => {
    const started = capture();
    await runRolloutStart(
      options({ version: '2.0.0', canary: 30, sticky: 'input.subject.id' }),
      started.io,
    );
    expect(started.out()).toMatch(
      /^started rbac: canary 2\.0\.0 at 30% \(sticky by input\.subject\.id\) beside stable 1\.0\.0/,
    );
    await engagedOnA((await latest()).id);
    await decideAll(Array.from({ length: 100 }, (_, user) => ({ user, document: true })));
    await reportWhen((r) => sum(r.stats.served) === 100);

    const status = capture();
    await runRolloutStatus(options({}), status.io);
    expect(status.out()).toMatch(/served: +canary \d+, stable \d+/);
    expect(status.out()).toMatch(/canary share: +\d+\.\d%/);
    expect(status.out()).toMatch(/disagreement: +100\.0% \(\d+ of \d+ compared\)/);
    expect(status.out()).toContain('canary 2.0.0 answered false; stable 1.0.0 would answer true');

    const all = capture();
    await runRolloutStatus(
      { server: serverA.url, token: ADMIN, tenant: 'acme', json: true },
      all.io,
    );
    expect((JSON.parse(all.out()) as { rollouts: unknown[] }).rollouts).toHaveLength(1);

    const aborted = capture();
    await runRolloutEnd('abort', options({}), aborted.io);
    expect(aborted.out()).toBe(
      'aborted the canary of rbac 2.0.0: rbac 1.0.0 now serves all traffic for tenant acme\n',
    );
  });

  it('says when there is nothing to report', async () => {
    const globex = { server: serverA.url, token: ADMIN, tenant: 'globex' };
    const all = capture();
    await runRolloutStatus(globex, all.io);
    expect(all.out()).toBe('tenant globex has no active rollouts\n');
    const one = capture();
    await runRolloutStatus({ ...globex, bundle: 'rbac' }, one.io);
    expect(one.out()).toBe('bundle rbac has had no rollouts\n');
  });

  it('shadows, lists the history, promotes and undoes the promotion', async () => {
    const started = capture();
    await runRolloutStart(options({ version: '2.0.0', shadow: true, json: true }), started.io);
    const view = JSON.parse(started.out()) as { id: string; mode: string; percent: unknown };
    expect(view).toMatchObject({ mode: 'shadow', percent: null });

    const status = capture();
    await runRolloutStatus(options({}), status.io);
    const lines = status.out().split('\n');
    expect(lines.slice(0, 3)).toEqual([
      'rbac: shadow 2.0.0 beside stable 1.0.0 — active',
      '  served:        no decisions yet',
      '  disagreement:  no comparisons yet',
    ]);
    // A shadow serves nothing, so no canary share.
    expect(status.out()).not.toContain('canary share');
    // Earlier rollouts of the bundle follow, newest first.
    const table = lines.slice(lines.indexOf('') + 1).filter((l) => l !== '');
    expect(table[0]).toMatch(/^STARTED\s+MODE\s+CANDIDATE\s+STABLE\s+STATUS\s+ENDED$/);
    expect(table[1]).toMatch(/\s+shadow\s+2\.0\.0\s+1\.0\.0\s+active\s+-$/);
    expect(table[2]).toMatch(/\s+canary 30%\s+2\.0\.0\s+1\.0\.0\s+aborted\s+\S+$/);

    const promoted = capture();
    await runRolloutEnd('promote', options({}), promoted.io);
    expect(promoted.out()).toBe(
      'promoted the shadow of rbac 2.0.0: rbac 2.0.0 now serves all traffic for tenant acme\n',
    );
    const undone = capture();
    await runRolloutEnd('rollback', options({ json: true }), undone.io);
    expect(JSON.parse(undone.out())).toMatchObject({
      id: view.id,
      status: 'rolled_back',
      stable_version: '1.0.0',
    });
    const after = capture();
    await runRolloutStatus(options({ json: true }), after.io);
    expect(JSON.parse(after.out())).toMatchObject({
      latest: { id: view.id, status: 'rolled_back' },
    });
  });

  it('refuses --canary with --shadow, and neither', async () => {
    await expect(runRolloutStart(options({ version: '2.0.0' }), capture().io)).rejects.toThrow(
      /exactly one of --canary/,
    );
    await expect(
      runRolloutStart(options({ version: '2.0.0', canary: 5, shadow: true }), capture().io),
    ).rejects.toThrow(/exactly one of --canary/);
    await expect(
      runRolloutStart(options({ version: '2.0.0', shadow: true, sticky: 'input.a' }), capture().io),
    ).rejects.toThrow(/--sticky applies to a canary/);
  });
});

describe('a second instance', () => {
  it('follows promote and rollback made on the first within a second', async () => {
    const onB = (): Promise<Served> => decide({ user: 3, document: true }, serverB.url, globexKey);
    expect((await onB()).version).toBe('1.0.0');
    const base = '/v1/tenants/globex/bundles/rbac/rollouts';
    expect(
      (await admin('POST', base, { version: '2.0.0', mode: 'canary', percent: 1 })).status,
    ).toBe(201);
    expect((await admin('POST', `${base}/promote`)).status).toBe(200);
    const promoted = await millisUntil('2.0.0', onB);
    expect((await admin('POST', `${base}/rollback`)).status).toBe(200);
    const rolledBack = await millisUntil('1.0.0', onB);
    console.log(
      `second instance: served the promoted version ${promoted} ms and the rolled-back one ${rolledBack} ms after the API call answered`,
    );
    expect(promoted).toBeLessThan(1000);
    expect(rolledBack).toBeLessThan(1000);
  });
});
