/**
 * The reference interpreter: runs an IR policy in TypeScript. It defines what the IR means;
 * the WASM back end must agree with it on every conformance case.
 */
import type { Diagnostic, DiagnosticCode } from '../diagnostic';
import { lookupBuiltin } from '../rego/builtins';
import {
  BuiltinError,
  BuiltinTypeError,
  type BuiltinContext,
  type BuiltinDef,
} from '../rego/builtins/types';
import { decodeConst } from './consts';
import type { Block, ConflictInfo, Func, Operand, Plan, Policy, Stmt } from './types';
import { ObjectValue, SetValue, equal, isTruthy, type Value } from './value';

/** Per-query settings of `Interpreter.run`. */
export interface InterpretOptions {
  /** Builtin errors end the query (`eval_builtin_error`) instead of making a call undefined. */
  readonly strictBuiltinErrors?: boolean;
  /** `time.now_ns()` for this query. */
  readonly nowNs?: bigint;
  /** Maximum statements executed before the query stops with `eval_budget_error`. */
  readonly stepBudget?: number;
  /** Receives `print` output; defaults to standard error. */
  readonly print?: (line: string) => void;
  /** Receives the id of every `mark` statement executed (test coverage). */
  readonly onMark?: (id: number) => void;
  /** Looks up builtins; defaults to Verdict's catalogue. */
  readonly builtins?: (name: string) => BuiltinDef | undefined;
}

/** An error that ends evaluation: a conflict, a strict builtin error, the step budget. */
export class EvalError extends Error {
  constructor(
    readonly code: DiagnosticCode,
    message: string,
    readonly location?: { file?: string; line?: number; col?: number },
  ) {
    super(message);
    this.name = 'EvalError';
  }

  /** The error as a diagnostic, positioned when its location names a file and line. */
  toDiagnostic(): Diagnostic {
    const l = this.location;
    return {
      code: this.code,
      message: this.message,
      ...(l?.file !== undefined && l.line !== undefined
        ? { position: { file: l.file, line: l.line, col: l.col ?? 1, offset: 0 } }
        : {}),
    };
  }
}

type Locals = (Value | undefined)[];
type Replacement = { readonly func: string } | { readonly value: Value };

export const DEFAULT_STEP_BUDGET = 50_000_000;

/**
 * The reference back end: runs the plans of an IR policy directly in TypeScript, for ad-hoc
 * queries, tests and CASL decisions.
 */
export class Interpreter {
  private readonly consts: readonly Value[];
  private readonly funcs = new Map<string, Func>();
  private readonly plans = new Map<string, Plan>();

  constructor(policy: Policy) {
    this.consts = policy.consts.map(decodeConst);
    for (const f of policy.funcs) this.funcs.set(f.name, f);
    for (const p of policy.plans) this.plans.set(p.name, p);
  }

  /** The names of the policy's plans: its entrypoints and queries. */
  planNames(): string[] {
    return [...this.plans.keys()];
  }

  /** Runs a plan; returns its result set (one object of bindings per solution). */
  run(
    planName: string,
    input: Value | undefined,
    data: Value,
    options: InterpretOptions = {},
  ): Value[] {
    const plan = this.plans.get(planName);
    if (!plan) throw new EvalError('eval_internal_error', `no entrypoint named ${planName}`);
    const run = new Run(this, options);
    const locals: Locals = new Array<Value | undefined>(plan.locals);
    locals[0] = input;
    locals[1] = data;
    run.block(plan.block, locals);
    return run.results;
  }

  /** Constant `index` of the policy's table, decoded. */
  constValue(index: number): Value {
    return this.consts[index] as Value;
  }

  /** The function named `name`; undefined when the policy has none. */
  func(name: string): Func | undefined {
    return this.funcs.get(name);
  }
}

