/**
 * The engine pool with real compiled policies and a loader under the test's control: lazy
 * loads (one per tenant at a time), LRU eviction, swaps on activation (old answers until the
 * new set is in, superseded loads never installed), reuse of unchanged versions, failures,
 * and routing a data path to a bundle and entrypoint.
 */
import { VerdictError } from '../../../../../api/errors';
import { MemoryCache } from '../../../../../api/services/cache/memory';
import {
  EnginePool,
  activationChannel,
  parseActivation,
  routePath,
  type ActiveBundle,
  type TenantEngines,
} from '../../../../../api/services/decisions';
import { createLogger } from '../../../../../api/logger';
import { buildRego, type BuiltForTest } from '../../../../integration/helpers/bundles';

const logger = createLogger({ level: 'silent' });
const tenantA = '00000000-0000-4000-8000-00000000000a';
const tenantB = '00000000-0000-4000-8000-00000000000b';

let v1: BuiltForTest;
let v2: BuiltForTest;

beforeAll(async () => {
  const source = (answer: string): string =>
    `package app\n\nanswer := ${answer}\n\nobj := {"a": {"b": 1}}\n`;
  v1 = await buildRego(source('1'), { roots: ['app'], entrypoints: ['app/answer', 'app/obj'] });
  v2 = await buildRego(source('2'), { roots: ['app'], entrypoints: ['app/answer', 'app/obj'] });
});

function active(
  built: BuiltForTest,
  versionId: string,
  extra: Partial<ActiveBundle> = {},
): ActiveBundle {
  return {
    bundleId: 'b1',
    name: 'app',
    versionId,
    version: '1.0.0',
    revision: built.bundle.manifest.revision,
    engine: 'rego',
    manifest: { roots: ['app'], entrypoints: ['app/answer'] },
    wasm: built.bundle.wasm,
    data: built.data,
    ...extra,
  };
}

function answerOf(entry: TenantEngines): unknown {
  const route = routePath(entry, ['app', 'answer']);
  if (route === undefined) throw new Error('no route');
  return (
    JSON.parse(route.bundle.engine.evaluateJSON(route.entrypoint, undefined)) as {
      result: unknown;
    }[]
  )[0]?.result;
}

/** A loader whose answers the test sets, counting calls. */
function controlledLoader(initial: Record<string, ActiveBundle[]>) {
  const state = { bundles: { ...initial }, calls: 0, gate: undefined as Promise<void> | undefined };
  const load = async (tenantId: string): Promise<ActiveBundle[]> => {
    state.calls++;
    const bundles = state.bundles[tenantId] ?? [];
    if (state.gate !== undefined) await state.gate;
    return bundles;
  };
  return { state, load };
}

