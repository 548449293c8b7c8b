/**
 * Compiled policy engines per tenant: each tenant's active bundle versions, each in its own
 * WebAssembly instance (its own memory, capped, and its own step budget), so one tenant's
 * policy can neither read another's data nor starve its requests.
 *
 * Engines load lazily on a tenant's first decision and are evicted least-recently-used once
 * the pool holds `maxEngines`. An activation message reloads a resident tenant in the
 * background and then swaps its entry in one assignment: a request that already picked the
 * old set finishes on it, every later one gets the new set. Engines of versions that did
 * not change are carried over, not recompiled.
 *
 * Concurrency: opa-wasm evaluation is synchronous, and Node runs one piece of JavaScript at a
 * time per thread, so an evaluation runs from start to end before any other code of this
 * process can touch the same instance — one instance is never used by two evaluations at
 * once. That stays true only while nothing awaits in the middle of an evaluation: data is
 * set once, before an engine is published, and callers call `evaluateJSON` without awaiting
 * between preparing the input and reading the result.
 */
import { LRUCache } from 'lru-cache';
import { EngineError, PolicyEngine, type EngineOptions } from '../../../policies/engine';
import { VerdictError, messageOf } from '../../errors';
import type { Logger } from '../../logger';
import { maskPathProblem } from '../audit';
import type { CacheStore, Unsubscribe } from '../cache';
import { stickyKeys } from '../rollouts/assign';

/** What the pool needs of a bundle registry's active versions (api/services/bundles). */
export interface ActiveBundle {
  readonly bundleId: string;
  readonly name: string;
  readonly versionId: string;
  readonly version: string;
  readonly revision: string;
  readonly engine: 'rego' | 'casl';
  readonly manifest: {
    readonly roots?: readonly string[];
    readonly entrypoints?: readonly string[];
    readonly mask?: readonly string[];
    readonly cache?: 'auto' | 'on' | 'off';
    readonly [key: string]: unknown;
  };
  readonly wasm: Uint8Array;
  readonly data: unknown;
  readonly rollout?: {
    readonly id: string;
    readonly mode: 'canary' | 'shadow';
    readonly percent: number;
    readonly sticky: string | null;
    readonly candidate: ActiveBundle;
  };
}

export type ActiveBundleLoader = (tenantId: string) => Promise<readonly ActiveBundle[]>;

export type CacheMode = 'auto' | 'on' | 'off';

/** One active bundle version, compiled and ready to evaluate. */
export interface LoadedBundle {
  readonly bundleId: string;
  readonly name: string;
  readonly versionId: string;
  readonly version: string;
  readonly revision: string;
  readonly engine: PolicyEngine;
  /** Each root as path segments; one empty root (`""`) claims every path, as in OPA. */
  readonly roots: readonly (readonly string[])[];
  readonly mask: readonly string[];
  readonly cache: CacheMode;
  /** The bundle's active rollout, with its candidate compiled beside the stable version. */
  readonly rollout?: LoadedRollout;
}

export interface LoadedRollout {
  readonly id: string;
  readonly mode: 'canary' | 'shadow';
  /** Share of traffic the canary serves, in percent (0 for a shadow). */
  readonly percent: number;
  /** Keys below `input` the canary split is sticky by; undefined: the caller. */
  readonly stickyKeys: readonly string[] | undefined;
  readonly candidate: LoadedBundle;
}

/** A tenant's active bundles at one moment. Never changed once published. */
export interface TenantEngines {
  readonly tenantId: string;
  readonly bundles: readonly LoadedBundle[];
  readonly loadedAt: Date;
}

/** The channel the bundle registry announces activations on. */
export const activationChannel = 'verdict:bundles';

export interface ActivationMessage {
  tenantId: string;
  bundleId?: string;
  versionId?: string;
}

/**
 * What an activation did to this pool: `reloaded` (the new engines serve), `deferred` (the
 * tenant is not in memory: its next decision loads them), `failed` (the old ones keep serving).
 */
export type ActivationOutcome = 'reloaded' | 'deferred' | 'failed';