/** The state of one evaluation. */
class Run {
  readonly results: Value[] = [];
  private steps = 0;
  private readonly budget: number;
  private readonly strict: boolean;
  private readonly builtins: (name: string) => BuiltinDef | undefined;
  private readonly ctx: BuiltinContext;
  /** Rule results per `with` frame (innermost last). */
  private readonly memo: Map<string, Value | null>[] = [new Map<string, Value | null>()];
  /** Documents replaced by `with data.x as v`: path → value (innermost last). */
  private readonly overrides: { path: readonly Value[]; value: Value }[] = [];
  /** Where the builtin call being made was written (for strict-mode errors). */
  private location: { file: string; line: number; col: number } | undefined;
  /** Functions replaced by `with f as g`. */
  private readonly mocks: { func: string; replacement: Replacement }[] = [];

  constructor(
    private readonly interp: Interpreter,
    private readonly options: InterpretOptions,
  ) {
    this.budget = options.stepBudget ?? DEFAULT_STEP_BUDGET;
    this.strict = options.strictBuiltinErrors ?? false;
    this.builtins = options.builtins ?? lookupBuiltin;
    this.ctx = { nowNs: options.nowNs ?? BigInt(Date.now()) * 1_000_000n, memo: new Map() };
  }

  private read(op: Operand, locals: Locals): Value | undefined {
    return 'local' in op ? locals[op.local] : this.interp.constValue(op.const);
  }

  /** Runs a block; true when every statement held. */
  block(block: Block, locals: Locals): boolean {
    for (const stmt of block.stmts) {
      if (++this.steps > this.budget) {
        throw new EvalError(
          'eval_budget_error',
          `evaluation stopped after ${this.budget} steps: the policy does too much work for one query (raise the step budget or narrow the iteration)`,
        );
      }
      if (!this.stmt(stmt, locals)) return false;
    }
    return true;
  }