describe('EnginePool', () => {
  it('loads a tenant once, however many decisions ask at the same time', async () => {
    const { state, load } = controlledLoader({ [tenantA]: [active(v1, 'v1')] });
    const pool = new EnginePool({ load, logger });
    const [a, b] = await Promise.all([pool.get(tenantA), pool.get(tenantA)]);
    expect(a).toBe(b);
    expect(state.calls).toBe(1);
    expect(answerOf(a)).toBe(1);
    expect(await pool.get(tenantA)).toBe(a);
    expect(pool.has(tenantA)).toBe(true);
    expect(pool.counters).toMatchObject({ tenants: 1, engines: 1, loads: 1 });
  });

  it('evicts the least recently used tenant beyond maxEngines', async () => {
    const { state, load } = controlledLoader({
      [tenantA]: [active(v1, 'v1')],
      [tenantB]: [active(v2, 'v2')],
    });
    const pool = new EnginePool({ load, logger, maxEngines: 1 });
    await pool.get(tenantA);
    await pool.get(tenantB);
    expect(pool.has(tenantA)).toBe(false);
    expect(pool.counters.evictions).toBe(1);
    await pool.get(tenantA);
    expect(state.calls).toBe(3);
  });

  it('swaps a resident tenant on activation, keeping the old set until the new one is in', async () => {
    const { state, load } = controlledLoader({ [tenantA]: [active(v1, 'v1')] });
    const pool = new EnginePool({ load, logger });
    const old = await pool.get(tenantA);
    state.bundles[tenantA] = [active(v2, 'v2')];
    let open: () => void = () => undefined;
    state.gate = new Promise((resolve) => {
      open = resolve;
    });
    const swapping = pool.activate(tenantA);
    // While the new version loads, decisions still get the old set.
    expect(await pool.get(tenantA)).toBe(old);
    open();
    await swapping;
    const current = await pool.get(tenantA);
    expect(current).not.toBe(old);
    expect(answerOf(current)).toBe(2);
    // The old set still answers for whoever holds it.
    expect(answerOf(old)).toBe(1);
    expect(pool.counters.swaps).toBe(1);
  });

  it('never installs a load superseded by a later activation', async () => {
    const { state, load } = controlledLoader({ [tenantA]: [active(v1, 'v1')] });
    const pool = new EnginePool({ load, logger });
    await pool.get(tenantA);
    let openFirst: () => void = () => undefined;
    state.gate = new Promise((resolve) => {
      openFirst = resolve;
    });
    state.bundles[tenantA] = [active(v1, 'v1b')];
    const first = pool.activate(tenantA);
    state.gate = undefined;
    state.bundles[tenantA] = [active(v2, 'v2')];
    await pool.activate(tenantA);
    openFirst();
    await first;
    await pool.settled(tenantA);
    expect(answerOf(await pool.get(tenantA))).toBe(2);
  });

  it('does not load a tenant that is not resident when it is activated', async () => {
    const { state, load } = controlledLoader({ [tenantA]: [active(v1, 'v1')] });
    const pool = new EnginePool({ load, logger });
    await pool.activate(tenantA);
    expect(state.calls).toBe(0);
  });

  it('reuses the engine of a version that did not change', async () => {
    const { state, load } = controlledLoader({ [tenantA]: [active(v1, 'v1')] });
    const pool = new EnginePool({ load, logger });
    const before = await pool.get(tenantA);
    state.bundles[tenantA] = [
      active(v1, 'v1'),
      active(v2, 'v2', { bundleId: 'b2', name: 'other', manifest: { roots: ['other'] } }),
    ];
    await pool.activate(tenantA);
    const after = await pool.get(tenantA);
    expect(after.bundles).toHaveLength(2);
    expect(after.bundles[0]?.engine).toBe(before.bundles[0]?.engine);
  });

  it('keeps serving the old set when the reload after an activation fails', async () => {
    const { state, load } = controlledLoader({ [tenantA]: [active(v1, 'v1')] });
    const pool = new EnginePool({ load, logger });
    const old = await pool.get(tenantA);
    state.bundles[tenantA] = [active(v1, 'broken', { wasm: new Uint8Array([0, 1, 2]) })];
    await pool.activate(tenantA);
    expect(await pool.get(tenantA)).toBe(old);
    expect(pool.counters.loadFailures).toBe(1);
  });

  it('tells what each activation did: reloaded, deferred (not resident) or failed', async () => {
    const { state, load } = controlledLoader({ [tenantA]: [active(v1, 'v1')] });
    const told: [string, string][] = [];
    const pool = new EnginePool({
      load,
      logger,
      onActivation: (tenantId, outcome) => told.push([tenantId, outcome]),
    });
    expect(await pool.activate(tenantA)).toBe('deferred');
    await pool.get(tenantA);
    state.bundles[tenantA] = [active(v2, 'v2')];
    expect(await pool.activate(tenantA)).toBe('reloaded');
    state.bundles[tenantA] = [active(v1, 'broken', { wasm: new Uint8Array([0, 1, 2]) })];
    expect(await pool.activate(tenantA)).toBe('failed');
    expect(told).toEqual([
      [tenantA, 'deferred'],
      [tenantA, 'reloaded'],
      [tenantA, 'failed'],
    ]);
  });

  it('fails a decision with bundle_unavailable when bundles cannot be read or loaded', async () => {
    const failing = new EnginePool({
      load: () => Promise.reject(new Error('connection refused')),
      logger,
    });
    await expect(failing.get(tenantA)).rejects.toMatchObject({
      code: 'bundle_unavailable',
      status: 503,
    });
    const broken = new EnginePool({
      load: () => Promise.resolve([active(v1, 'x', { wasm: new Uint8Array([1, 2, 3]) })]),
      logger,
    });
    const err = (await broken.get(tenantA).catch((e: unknown) => e)) as VerdictError;
    expect(err.code).toBe('bundle_unavailable');
    expect(err.detail).toMatch(/Bundle app 1\.0\.0 .* could not be loaded/);
  });

  it('ignores bad mask paths, defaults cache to auto and roots to everything', async () => {
    const pool = new EnginePool({
      load: () =>
        Promise.resolve([
          active(v1, 'v1', { manifest: { mask: ['/input/ok', '/result/no'], cache: 'on' } }),
        ]),
      logger,
    });
    const entry = await pool.get(tenantA);
    expect(entry.bundles[0]).toMatchObject({ mask: ['/input/ok'], cache: 'on', roots: [[]] });
    const other = new EnginePool({
      load: () =>
        Promise.resolve([active(v1, 'v1', { manifest: { roots: [], cache: 'bogus' as 'on' } })]),
      logger,
    });
    expect((await other.get(tenantA)).bundles[0]).toMatchObject({ cache: 'auto', roots: [[]] });
  });

  it('drops a set on discard only while it is still the resident one', async () => {
    const { load } = controlledLoader({ [tenantA]: [active(v1, 'v1')] });
    const pool = new EnginePool({ load, logger });
    const entry = await pool.get(tenantA);
    pool.discard({ ...entry });
    expect(pool.has(tenantA)).toBe(true);
    pool.discard(entry);
    expect(pool.has(tenantA)).toBe(false);
    await pool.get(tenantA);
    pool.clear();
    expect(pool.counters.tenants).toBe(0);
  });

  it('swaps when an activation message arrives, and ignores malformed ones', async () => {
    const { state, load } = controlledLoader({ [tenantA]: [active(v1, 'v1')] });
    const pool = new EnginePool({ load, logger });
    const cache = new MemoryCache({ logger });
    const stop = await pool.listen(cache);
    await pool.get(tenantA);
    state.bundles[tenantA] = [active(v2, 'v2')];
    const delivered = new Promise<void>((resolve) => {
      void cache.subscribe(activationChannel, (text) => {
        if (text.includes(tenantA)) resolve();
      });
    });
    await cache.publish(activationChannel, 'not json');
    await cache.publish(activationChannel, JSON.stringify({ tenantId: tenantA, versionId: 'v2' }));
    await delivered;
    await pool.settled(tenantA);
    expect(answerOf(await pool.get(tenantA))).toBe(2);
    await stop();
    await cache.close();
  });
});

