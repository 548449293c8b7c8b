/**
 * The decision service around a real compiled policy with a recording audit: what it records,
 * strict audit that fails, an audit log that refuses rows, engine failures (memory cap: the
 * tenant's engines are reloaded next time), batches, and the tenant settings it reads.
 */
import type { Knex } from 'knex';
import { EngineError } from '../../../../../policies/engine';
import type { VerdictError } from '../../../../../api/errors';
import { createLogger } from '../../../../../api/logger';
import type { AuditEntry, AuditRow } from '../../../../../api/services/audit';
import {
  DecisionCache,
  DecisionService,
  EnginePool,
  TenantSettings,
  type ActiveBundle,
} from '../../../../../api/services/decisions';
import { buildRego, type BuiltForTest } from '../../../../integration/helpers/bundles';

const logger = createLogger({ level: 'silent' });
const tenantId = '00000000-0000-4000-8000-00000000000a';

let built: BuiltForTest;

beforeAll(async () => {
  built = await buildRego('package app\n\nallow if input.user == "admin"\n\nlevel := 3\n', {
    roots: ['app'],
    entrypoints: ['app/allow', 'app/level'],
    mask: ['/input/secret'],
  });
});

function bundle(): ActiveBundle {
  return {
    bundleId: 'b',
    name: 'app',
    versionId: 'v1',
    version: '1.0.0',
    revision: built.bundle.manifest.revision,
    engine: 'rego',
    manifest: {
      roots: ['app'],
      entrypoints: ['app/allow'],
      mask: ['/input/secret'],
      cache: 'auto',
    },
    wasm: built.bundle.wasm,
    data: built.data,
  };
}

interface Setup {
  service: DecisionService;
  pool: EnginePool;
  recorded: AuditEntry[];
}

function setup(
  options: { strict?: boolean; record?: () => never; recordStrict?: () => Promise<AuditRow> } = {},
): Setup {
  const recorded: AuditEntry[] = [];
  const pool = new EnginePool({ load: () => Promise.resolve([bundle()]), logger });
  const service = new DecisionService({
    pool,
    cache: new DecisionCache({ logger }),
    audit: {
      record: (entry) => {
        if (options.record) options.record();
        recorded.push(entry);
      },
      recordStrict: (entry) => {
        recorded.push(entry);
        return options.recordStrict ? options.recordStrict() : Promise.resolve();
      },
    },
    settings: { get: () => Promise.resolve({ auditStrict: options.strict ?? false }) },
    logger,
  });
  return { service, pool, recorded };
}

const ask = { tenantId, caller: 'key-1', path: ['app', 'allow'], hasInput: true };