  private stmt(s: Stmt, locals: Locals): boolean {
    switch (s.op) {
      case 'assign': {
        const v = this.read(s.src, locals);
        if (v === undefined) return false;
        locals[s.dst] = v;
        return true;
      }
      case 'assignOnce': {
        const v = this.read(s.src, locals);
        if (v === undefined) return false;
        const prev = locals[s.dst];
        if (prev !== undefined && !equal(prev, v)) throw conflictError(s.conflict);
        locals[s.dst] = v;
        return true;
      }
      case 'reset':
        locals[s.dst] = undefined;
        return true;
      case 'dot': {
        const src = this.read(s.src, locals);
        const key = this.read(s.key, locals);
        if (src === undefined || key === undefined) return false;
        let v = dot(src, key);
        if (v === undefined && s.altKey && src instanceof ObjectValue) {
          const alt = this.read(s.altKey, locals);
          if (alt !== undefined) v = src.get(alt);
        }
        if (v === undefined) return false;
        locals[s.dst] = v;
        return true;
      }
      case 'scan':
        return this.scan(s, locals);
      case 'equal': {
        const a = this.read(s.a, locals);
        const b = this.read(s.b, locals);
        return a !== undefined && b !== undefined && equal(a, b);
      }
      case 'truthy': {
        const v = this.read(s.src, locals);
        return v !== undefined && isTruthy(v);
      }
      case 'isDefined':
        return locals[s.src] !== undefined;
      case 'isUndefined':
        return locals[s.src] === undefined;
      case 'isType': {
        const v = this.read(s.src, locals);
        if (v === undefined) return false;
        if (s.type === 'array') return Array.isArray(v);
        if (s.type === 'set') return v instanceof SetValue;
        return v instanceof ObjectValue;
      }
      case 'len': {
        const v = this.read(s.src, locals);
        if (v === undefined) return false;
        if (Array.isArray(v)) locals[s.dst] = v.length;
        else if (v instanceof SetValue || v instanceof ObjectValue) locals[s.dst] = v.size;
        else return false;
        return true;
      }
      case 'call': {
        // Policy functions take input and data first; either may be undefined (no input given).
        const policyFunc = this.interp.func(s.func) !== undefined;
        const args: (Value | undefined)[] = [];
        for (let i = 0; i < s.args.length; i++) {
          const v = this.read(s.args[i] as Operand, locals);
          if (v === undefined && !(policyFunc && i < 2)) return false;
          args.push(v);
        }
        this.location = s.loc;
        const v = this.call(s.func, args as Value[]);
        if (v === undefined) return false;
        locals[s.dst] = v;
        return true;
      }
      case 'callRelation': {
        const args: Value[] = [];
        for (const a of s.args) {
          const v = this.read(a, locals);
          if (v === undefined) return false;
          args.push(v);
        }
        const def = this.builtins(s.func);
        if (!def?.relation) return false;
        let any = false;
        for (const out of this.guard(def, () => def.relation?.(args, this.ctx)) ?? []) {
          locals[s.dst] = out;
          if (this.block(s.block, locals)) any = true;
        }
        return any;
      }
      case 'not':
        return !this.block(s.block, locals);
      case 'blocks':
        for (const b of s.blocks) this.block(b, locals);
        return true;
      case 'or': {
        let any = false;
        for (const b of s.blocks) if (this.block(b, locals)) any = true;
        return any;
      }
      case 'makeArray':
        locals[s.dst] = [];
        return true;
      case 'makeObject':
        locals[s.dst] = new ObjectValue();
        return true;
      case 'makeSet':
        locals[s.dst] = new SetValue();
        return true;
      case 'arrayAppend': {
        const v = this.read(s.value, locals);
        if (v === undefined) return false;
        (locals[s.array] as Value[]).push(v);
        return true;
      }
      case 'setAdd': {
        const v = this.read(s.value, locals);
        if (v === undefined) return false;
        (locals[s.set] as SetValue).add(v);
        return true;
      }
      case 'objectInsert': {
        const k = this.read(s.key, locals);
        const v = this.read(s.value, locals);
        if (k === undefined || v === undefined) return false;
        const obj = locals[s.obj] as ObjectValue;
        if (s.conflict) {
          const prev = obj.get(k);
          if (prev !== undefined && !equal(prev, v)) throw conflictError(s.conflict);
        }
        obj.set(k, v);
        return true;
      }
      case 'objectInsertPath': {
        const path: Value[] = [];
        for (const p of s.path) {
          const v = this.read(p, locals);
          if (v === undefined) return false;
          path.push(v);
        }
        const v = this.read(s.value, locals);
        if (v === undefined) return false;
        insertPath(locals[s.obj] as ObjectValue, path, v, s.conflict, s.leafSet ?? false);
        return true;
      }
      case 'objectMerge': {
        const src = this.read(s.src, locals);
        if (!(src instanceof ObjectValue)) return false;
        mergeInto(locals[s.dst] as ObjectValue, src);
        return true;
      }
      case 'with':
        return this.with(s, locals);
      case 'withFunction': {
        const replacement: Replacement =
          'func' in s.replacement
            ? { func: s.replacement.func }
            : { value: this.read(s.replacement.value, locals) ?? null };
        if ('value' in s.replacement && this.read(s.replacement.value, locals) === undefined)
          return false;
        this.mocks.push({ func: s.func, replacement });
        this.memo.push(new Map());
        try {
          return this.block(s.block, locals);
        } finally {
          this.memo.pop();
          this.mocks.pop();
        }
      }
      case 'resultAdd': {
        const v = locals[s.value];
        if (v === undefined) return false;
        this.results.push(v);
        return true;
      }
      case 'mark':
        this.options.onMark?.(s.id);
        return true;
      case 'print': {
        const parts = s.args.map((a) => {
          const v = this.read(a, locals);
          return v === undefined ? '<undefined>' : typeof v === 'string' ? v : printValue(v);
        });
        (this.options.print ?? ((line: string) => process.stderr.write(line + '\n')))(
          parts.join(' '),
        );
        return true;
      }
    }
  }

  private scan(s: Extract<Stmt, { op: 'scan' }>, locals: Locals): boolean {
    const src = this.read(s.src, locals);
    if (src === undefined) return false;
    let any = false;
    const visit = (k: Value, v: Value): void => {
      locals[s.key] = k;
      locals[s.value] = v;
      if (this.block(s.block, locals)) any = true;
    };
    if (Array.isArray(src)) {
      const arr = src as readonly Value[];
      for (let i = 0; i < arr.length; i++) visit(i, arr[i] as Value);
    } else if (src instanceof SetValue) {
      for (const m of src) visit(m, m);
    } else if (src instanceof ObjectValue) {
      for (const [k, v] of src) visit(k, v);
    }
    return any;
  }