export interface EnginePoolOptions {
  load: ActiveBundleLoader;
  logger: Logger;
  /** Told the outcome of every activation (metrics). */
  onActivation?: (tenantId: string, outcome: ActivationOutcome) => void;
  /** Most engines (bundle versions) kept compiled; least recently used tenants go first. */
  maxEngines?: number;
  /** Per-engine limits: memory pages and evaluation steps. */
  engine?: Pick<EngineOptions, 'maxMemoryPages' | 'stepBudget'>;
}

export interface EnginePoolStats {
  tenants: number;
  engines: number;
  loads: number;
  swaps: number;
  evictions: number;
  loadFailures: number;
}

/** Engines in a tenant's set: each bundle's stable version and its rollout's candidate. */
function engineCount(entry: TenantEngines): number {
  let count = 0;
  for (const bundle of entry.bundles) count += bundle.rollout === undefined ? 1 : 2;
  return count;
}

function withoutRollout(bundle: LoadedBundle): LoadedBundle {
  if (bundle.rollout === undefined) return bundle;
  const { rollout: _rollout, ...stable } = bundle;
  return stable;
}

function segments(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '');
}

/** The activation message, or undefined when `text` is not one. */
export function parseActivation(text: string): ActivationMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { tenantId, bundleId, versionId } = value as Record<string, unknown>;
  if (typeof tenantId !== 'string' || tenantId === '') return undefined;
  return {
    tenantId,
    ...(typeof bundleId === 'string' ? { bundleId } : {}),
    ...(typeof versionId === 'string' ? { versionId } : {}),
  };
}

export class EnginePool {
  private readonly loadBundles: ActiveBundleLoader;
  private readonly logger: Logger;
  private readonly engineOptions: EngineOptions;
  private readonly maxEngines: number;
  private readonly resident: LRUCache<string, TenantEngines>;
  /** Loads under way, per tenant, with the generation they were started for. */
  private readonly loading = new Map<
    string,
    { generation: number; promise: Promise<TenantEngines> }
  >();
  /** Bumped by every activation, so a load started before it never installs its older answer. */
  private readonly generations = new Map<string, number>();
  private readonly stats = { loads: 0, swaps: 0, evictions: 0, loadFailures: 0 };
  private readonly onActivation: EnginePoolOptions['onActivation'];

  constructor(options: EnginePoolOptions) {
    this.loadBundles = options.load;
    this.logger = options.logger;
    this.onActivation = options.onActivation;
    this.engineOptions = options.engine ?? {};
    this.maxEngines = Math.max(1, Math.floor(options.maxEngines ?? 1000));
    this.resident = new LRUCache<string, TenantEngines>({
      maxSize: this.maxEngines,
      // A tenant counts as many engines as it has (at least one, at most the pool).
      sizeCalculation: (entry) => Math.min(this.maxEngines, Math.max(1, engineCount(entry))),
      dispose: (_entry, _tenantId, reason) => {
        if (reason === 'evict') this.stats.evictions++;
      },
    });
  }

  get counters(): EnginePoolStats {
    let engines = 0;
    for (const entry of this.resident.values()) engines += engineCount(entry);
    return { tenants: this.resident.size, engines, ...this.stats };
  }

  /** The tenant's engines: resident ones, or loaded now (one load per tenant at a time). */
  async get(tenantId: string): Promise<TenantEngines> {
    const entry = this.resident.get(tenantId);
    if (entry !== undefined) return entry;
    return this.startLoad(tenantId).promise;
  }

  /** Whether the tenant's engines are compiled and resident (no load needed). */
  has(tenantId: string): boolean {
    return this.resident.has(tenantId);
  }

  /**
   * A bundle of the tenant was activated: when the tenant is resident (or loading), load the
   * new set and swap it in; otherwise its next decision loads it. Resolves once swapped, with
   * what was done.
   */
  async activate(tenantId: string): Promise<ActivationOutcome> {
    const outcome = await this.reload(tenantId);
    this.onActivation?.(tenantId, outcome);
    return outcome;
  }

