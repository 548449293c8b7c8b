/**
 * One call from Rego sources + data + input + query to results: parse, compile, plan,
 * interpret. Used by `verdict eval`, the conformance harness and tests.
 */
import type { Diagnostic } from './diagnostic';
import type { Value } from './ir/value';

export interface SourceFile {
  readonly file: string;
  readonly text: string;
}

export interface QueryRequest {
  readonly modules: readonly SourceFile[];
  /** A Rego query: `data.test.p = x`, `data.rbac.allow`, or several literals on separate lines. */
  readonly query: string;
  /** Base documents under `data` (JS JSON data or Rego values). */
  readonly data?: Value;
  /** The input document; absent means `input` is undefined. */
  readonly input?: Value;
  /** Builtin errors end the query with `eval_builtin_error` instead of making an expression undefined. */
  readonly strictBuiltinErrors?: boolean;
  /** Fixed clock for `time.now_ns()` (nanoseconds since the epoch); defaults to now. */
  readonly nowNs?: bigint;
  /** Upper bound on evaluation steps before the query stops with `eval_budget_error`. */
  readonly stepBudget?: number;
}

/** One solution of the query: the value of each named query variable. */
export type Bindings = ReadonlyMap<string, Value>;

export type QueryOutcome =
  | { readonly ok: true; readonly results: readonly Bindings[] }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

export function evalQuery(_request: QueryRequest): QueryOutcome {
  return {
    ok: false,
    diagnostics: [{ code: 'eval_internal_error', message: 'the Rego evaluator is not built yet' }],
  };
}
