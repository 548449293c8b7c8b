/**
 * The engine: loads a policy.wasm with the unmodified @open-policy-agent/opa-wasm SDK and
 * evaluates entrypoints with limits. Works with Verdict-built modules and with modules built by
 * `opa build -t wasm` alike (the same ABI); the step budget applies to Verdict-built ones.
 */
import { loadPolicy, type LoadedPolicy } from '@open-policy-agent/opa-wasm';
import type { BuiltinContext } from './rego/builtins/types';
import type { Value } from './ir/value';
import { HostBuiltinError, hostBuiltins } from './wasm/host-builtins';
import { BUILTINS } from './rego/builtins';

/** 64 KiB pages. */
const DEFAULT_MAX_PAGES = 2048; // 128 MiB
const DEFAULT_STEP_BUDGET = 50_000_000;

export interface EngineOptions {
  /** Upper bound on the instance's memory, in 64 KiB pages. */
  readonly maxMemoryPages?: number;
  /** Upper bound on evaluation steps (loop iterations and calls) per evaluation. */
  readonly stepBudget?: number;
  /** Builtin errors end the evaluation (`eval_builtin_error`) instead of making a call undefined. */
  readonly strictBuiltinErrors?: boolean;
  /** Clock for `time.now_ns()`; defaults to the system clock. */
  readonly now?: () => bigint;
}

export type EngineErrorCode =
  | 'eval_conflict_error'
  | 'eval_type_error'
  | 'eval_builtin_error'
  | 'eval_budget_error'
  | 'eval_memory_error'
  | 'eval_internal_error';

export class EngineError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

/** One result of an entrypoint, as OPA's SDK returns it: `{ result: <value> }`. */
export type ResultSet = readonly Record<string, unknown>[];

interface VerdictExports {
  verdict_set_budget?: (steps: number) => void;
}

export class PolicyEngine {
  private constructor(
    private readonly policy: LoadedPolicy,
    private readonly now: () => bigint,
    /** What host builtins see; renewed per evaluation (clock, per-query memo). */
    private readonly contextRef: { current: BuiltinContext },
  ) {}

  static async load(wasm: Uint8Array, options: EngineOptions = {}): Promise<PolicyEngine> {
    const now = options.now ?? (() => BigInt(Date.now()) * 1_000_000n);
    const contextRef = {
      current: { nowNs: now(), memo: new Map<string, Value>() } as BuiltinContext,
    };
    const builtins = hostBuiltins([...BUILTINS.keys()], {
      ...(options.strictBuiltinErrors !== undefined ? { strict: options.strictBuiltinErrors } : {}),
      context: () => contextRef.current,
    });
    const policy = await loadPolicy(
      wasm,
      { initial: 8, maximum: options.maxMemoryPages ?? DEFAULT_MAX_PAGES },
      builtins,
    );
    const engine = new PolicyEngine(policy, now, contextRef);
    const exports = (policy.wasmInstance as unknown as { exports: VerdictExports }).exports;
    exports.verdict_set_budget?.(options.stepBudget ?? DEFAULT_STEP_BUDGET);
    return engine;
  }

  /** Entrypoint names and ids, as the module lists them. */
  get entrypoints(): Readonly<Record<string, number>> {
    return this.policy.entrypoints as Record<string, number>;
  }

  /** Base documents (`data`): a JSON value, or its JSON text as an ArrayBuffer. */
  setData(data: unknown): void {
    this.guard(() => {
      this.policy.setData(data as object);
    });
  }

  /**
   * Evaluates an entrypoint. `input` may be a JSON value or its JSON text as an ArrayBuffer
   * (no re-serialization); `undefined` means no input.
   */
  evaluate(entrypoint: string | number, input?: unknown): ResultSet {
    this.contextRef.current = { nowNs: this.now(), memo: new Map() };
    return this.guard(() => this.policy.evaluate(input, entrypoint) as ResultSet);
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw toEngineError(err);
    }
  }
}

/** The SDK throws strings (opa_abort), RangeErrors (memory) and our host builtin errors. */
function toEngineError(err: unknown): EngineError {
  if (err instanceof EngineError) return err;
  if (err instanceof HostBuiltinError) return new EngineError(err.code, err.message);
  // RangeError: memory.grow past the maximum; RuntimeError: an allocation trap inside WASM.
  if (
    err instanceof Error &&
    (err instanceof RangeError || (err.name === 'RuntimeError' && /memory/i.test(err.message)))
  ) {
    return new EngineError(
      'eval_memory_error',
      `evaluation ran out of memory (${err.message}): the policy builds too much data for one query`,
    );
  }
  const text =
    typeof err === 'string' ? err : err instanceof Error ? err.message : JSON.stringify(err);
  const coded = /\b(eval_[a-z_]+_error): (.*)$/s.exec(text);
  if (coded) {
    const code = coded[1] as EngineErrorCode;
    return new EngineError(code, coded[2] ?? text);
  }
  return new EngineError('eval_internal_error', text);
}
