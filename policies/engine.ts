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
import { declaredMemoryMinimum } from './wasm/memory-import';

/** 64 KiB pages. */
const DEFAULT_MAX_PAGES = 2048; // 128 MiB
const DEFAULT_STEP_BUDGET = 50_000_000;

/** Limits and host settings for one loaded module. */
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

/**
 * Why an evaluation failed: the policy's own error (conflict, type, builtin), a limit (steps,
 * memory), or a fault inside the engine.
 */
export type EngineErrorCode =
  | 'eval_conflict_error'
  | 'eval_type_error'
  | 'eval_builtin_error'
  | 'eval_budget_error'
  | 'eval_memory_error'
  | 'eval_internal_error';

/** A position in the policy's Rego source. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** An evaluation that failed; `code` says why, `location` where in the policy when known. */
export class EngineError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
    /** Where in the policy the error arose, when the module says. */
    readonly location?: SourceLocation,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

/** One result of an entrypoint, as OPA's SDK returns it: `{ result: <value> }`. */
export type ResultSet = readonly Record<string, unknown>[];

interface VerdictExports {
  verdict_set_budget?: (steps: number) => void;
  verdict_set_strict?: (on: number) => void;
  verdict_site?: () => number;
  verdict_sites?: () => number;
  opa_json_dump?: (value: number) => number;
  opa_heap_ptr_set?: (ptr: number) => void;
  opa_malloc?: (size: number) => number;
  opa_value_parse?: (ptr: number, len: number) => number;
  opa_eval_ctx_new?: () => number;
  opa_eval_ctx_set_input?: (ctx: number, value: number) => void;
  opa_eval_ctx_set_data?: (ctx: number, value: number) => void;
  opa_eval_ctx_set_entrypoint?: (ctx: number, id: number) => void;
  opa_eval_ctx_get_result?: (ctx: number) => number;
  eval?: (ctx: number) => number;
  opa_eval?: (
    reserved: number,
    entrypoint: number,
    data: number,
    input: number,
    inputLength: number,
    heapPtr: number,
    format: number,
  ) => number;
}

/** The parts of the SDK's LoadedPolicy the fast path reads (its public fields). */
interface LoadedInstance {
  readonly wasmInstance: { readonly exports: VerdictExports };
  readonly mem: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  readonly dataAddr: number;
  readonly dataHeapPtr: number;
  readonly minorVersion: number;
}

const PAGE = 64 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * One policy.wasm, instantiated with its memory cap and host builtins; evaluates its
 * entrypoints one at a time.
 */
export class PolicyEngine {
  private constructor(
    private readonly policy: LoadedPolicy,
    private readonly now: () => bigint,
    /**
     * What host builtins see (clock, per-query memo): made on first use in an evaluation, so
     * evaluations that call no host builtin do not pay for it.
     */
    private readonly contextRef: { current: BuiltinContext | undefined },
  ) {}

  /** A view of the instance's memory, renewed when the memory grows. */
  private view: Uint8Array | undefined;

  private memoryView(buffer: ArrayBuffer): Uint8Array {
    if (this.view?.buffer !== buffer) this.view = new Uint8Array(buffer);
    return this.view;
  }

  /**
   * Instantiates `wasm`; throws EngineError when the module asks for more memory than
   * `maxMemoryPages` allows.
   */
  static async load(wasm: Uint8Array, options: EngineOptions = {}): Promise<PolicyEngine> {
    const now = options.now ?? (() => BigInt(Date.now()) * 1_000_000n);
    const contextRef: { current: BuiltinContext | undefined } = { current: undefined };
    const builtins = hostBuiltins([...BUILTINS.keys()], {
      ...(options.strictBuiltinErrors !== undefined ? { strict: options.strictBuiltinErrors } : {}),
      context: () => (contextRef.current ??= { nowNs: now(), memo: new Map<string, Value>() }),
    });
    const maximum = options.maxMemoryPages ?? DEFAULT_MAX_PAGES;
    const initial = initialMemoryPages(wasm);
    if (initial > maximum) {
      throw new EngineError(
        'eval_memory_error',
        `the policy module needs at least ${initial} pages of memory (64 KiB each) but the instance may have only ${maximum}: raise the engine memory cap`,
      );
    }
    const policy = await loadPolicy(wasm, { initial, maximum }, builtins);
    const engine = new PolicyEngine(policy, now, contextRef);
    const exports = (policy.wasmInstance as unknown as { exports: VerdictExports }).exports;
    exports.verdict_set_budget?.(options.stepBudget ?? DEFAULT_STEP_BUDGET);
    exports.verdict_set_strict?.(options.strictBuiltinErrors ? 1 : 0);
    return engine;
  }