  private with(s: Extract<Stmt, { op: 'with' }>, locals: Locals): boolean {
    const value = this.read(s.value, locals);
    if (value === undefined) return false;
    const path: Value[] = [];
    for (const p of s.path) {
      const v = this.read(p, locals);
      if (v === undefined) return false;
      path.push(v);
    }
    const slot = s.target === 'input' ? 0 : 1;
    const saved = locals[slot];
    locals[slot] = upsert(saved, path, value);
    this.memo.push(new Map());
    if (s.target === 'data') this.overrides.push({ path, value });
    try {
      return this.block(s.block, locals);
    } finally {
      if (s.target === 'data') this.overrides.pop();
      this.memo.pop();
      locals[slot] = saved;
    }
  }

  /** Calls a builtin or a policy function (honouring `with` mocks). */
  call(name: string, args: readonly Value[]): Value | undefined {
    for (let i = this.mocks.length - 1; i >= 0; i--) {
      const mock = this.mocks[i] as { func: string; replacement: Replacement };
      if (mock.func !== name) continue;
      if ('value' in mock.replacement) return mock.replacement.value;
      const target = mock.replacement.func;
      const targetIsPolicy = this.interp.func(target) !== undefined;
      const sourceIsPolicy = this.interp.func(name) !== undefined;
      // Policy functions take input and data first; builtins do not.
      let callArgs = args;
      if (sourceIsPolicy && !targetIsPolicy) callArgs = args.slice(2);
      if (!sourceIsPolicy && targetIsPolicy)
        callArgs = [this.currentInputData[0], this.currentInputData[1], ...args] as Value[];
      // A replacement runs with no replacements: it sees the original functions.
      const saved = this.mocks.splice(0);
      try {
        return this.callUnmocked(target, callArgs);
      } finally {
        this.mocks.push(...saved);
      }
    }
    return this.callUnmocked(name, args);
  }

  /** input and data as the innermost policy frame sees them (for builtin → function mocks). */
  private currentInputData: [Value | undefined, Value | undefined] = [undefined, undefined];

  private callUnmocked(name: string, args: readonly Value[]): Value | undefined {
    const func = this.interp.func(name);
    if (func) return this.callFunc(func, args);
    const def = this.builtins(name);
    if (!def) throw new EvalError('eval_internal_error', `unknown function ${name}`);
    return this.guard(def, () => def.impl(args, this.ctx));
  }

  private callFunc(func: Func, args: readonly Value[]): Value | undefined {
    const override = this.override(func.path);
    if (override.kind === 'replaced') return override.value;
    const memo = this.memo[this.memo.length - 1] as Map<string, Value | null>;
    if (func.memo) {
      const hit = memo.get(func.name);
      if (hit !== undefined) return hit ?? undefined;
    }
    const locals: Locals = new Array<Value | undefined>(func.locals);
    for (let i = 0; i < args.length; i++) locals[i] = args[i];
    const saved = this.currentInputData;
    this.currentInputData = [args[0], args[1]];
    try {
      this.block(func.block, locals);
    } finally {
      this.currentInputData = saved;
    }
    let result = locals[func.result];
    if (override.kind === 'below' && result !== undefined) {
      for (const o of override.items) result = upsert(result, o.path, o.value);
    }
    if (func.memo) memo.set(func.name, result ?? null);
    return result;
  }

  /** How `with data...` replacements affect a rule at `path`. */
  private override(
    path: readonly string[],
  ):
    | { kind: 'none' }
    | { kind: 'replaced'; value: Value | undefined }
    | { kind: 'below'; items: { path: readonly Value[]; value: Value }[] } {
    if (this.overrides.length === 0) return { kind: 'none' };
    const below: { path: readonly Value[]; value: Value }[] = [];
    for (let i = this.overrides.length - 1; i >= 0; i--) {
      const o = this.overrides[i] as { path: readonly Value[]; value: Value };
      const n = Math.min(o.path.length, path.length);
      let prefix = true;
      for (let j = 0; j < n; j++) if (o.path[j] !== path[j]) prefix = false;
      if (!prefix) continue;
      if (o.path.length <= path.length) {
        let v: Value | undefined = o.value;
        for (let j = o.path.length; j < path.length && v !== undefined; j++)
          v = dot(v, path[j] as string);
        // Replacements made after this one (inner `with`s) still apply below it.
        for (const b of below.reverse()) if (v !== undefined) v = upsert(v, b.path, b.value);
        return { kind: 'replaced', value: v };
      }
      below.push({ path: o.path.slice(path.length), value: o.value });
    }
    return below.length > 0 ? { kind: 'below', items: below.reverse() } : { kind: 'none' };
  }

