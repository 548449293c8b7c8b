/**
 * One call from Rego sources + data + input + query to results: parse, compile, plan,
 * interpret. Used by `verdict eval`, the conformance harness and tests.
 */
import { PolicyError, type Diagnostic } from './diagnostic';
import { EvalError, Interpreter } from './ir/interpret';
import { Planner } from './ir/plan';
import type { Policy } from './ir/types';
import { ObjectValue, type Value } from './ir/value';
import type * as ast from './rego/ast';
import { compileModules, compileQuery, type CompiledProgram } from './rego/compile';
import { parseModule, parseQuery } from './rego/parser';

/** One Rego module: its file name (for positions) and text. */
export interface SourceFile {
  readonly file: string;
  readonly text: string;
  /** A module already built from the text (a lowered CASL rule set): used instead of parsing. */
  readonly module?: ast.Module;
}

/** An ad-hoc query against modules and data, with the interpreter's limits. */
export interface QueryRequest {
  readonly modules: readonly SourceFile[];
  /** A Rego query: `data.test.p = x`, `data.rbac.allow`, or several literals on separate lines. */
  readonly query: string;
  /** Base documents under `data` (Rego values; see fromJS). */
  readonly data?: Value;
  /** The input document; absent means `input` is undefined. */
  readonly input?: Value;
  /** Builtin errors end the query with `eval_builtin_error` instead of making an expression undefined. */
  readonly strictBuiltinErrors?: boolean;
  /** Fixed clock for `time.now_ns()` (nanoseconds since the epoch); defaults to now. */
  readonly nowNs?: bigint;
  /** Upper bound on evaluation steps before the query stops with `eval_budget_error`. */
  readonly stepBudget?: number;
  /** Receives `print` output; defaults to standard error. */
  readonly print?: (line: string) => void;
}

/** One solution of the query: the value of each named query variable. */
export type Bindings = ReadonlyMap<string, Value>;

/** The solutions of a query, or the diagnostics that stopped it. */
export type QueryOutcome =
  | { readonly ok: true; readonly results: readonly Bindings[] }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

/** Parses and compiles modules; diagnostics instead of a program on any error. */
export function compileSources(sources: readonly SourceFile[]): {
  program?: CompiledProgram;
  diagnostics: Diagnostic[];
} {
  const diagnostics: Diagnostic[] = [];
  const modules: ast.Module[] = [];
  for (const src of sources) {
    if (src.module) {
      modules.push(src.module);
      continue;
    }
    const parsed = parseModule(src.text, src.file);
    diagnostics.push(...parsed.diagnostics);
    if (parsed.module) modules.push(parsed.module);
  }
  if (diagnostics.length > 0) return { diagnostics };
  return compileModules(modules);
}

/** Compiles a query against a program into an IR policy with one plan named `query`. */
export function planQuery(
  program: CompiledProgram,
  query: string,
): { policy?: Policy; vars: string[]; diagnostics: Diagnostic[] } {
  const parsed = parseQuery(query, '<query>');
  if (!parsed.query) return { vars: [], diagnostics: parsed.diagnostics };
  const compiled = compileQuery(program, parsed.query.body);
  if (!compiled.body) return { vars: compiled.vars, diagnostics: compiled.diagnostics };
  try {
    const policy = new Planner(program.tree).plan({
      queries: [{ name: 'query', body: compiled.body, vars: compiled.vars }],
    });
    return { policy, vars: compiled.vars, diagnostics: [] };
  } catch (err) {
    if (err instanceof PolicyError)
      return { vars: compiled.vars, diagnostics: [...err.diagnostics] };
    throw err;
  }
}

/**
 * Compiles `modules`, plans `query` and runs it through the reference interpreter; compile and
 * evaluation errors come back as diagnostics.
 */
export function evalQuery(request: QueryRequest): QueryOutcome {
  const compiled = compileSources(request.modules);
  if (!compiled.program) return { ok: false, diagnostics: compiled.diagnostics };
  const planned = planQuery(compiled.program, request.query);
  if (!planned.policy) return { ok: false, diagnostics: planned.diagnostics };
  const interpreter = new Interpreter(planned.policy);
  try {
    const results = interpreter.run('query', request.input, request.data ?? new ObjectValue(), {
      ...(request.strictBuiltinErrors !== undefined
        ? { strictBuiltinErrors: request.strictBuiltinErrors }
        : {}),
      ...(request.nowNs !== undefined ? { nowNs: request.nowNs } : {}),
      ...(request.stepBudget !== undefined ? { stepBudget: request.stepBudget } : {}),
      ...(request.print ? { print: request.print } : {}),
    });
    return {
      ok: true,
      results: results.map((r) => {
        const bindings = new Map<string, Value>();
        if (r instanceof ObjectValue)
          for (const v of planned.vars) {
            const value = r.get(v);
            if (value !== undefined) bindings.set(v, value);
          }
        return bindings;
      }),
    };
  } catch (err) {
    if (err instanceof EvalError) return { ok: false, diagnostics: [err.toDiagnostic()] };
    throw err;
  }
}
