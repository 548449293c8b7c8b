/**
 * The contract between the builtins catalogue and the compiler / interpreter.
 *
 * Each builtin declares its signature (used by the type checker to raise `rego_type_error` at
 * compile time) and its implementation for the reference interpreter.
 */
import type { Value } from '../../ir/value';

/** Static types, as OPA's type checker knows them. */
export type TypeSpec =
  | { readonly kind: 'any' }
  | { readonly kind: 'null' }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'number' }
  | { readonly kind: 'string' }
  | { readonly kind: 'array'; readonly of: TypeSpec }
  | { readonly kind: 'set'; readonly of: TypeSpec }
  | { readonly kind: 'object'; readonly key: TypeSpec; readonly value: TypeSpec }
  | { readonly kind: 'anyOf'; readonly of: readonly TypeSpec[] };

/** What a builtin may see of the query it runs in. */
export interface BuiltinContext {
  /** `time.now_ns()` is fixed for the duration of one query. */
  readonly nowNs: bigint;
  /**
   * Per-query memo: builtins that must answer the same within one query (`rand.intn`,
   * `uuid.rfc4122`) store their answers here keyed by their name and arguments.
   */
  readonly memo: Map<string, Value>;
}

/**
 * A builtin's implementation. Returns the result, or `undefined` when the builtin is undefined
 * for these arguments. Throws `BuiltinError` for errors (undefined, or fatal under strict mode)
 * and `BuiltinTypeError` when an operand has the wrong type at run time.
 */
export type BuiltinImpl = (args: readonly Value[], ctx: BuiltinContext) => Value | undefined;

/** A builtin's declaration: its signature for the type checker and its implementation. */
export interface BuiltinDef {
  /** Full name as written in Rego: `count`, `object.get`, `internal.member_2`. */
  readonly name: string;
  readonly args: readonly TypeSpec[];
  /** For variadic builtins (none in Rego today besides `print`), the type of the extra args. */
  readonly variadic?: TypeSpec;
  readonly result: TypeSpec;
  readonly impl: BuiltinImpl;
  /** Answers change between queries (time.now_ns, rand.intn, uuid.rfc4122): never cache. */
  readonly nondeterministic?: boolean;
  /**
   * Relations (e.g. `walk`) produce several outputs for one input: the interpreter iterates
   * over what `relation` yields instead of calling `impl` once.
   */
  readonly relation?: (args: readonly Value[], ctx: BuiltinContext) => Iterable<Value>;
}

/** An error raised by a builtin: message as OPA words it, prefixed by the builtin's name. */
export class BuiltinError extends Error {
  constructor(
    readonly builtin: string,
    detail: string,
  ) {
    super(`${builtin}: ${detail}`);
    this.name = 'BuiltinError';
  }
}

/** An operand with the wrong type at run time (`eval_type_error` in OPA). */
export class BuiltinTypeError extends BuiltinError {
  constructor(builtin: string, detail: string) {
    super(builtin, detail);
    this.name = 'BuiltinTypeError';
  }
}