  private guard<T>(def: BuiltinDef, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      if (err instanceof EvalError) throw err;
      // Builtin errors make the call undefined unless builtin errors are strict.
      if (err instanceof BuiltinError) {
        if (!this.strict) return undefined;
        const code = err instanceof BuiltinTypeError ? 'eval_type_error' : 'eval_builtin_error';
        throw new EvalError(code, err.message, this.location);
      }
      const message = err instanceof Error ? err.message : String(err);
      if (this.strict) throw new EvalError('eval_builtin_error', `${def.name}: ${message}`);
      return undefined;
    }
  }
}

function conflictError(c: ConflictInfo): EvalError {
  return new EvalError(
    c.code,
    c.message,
    c.file !== undefined
      ? {
          file: c.file,
          ...(c.line !== undefined ? { line: c.line } : {}),
          ...(c.col !== undefined ? { col: c.col } : {}),
        }
      : undefined,
  );
}

/** `src[key]`: array index, object key, or set member. */
export function dot(src: Value, key: Value): Value | undefined {
  if (Array.isArray(src)) {
    if (typeof key !== 'number' || !Number.isInteger(key)) return undefined;
    return (src as readonly Value[])[key];
  }
  if (src instanceof ObjectValue) return src.get(key);
  if (src instanceof SetValue) return src.has(key) ? key : undefined;
  return undefined;
}

/** A copy of doc with value placed at path (objects created on the way). */
export function upsert(doc: Value | undefined, path: readonly Value[], value: Value): Value {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [Value, ...Value[]];
  const base = doc instanceof ObjectValue ? doc : new ObjectValue();
  const copy = new ObjectValue(base);
  copy.set(head, upsert(base.get(head), rest, value));
  return copy;
}

function insertPath(
  obj: ObjectValue,
  path: readonly Value[],
  value: Value,
  conflict: ConflictInfo,
  leafSet: boolean,
): void {
  let cur = obj;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i] as Value;
    let next = cur.get(key);
    if (next === undefined) {
      next = new ObjectValue();
      cur.set(key, next);
    } else if (!(next instanceof ObjectValue)) {
      throw conflictError(conflict);
    } else {
      // Values may be shared: copy before writing into them.
      next = new ObjectValue(next);
      cur.set(key, next);
    }
    cur = next;
  }
  const last = path[path.length - 1] as Value;
  const prev = cur.get(last);
  if (leafSet) {
    if (prev !== undefined && !(prev instanceof SetValue)) throw conflictError(conflict);
    cur.set(last, new SetValue(prev ?? []).add(value));
    return;
  }
  if (prev !== undefined && !equal(prev, value)) throw conflictError(conflict);
  cur.set(last, value);
}

/** Deep-merges src into dst (dst is a builder; nested objects are copied, never mutated). */
function mergeInto(dst: ObjectValue, src: ObjectValue): void {
  for (const [k, v] of src) {
    const prev = dst.get(k);
    if (prev instanceof ObjectValue && v instanceof ObjectValue) {
      const merged = new ObjectValue(prev);
      mergeInto(merged, v);
      dst.set(k, merged);
    } else {
      dst.set(k, v);
    }
  }
}

function printValue(v: Value): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v !== 'object') return String(v);
  if (Array.isArray(v)) return '[' + (v as readonly Value[]).map(printValue).join(', ') + ']';
  if (v instanceof SetValue)
    return v.size === 0 ? 'set()' : '{' + v.sorted().map(printValue).join(', ') + '}';
  return (
    '{' +
    (v as ObjectValue)
      .sortedEntries()
      .map(([k, x]) => `${printValue(k)}: ${printValue(x)}`)
      .join(', ') +
    '}'
  );
}