  /** The instance's memory now, in 64 KiB pages. */
  get memoryPages(): number {
    return (this.policy as unknown as LoadedInstance).mem.buffer.byteLength / PAGE;
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
    this.contextRef.current = undefined;
    return this.guard(() => this.policy.evaluate(input, entrypoint) as ResultSet);
  }

  /**
   * The fast path: evaluates an entrypoint with `input` given as JSON text (or bytes) and
   * returns the result set as JSON text. It writes the input straight into the instance's
   * memory and calls `opa_eval` (ABI 1.2+) once: no object marshalling on the way in, no
   * JSON.parse on the way out, so callers can parse exactly (big numbers) or not at all.
   */
  evaluateJSON(entrypoint: string | number, inputJSON: string | Uint8Array | undefined): string {
    const loaded = this.policy as unknown as LoadedInstance;
    const opaEval = loaded.wasmInstance.exports.opa_eval;
    const id = typeof entrypoint === 'number' ? entrypoint : this.entrypoints[entrypoint];
    if (id === undefined) {
      throw new EngineError(
        'eval_internal_error',
        `no entrypoint named ${String(entrypoint)} in this policy`,
      );
    }
    if (!opaEval || loaded.minorVersion < 2) {
      const input: unknown =
        inputJSON === undefined
          ? undefined
          : JSON.parse(typeof inputJSON === 'string' ? inputJSON : decoder.decode(inputJSON));
      return JSON.stringify(this.evaluate(id, input));
    }
    this.contextRef.current = undefined;
    return this.guard(() => {
      const inputAddr = loaded.dataHeapPtr;
      // Room for the input: a UTF-16 unit takes at most 3 bytes of UTF-8.
      const room =
        inputJSON === undefined
          ? 0
          : typeof inputJSON === 'string'
            ? inputJSON.length * 3
            : inputJSON.byteLength;
      const needed = inputAddr + room - loaded.mem.buffer.byteLength;
      if (needed > 0) loaded.mem.grow(Math.ceil(needed / PAGE));
      let inputLength = 0;
      if (typeof inputJSON === 'string') {
        // Encoded straight into the instance's memory: no intermediate buffer.
        inputLength = encoder.encodeInto(
          inputJSON,
          this.memoryView(loaded.mem.buffer).subarray(inputAddr),
        ).written;
      } else if (inputJSON) {
        this.memoryView(loaded.mem.buffer).set(inputJSON, inputAddr);
        inputLength = inputJSON.byteLength;
      }
      const resultAddr = opaEval(
        0,
        id,
        loaded.dataAddr,
        inputAddr,
        inputLength,
        inputAddr + inputLength,
        0,
      );
      const memory = this.memoryView(loaded.mem.buffer);
      const end = memory.indexOf(0, resultAddr);
      return decoder.decode(memory.subarray(resultAddr, end));
    });
  }