describe('DecisionService', () => {
  it('decides, and records the decision with the masked input', async () => {
    const { service, recorded } = setup();
    const decision = await service.decide({ ...ask, input: { user: 'admin', secret: 's3' } });
    expect(decision).toMatchObject({
      defined: true,
      result: true,
      cache: 'miss',
      bundle: { name: 'app', version: '1.0.0' },
    });
    expect(decision.totalNs).toBeGreaterThan(0);
    expect(recorded[0]).toMatchObject({
      tenantId,
      decisionId: decision.decisionId,
      path: 'app/allow',
      bundleName: 'app',
      bundleRevision: built.bundle.manifest.revision,
      input: { user: 'admin' },
      result: true,
      caller: 'key-1',
      cache: 'miss',
    });
    const again = await service.decide({ ...ask, input: { secret: 's3', user: 'admin' } });
    expect(again.cache).toBe('hit');
    expect(recorded[1]?.cache).toBe('hit');
  });

  it('records an unknown path as undefined, with no bundle', async () => {
    const { service, recorded } = setup();
    const decision = await service.decide({ ...ask, path: ['nope'], hasInput: false });
    expect(decision.defined).toBe(false);
    expect(decision).not.toHaveProperty('result');
    expect(recorded[0]).toMatchObject({
      bundleName: null,
      result: undefined,
      input: undefined,
      cache: 'bypass',
    });
  });

  it('answers 503 when strict audit cannot write the row, or the log refuses it', async () => {
    const strict = setup({
      strict: true,
      recordStrict: () => Promise.reject(new Error('timeout')),
    });
    const strictFailure = (await strict.service
      .decide({ ...ask, input: {} })
      .catch((e: unknown) => e)) as VerdictError;
    expect(strictFailure).toMatchObject({ code: 'database_unavailable', status: 503 });
    expect(strictFailure.detail).toMatch(/audit record is written/);
    const closed = setup({
      record: () => {
        throw new Error('closed');
      },
    });
    await expect(closed.service.decide({ ...ask, input: {} })).rejects.toMatchObject({
      code: 'database_unavailable',
    });
  });

  it('turns engine failures into problems; a memory cap reached reloads the engines', async () => {
    const { service, pool } = setup();
    const entry = await pool.get(tenantId);
    const engine = entry.bundles[0]?.engine;
    if (engine === undefined) throw new Error('no engine');
    const spy = jest.spyOn(engine, 'evaluateJSON');
    spy.mockImplementationOnce(() => {
      throw new EngineError('eval_memory_error', 'out of memory');
    });
    const failure = (await service
      .decide({ ...ask, input: { n: 1 } })
      .catch((e: unknown) => e)) as VerdictError;
    expect(failure.code).toBe('policy_limit_exceeded');
    expect(failure.detail).toMatch(/memory cap/);
    expect(pool.has(tenantId)).toBe(false);
    spy.mockImplementationOnce(() => {
      throw new TypeError('boom');
    });
    // The pool reloaded a fresh engine: the spy is on the old one, so this one answers.
    expect(await service.decide({ ...ask, path: ['app', 'level'], input: { n: 2 } })).toMatchObject(
      { defined: true, result: 3 },
    );
    spy.mockRestore();
  });

  it('reports a failure that is not an EngineError as an internal policy error', async () => {
    const { service, pool } = setup();
    const entry = await pool.get(tenantId);
    const engine = entry.bundles[0]?.engine;
    if (engine === undefined) throw new Error('no engine');
    jest.spyOn(engine, 'evaluateJSON').mockImplementation(() => {
      throw new TypeError('boom');
    });
    const err = await service.decide({ ...ask, input: { n: 3 } }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'policy_error',
      status: 500,
      extensions: { policyError: 'eval_internal_error' },
    });
  });

  it('decides a batch, keeping failures to their own entries', async () => {
    const { service, pool } = setup();
    const entry = await pool.get(tenantId);
    const engine = entry.bundles[0]?.engine;
    if (engine === undefined) throw new Error('no engine');
    const batch = await service.decideBatch(
      { tenantId, caller: 'k', path: ['app', 'level'] },
      new Map<string, unknown>([
        ['a', { x: 1 }],
        ['b', { x: 2 }],
      ]),
    );
    expect(batch.get('a')).toMatchObject({ ok: true, decision: { result: 3 } });
    const failing = new DecisionService({
      pool,
      cache: new DecisionCache({ logger }),
      audit: {
        record: () => undefined,
        recordStrict: () => Promise.resolve(),
      },
      settings: { get: () => Promise.reject(new RangeError('unexpected')) },
      logger,
    });
    const outcome = await failing.decideBatch(
      { tenantId, caller: 'k', path: ['app', 'level'] },
      new Map([['a', 1]]),
    );
    expect(outcome.get('a')).toMatchObject({ ok: false, error: { code: 'internal' } });
  });
});