  private async reload(tenantId: string): Promise<ActivationOutcome> {
    const generation = this.nextGeneration(tenantId);
    if (!this.resident.has(tenantId) && !this.loading.has(tenantId)) return 'deferred';
    try {
      await this.startLoad(tenantId, generation).promise;
      return 'reloaded';
    } catch (err) {
      // The old set keeps serving; the next activation or eviction tries again.
      this.logger.error(
        { err: messageOf(err), tenantId },
        'engine warm-up after activation failed',
      );
      return 'failed';
    }
  }

  /**
   * Drops the tenant's set if it is still `entry` (after an evaluation ran out of memory: its
   * instance has grown to the cap and memory never shrinks, so the next decision reloads).
   */
  discard(entry: TenantEngines): void {
    if (this.resident.peek(entry.tenantId) === entry) this.resident.delete(entry.tenantId);
  }

  /** Resolves once the tenant's load under way (if any) has finished, failed or not. */
  async settled(tenantId: string): Promise<void> {
    for (
      let load = this.loading.get(tenantId);
      load !== undefined;
      load = this.loading.get(tenantId)
    ) {
      await load.promise.catch(() => undefined);
    }
  }

  /**
   * Subscribes to activation messages; returns the unsubscribe function. When the store lost
   * its connection (Redis down, then back), activations published meanwhile never arrive, so
   * every resident tenant is reloaded once the subscription is back: the old engines serve
   * until the new set is in, and unchanged versions are reused.
   */
  async listen(cache: CacheStore): Promise<Unsubscribe> {
    const stopWatching = cache.onResubscribe?.(() => {
      this.reloadResident();
    });
    try {
      const unsubscribe = await cache.subscribe(activationChannel, (text) => {
        const message = parseActivation(text);
        if (message === undefined) {
          this.logger.warn({ message: text.slice(0, 200) }, 'ignored malformed activation message');
          return;
        }
        void this.activate(message.tenantId);
      });
      return async () => {
        stopWatching?.();
        await unsubscribe();
      };
    } catch (err) {
      stopWatching?.();
      throw err;
    }
  }

  /** Reloads every resident tenant (activation messages may have been missed). */
  reloadResident(): void {
    const tenants = [...this.resident.keys()];
    if (tenants.length === 0) return;
    this.logger.info(
      { tenants: tenants.length },
      'activation messages may have been missed: reloading resident tenants',
    );
    for (const tenantId of tenants) void this.reload(tenantId);
  }

  clear(): void {
    this.resident.clear();
  }

  private nextGeneration(tenantId: string): number {
    const generation = (this.generations.get(tenantId) ?? 0) + 1;
    this.generations.set(tenantId, generation);
    return generation;
  }

  private startLoad(
    tenantId: string,
    generation = this.generations.get(tenantId) ?? 0,
  ): { promise: Promise<TenantEngines> } {
    const pending = this.loading.get(tenantId);
    if (pending?.generation === generation) return pending;
    const promise = this.compile(tenantId).then(
      (entry) => {
        // Only the newest load installs: an older one may hold a superseded version.
        if ((this.generations.get(tenantId) ?? 0) === generation) {
          if (this.resident.has(tenantId)) this.stats.swaps++;
          this.resident.set(tenantId, entry);
        }
        if (this.loading.get(tenantId)?.promise === promise) this.loading.delete(tenantId);
        return entry;
      },
      (err: unknown) => {
        if (this.loading.get(tenantId)?.promise === promise) this.loading.delete(tenantId);
        this.stats.loadFailures++;
        throw err;
      },
    );
    const load = { generation, promise };
    this.loading.set(tenantId, load);
    return load;
  }