  /**
   * Evaluates with an input written in Rego's value syntax (`{"roles": {"admin"}}`), for inputs
   * JSON cannot express (sets, non-string keys): the ABI's `opa_value_parse` reads it and the
   * multi-call path (`eval(ctx)`) runs the entrypoint. Returns the result set's JSON text.
   */
  evaluateRegoValue(entrypoint: string | number, inputText: string): string {
    const loaded = this.policy as unknown as LoadedInstance;
    const x = loaded.wasmInstance.exports;
    const id = typeof entrypoint === 'number' ? entrypoint : this.entrypoints[entrypoint];
    if (id === undefined) {
      throw new EngineError(
        'eval_internal_error',
        `no entrypoint named ${String(entrypoint)} in this policy`,
      );
    }
    if (
      !x.opa_heap_ptr_set ||
      !x.opa_malloc ||
      !x.opa_value_parse ||
      !x.opa_eval_ctx_new ||
      !x.opa_eval_ctx_set_input ||
      !x.opa_eval_ctx_set_data ||
      !x.opa_eval_ctx_set_entrypoint ||
      !x.opa_eval_ctx_get_result ||
      !x.eval ||
      !x.opa_json_dump
    ) {
      throw new EngineError(
        'eval_internal_error',
        'this policy module does not export the ABI calls for Rego-value input',
      );
    }
    const {
      opa_heap_ptr_set,
      opa_malloc,
      opa_value_parse,
      opa_eval_ctx_new,
      opa_eval_ctx_set_input,
      opa_eval_ctx_set_data,
      opa_eval_ctx_set_entrypoint,
      opa_eval_ctx_get_result,
      opa_json_dump,
    } = x;
    const evaluate = x.eval;
    this.contextRef.current = undefined;
    return this.guard(() => {
      opa_heap_ptr_set(loaded.dataHeapPtr);
      const bytes = encoder.encode(inputText);
      const addr = opa_malloc(bytes.byteLength);
      new Uint8Array(loaded.mem.buffer, addr, bytes.byteLength).set(bytes);
      const input = opa_value_parse(addr, bytes.byteLength);
      if (input === 0)
        throw new EngineError('eval_internal_error', 'the input is not a Rego value');
      const ctx = opa_eval_ctx_new();
      opa_eval_ctx_set_input(ctx, input);
      opa_eval_ctx_set_data(ctx, loaded.dataAddr);
      opa_eval_ctx_set_entrypoint(ctx, id);
      evaluate(ctx);
      const text = opa_json_dump(opa_eval_ctx_get_result(ctx));
      const memory = new Uint8Array(loaded.mem.buffer);
      let end = text;
      while (memory[end] !== 0) end++;
      return decoder.decode(memory.subarray(text, end));
    });
  }

  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      const error = toEngineError(err);
      if (err instanceof HostBuiltinError) {
        const location = this.hostCallSite();
        if (location) throw new EngineError(error.code, error.message, location);
      }
      throw error;
    }
  }

  private sites: readonly string[] | undefined;

  /** Where the host builtin call that failed was written (Verdict-built modules record it). */
  private hostCallSite(): SourceLocation | undefined {
    const loaded = this.policy as unknown as LoadedInstance;
    const exports = loaded.wasmInstance.exports;
    if (!exports.verdict_site || !exports.verdict_sites || !exports.opa_json_dump) return undefined;
    if (!this.sites) {
      const addr = exports.opa_json_dump(exports.verdict_sites());
      const memory = new Uint8Array(loaded.mem.buffer);
      let end = addr;
      while (memory[end] !== 0) end++;
      this.sites = JSON.parse(decoder.decode(memory.subarray(addr, end))) as string[];
    }
    const site = this.sites[exports.verdict_site()];
    return site === undefined ? undefined : parseLocation(site);
  }
}

/**
 * Where an instance's memory starts: the minimum the module declares for its imported memory
 * (Verdict's runtime declares 1 page; modules built by OPA may declare more), so thousands of
 * idle instances do not each hold memory they never touch (V8 counts it toward full
 * collections). The memory grows as evaluations need. At least 1: the SDK takes 0 for "unset"
 * and would start at 5; a module with no readable memory import starts at 1 too.
 */
function initialMemoryPages(wasm: Uint8Array): number {
  return Math.max(1, declaredMemoryMinimum(wasm) ?? 1);
}

function parseLocation(text: string): SourceLocation | undefined {
  const m = /^(.*):(\d+):(\d+)$/.exec(text);
  return m ? { file: m[1] ?? '', line: Number(m[2]), col: Number(m[3]) } : undefined;
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
  if (text === 'out of memory') {
    // The runtime's allocator could not grow the memory past its cap.
    return new EngineError(
      'eval_memory_error',
      'evaluation ran out of memory (the instance reached its memory cap): the policy builds too much data for one query',
    );
  }
  // Aborts from generated code read `[file:line:col: ]code: message`.
  const coded = /^(?:(.*):(\d+):(\d+): )?(eval_[a-z_]+_error): (.*)$/s.exec(text);
  if (coded) {
    const [, file, line, col, code, message] = coded;
    const location =
      file !== undefined ? { file, line: Number(line), col: Number(col) } : undefined;
    return new EngineError(code as EngineErrorCode, message ?? text, location);
  }
  return new EngineError('eval_internal_error', text);
}