describe('EnginePool after the activation channel was lost', () => {
  /** The in-process store, plus a reconnection the test triggers as Redis's would be. */
  class ReconnectingCache extends MemoryCache {
    private readonly listeners = new Set<() => void>();
    onResubscribe(listener: () => void): () => void {
      this.listeners.add(listener);
      return () => this.listeners.delete(listener);
    }
    reconnect(): void {
      for (const listener of this.listeners) listener();
    }
  }

  it('reloads every resident tenant once subscribed again, and no tenant not resident', async () => {
    const { state, load } = controlledLoader({
      [tenantA]: [active(v1, 'v1')],
      [tenantB]: [active(v1, 'v1')],
    });
    const activations: string[] = [];
    const pool = new EnginePool({
      load,
      logger,
      onActivation: (tenantId) => activations.push(tenantId),
    });
    const cache = new ReconnectingCache({ logger });
    const stop = await pool.listen(cache);
    await pool.get(tenantA);
    // An activation of A published while the connection was down never arrived.
    state.bundles[tenantA] = [active(v2, 'v2')];
    expect(answerOf(await pool.get(tenantA))).toBe(1);
    const callsBefore = state.calls;
    cache.reconnect();
    await pool.settled(tenantA);
    expect(answerOf(await pool.get(tenantA))).toBe(2);
    expect(state.calls).toBe(callsBefore + 1); // A only: B was never resident
    expect(pool.has(tenantB)).toBe(false);
    expect(activations).toEqual([]); // not counted as activations
    // Once unsubscribed, a reconnection reloads nothing.
    await stop();
    cache.reconnect();
    expect(state.calls).toBe(callsBefore + 1);
    await cache.close();
  });
});

describe('parseActivation', () => {
  it('reads the registry message and refuses anything else', () => {
    expect(parseActivation('{"tenantId":"t","bundleId":"b","versionId":"v"}')).toEqual({
      tenantId: 't',
      bundleId: 'b',
      versionId: 'v',
    });
    expect(parseActivation('{"tenantId":"t","bundleId":3}')).toEqual({ tenantId: 't' });
    for (const text of ['', 'null', '"x"', '{}', '{"tenantId":""}', '{"tenantId":1}']) {
      expect(parseActivation(text)).toBeUndefined();
    }
  });
});

describe('routePath', () => {
  it('finds the bundle by root and the longest entrypoint the path starts with', async () => {
    const pool = new EnginePool({
      load: () =>
        Promise.resolve([
          active(v1, 'v1', { manifest: { roots: ['app'] } }),
          active(v2, 'v2', { name: 'nested', manifest: { roots: ['other/deep'] } }),
        ]),
      logger,
    });
    const entry = await pool.get(tenantA);
    expect(routePath(entry, ['app', 'answer'])).toMatchObject({
      entrypoint: 'app/answer',
      below: [],
    });
    expect(routePath(entry, ['app', 'obj', 'a', 'b'])).toMatchObject({
      entrypoint: 'app/obj',
      below: ['a', 'b'],
    });
    expect(routePath(entry, ['app'])).toBeUndefined();
    expect(routePath(entry, ['app', 'missing'])).toBeUndefined();
    expect(routePath(entry, ['other'])).toBeUndefined();
    expect(routePath(entry, ['nothing'])).toBeUndefined();
    expect(routePath(entry, [])).toBeUndefined();
  });
});