describe('TenantSettings', () => {
  /** A knex stand-in whose reads of `tenants` the test answers, counted. */
  function fakeKnex(answers: (() => Promise<unknown>)[]): { knex: Knex; calls: () => number } {
    let calls = 0;
    const knex = (() => ({
      where: () => ({
        first: () => {
          const answer = answers[Math.min(calls, answers.length - 1)];
          calls++;
          return answer ? answer() : Promise.resolve(undefined);
        },
      }),
    })) as unknown as Knex;
    return { knex, calls: () => calls };
  }

  /** A read that stays pending until the test settles it. */
  function pendingRead(): { read: () => Promise<unknown>; settle: (row: unknown) => void } {
    let settle: (row: unknown) => void = () => undefined;
    const promise = new Promise<unknown>((resolve) => {
      settle = resolve;
    });
    return {
      read: () => promise,
      settle: (row) => {
        settle(row);
      },
    };
  }

  function manualClock(): { now: () => number; advance: (ms: number) => void } {
    let current = 1_000_000;
    return {
      now: () => current,
      advance: (ms) => {
        current += ms;
      },
    };
  }

  const tick = (): Promise<void> =>
    new Promise((resolve) => {
      setImmediate(resolve);
    });

  it('reads once for concurrent callers, and not again while the value is young', async () => {
    const { knex, calls } = fakeKnex([() => Promise.resolve({ audit_strict: true })]);
    const clock = manualClock();
    const settings = new TenantSettings({ knex, clock: clock.now });
    const [a, b] = await Promise.all([settings.get(tenantId), settings.get(tenantId)]);
    expect(a).toEqual({ auditStrict: true });
    expect(b).toBe(a);
    clock.advance(14_999);
    await settings.get(tenantId);
    expect(calls()).toBe(1);
    settings.forget(tenantId);
    await settings.get(tenantId);
    expect(calls()).toBe(2);
  });

  it('answers from the last value while one background read runs, then uses what it read', async () => {
    const refresh = pendingRead();
    const { knex, calls } = fakeKnex([
      () => Promise.resolve({ audit_strict: false }),
      refresh.read,
    ]);
    const clock = manualClock();
    const settings = new TenantSettings({ knex, clock: clock.now });
    expect(await settings.get(tenantId)).toEqual({ auditStrict: false });
    // 15 s on: still answered at once, by one read in the background however many ask.
    clock.advance(15_000);
    const answers = await Promise.all(Array.from({ length: 20 }, () => settings.get(tenantId)));
    expect(answers.every((a) => !a.auditStrict)).toBe(true);
    expect(calls()).toBe(2);
    // The tenant was switched to strict audit meanwhile: once the read lands, it applies.
    refresh.settle({ audit_strict: true });
    await tick();
    expect(await settings.get(tenantId)).toEqual({ auditStrict: true });
    expect(calls()).toBe(2);
  });

  it('never uses a value read more than 30 s ago: the decision waits for a read', async () => {
    const late = pendingRead();
    const { knex, calls } = fakeKnex([() => Promise.resolve({ audit_strict: false }), late.read]);
    const clock = manualClock();
    const settings = new TenantSettings({ knex, clock: clock.now });
    await settings.get(tenantId);
    clock.advance(30_001);
    let answer: unknown;
    const waiting = settings.get(tenantId).then((a) => (answer = a));
    await tick();
    expect(answer).toBeUndefined();
    expect(calls()).toBe(2);
    late.settle({ audit_strict: true });
    await waiting;
    expect(answer).toEqual({ auditStrict: true });
  });

  it('keeps the last value while reads fail until it is 30 s old, then fails with 503', async () => {
    const { knex } = fakeKnex([
      () => Promise.resolve({ audit_strict: true }),
      () => Promise.reject(new Error('down')),
    ]);
    const clock = manualClock();
    const settings = new TenantSettings({ knex, clock: clock.now });
    expect(await settings.get(tenantId)).toEqual({ auditStrict: true });
    clock.advance(20_000);
    expect(await settings.get(tenantId)).toEqual({ auditStrict: true });
    await tick();
    clock.advance(10_000);
    expect(await settings.get(tenantId)).toEqual({ auditStrict: true });
    await tick();
    clock.advance(1);
    await expect(settings.get(tenantId)).rejects.toMatchObject({
      code: 'database_unavailable',
      status: 503,
    });
    const other = '00000000-0000-4000-8000-00000000000b';
    await expect(settings.get(other)).rejects.toMatchObject({
      code: 'database_unavailable',
      status: 503,
    });
  });
});