  private async compile(tenantId: string): Promise<TenantEngines> {
    let active: readonly ActiveBundle[];
    try {
      active = await this.loadBundles(tenantId);
    } catch (err) {
      throw new VerdictError(
        'bundle_unavailable',
        "The tenant's active bundles could not be read (the database is unavailable); retry shortly.",
        { cause: err },
      );
    }
    // Versions already compiled for this tenant are reused as they are.
    const current = new Map<string, LoadedBundle>();
    for (const bundle of this.resident.peek(tenantId)?.bundles ?? []) {
      current.set(bundle.versionId, withoutRollout(bundle));
      if (bundle.rollout !== undefined) {
        current.set(bundle.rollout.candidate.versionId, bundle.rollout.candidate);
      }
    }
    const compiled = async (bundle: ActiveBundle): Promise<LoadedBundle> =>
      current.get(bundle.versionId) ?? (await this.compileBundle(tenantId, bundle));
    const bundles: LoadedBundle[] = [];
    for (const bundle of active) {
      const stable = await compiled(bundle);
      const { rollout } = bundle;
      if (rollout === undefined) {
        bundles.push(stable);
        continue;
      }
      const candidate = await compiled(rollout.candidate);
      bundles.push({
        ...stable,
        rollout: {
          id: rollout.id,
          mode: rollout.mode,
          percent: rollout.mode === 'canary' ? rollout.percent : 0,
          stickyKeys: rollout.sticky === null ? undefined : stickyKeys(rollout.sticky),
          candidate,
        },
      });
    }
    this.stats.loads++;
    return { tenantId, bundles, loadedAt: new Date() };
  }

  private async compileBundle(tenantId: string, bundle: ActiveBundle): Promise<LoadedBundle> {
    let engine: PolicyEngine;
    try {
      engine = await PolicyEngine.load(bundle.wasm, this.engineOptions);
      engine.setData(bundle.data ?? {});
    } catch (err) {
      const reason =
        err instanceof EngineError || err instanceof Error ? err.message : messageOf(err);
      throw new VerdictError(
        'bundle_unavailable',
        `Bundle ${bundle.name} ${bundle.version} (revision ${bundle.revision}) could not be loaded: ${reason}. Push a fixed version and activate it.`,
        { cause: err, extensions: { bundle: bundle.name, version: bundle.version } },
      );
    }
    const mask: string[] = [];
    for (const path of bundle.manifest.mask ?? []) {
      const problem = maskPathProblem(path);
      if (problem === undefined) mask.push(path);
      else this.logger.warn({ tenantId, bundle: bundle.name, problem }, 'ignored bad mask path');
    }
    const roots = bundle.manifest.roots ?? [''];
    const cache = bundle.manifest.cache;
    return {
      bundleId: bundle.bundleId,
      name: bundle.name,
      versionId: bundle.versionId,
      version: bundle.version,
      revision: bundle.revision,
      engine,
      roots: (roots.length === 0 ? [''] : roots).map(segments),
      mask,
      cache: cache === 'on' || cache === 'off' ? cache : 'auto',
    };
  }
}

/** Where a data path leads: the bundle, the entrypoint to evaluate, and what to read below it. */
export interface Route {
  readonly bundle: LoadedBundle;
  readonly entrypoint: string;
  /** Keys to descend into the entrypoint's value (`rbac/allow/x` under entrypoint `rbac`). */
  readonly below: readonly string[];
}

function startsWith(path: readonly string[], prefix: readonly string[]): boolean {
  return prefix.every((segment, i) => path[i] === segment);
}

/**
 * Routes `path` (`rbac/allow`) to the bundle whose roots contain it and to the longest
 * entrypoint of that bundle the path starts with. Undefined when no bundle or entrypoint
 * covers the path: the answer is then undefined, as OPA answers for an unknown path.
 */
export function routePath(entry: TenantEngines, path: readonly string[]): Route | undefined {
  if (path.length === 0) return undefined;
  const bundle = entry.bundles.find((candidate) =>
    candidate.roots.some((root) => startsWith(path, root)),
  );
  if (bundle === undefined) return undefined;
  return routeInBundle(bundle, path);
}

/**
 * Routes `path` to the longest entrypoint of `bundle` it starts with (the bundle's roots are
 * not consulted: a rollout's candidate answers for the paths its stable version owns).
 */
export function routeInBundle(bundle: LoadedBundle, path: readonly string[]): Route | undefined {
  let best: { entrypoint: string; length: number } | undefined;
  for (const entrypoint of Object.keys(bundle.engine.entrypoints)) {
    const parts = segments(entrypoint);
    if (parts.length <= path.length && startsWith(path, parts)) {
      if (best === undefined || parts.length > best.length)
        best = { entrypoint, length: parts.length };
    }
  }
  if (best === undefined) return undefined;
  return { bundle, entrypoint: best.entrypoint, below: path.slice(best.length) };
}
