/**
 * `evalQuery` through the WASM back end: compile the query into a policy.wasm, load it with the
 * opa-wasm SDK (through the engine) and evaluate it. The conformance harness runs every case
 * both ways; `verdict eval --engine wasm` uses it too.
 */
import type { Diagnostic } from '../diagnostic';
import { EngineError, PolicyEngine } from '../engine';
import { parseJSONValue } from '../ir/json';
import { ObjectValue, SetValue, toJS, toJSONText, type Value } from '../ir/value';
import { valueToRego } from '../ir/value-text';
import { compileQuery } from '../rego/compile';
import { parseQuery } from '../rego/parser';
import { compileSources, type Bindings, type QueryOutcome, type QueryRequest } from '../query';
import { buildWasm } from './compile';

/**
 * Evaluates a query as `evalQuery` does, through a policy.wasm and the engine; compile and
 * evaluation errors come back as diagnostics.
 */
export async function evalQueryWasm(request: QueryRequest): Promise<QueryOutcome> {
  const failed = (diagnostics: readonly Diagnostic[]): QueryOutcome => ({ ok: false, diagnostics });
  const compiled = compileSources(request.modules);
  if (!compiled.program) return failed(compiled.diagnostics);
  const parsed = parseQuery(request.query, '<query>');
  if (!parsed.query) return failed(parsed.diagnostics);
  const query = compileQuery(compiled.program, parsed.query.body);
  if (!query.body) return failed(query.diagnostics);
  const build = await buildWasm(
    compiled.program,
    [],
    [{ name: 'query', body: query.body, vars: query.vars }],
  );
  if (!build.wasm) return failed(build.diagnostics);
  try {
    const nowNs = request.nowNs;
    const engine = await PolicyEngine.load(build.wasm, {
      ...(request.stepBudget !== undefined ? { stepBudget: request.stepBudget } : {}),
      ...(request.strictBuiltinErrors !== undefined
        ? { strictBuiltinErrors: request.strictBuiltinErrors }
        : {}),
      ...(nowNs !== undefined ? { now: () => nowNs } : {}),
    });
    if (request.data !== undefined) engine.setData(toJS(request.data));
    // Exact both ways: input written as JSON text, results parsed keeping big numbers.
    // JSON input takes the single-call fast path; input JSON cannot express (sets) is given
    // in Rego's value syntax through the ABI's multi-call path.
    const input = request.input;
    const text =
      input !== undefined && !isJSON(input)
        ? engine.evaluateRegoValue('query', valueToRego(input))
        : engine.evaluateJSON('query', input === undefined ? undefined : toJSONText(input));
    const rows = parseJSONValue(text);
    const results = Array.isArray(rows)
      ? (rows as readonly Value[]).map((row) => bindingsOf(row, query.vars))
      : [];
    return { ok: true, results };
  } catch (err) {
    if (err instanceof EngineError) {
      const l = err.location;
      return failed([
        {
          code: err.code,
          message: err.message,
          ...(l ? { position: { file: l.file, line: l.line, col: l.col, offset: 0 } } : {}),
        },
      ]);
    }
    throw err;
  }
}

/** Can the value be written as JSON without losing anything (no sets, only string keys)? */
function isJSON(v: Value): boolean {
  if (v instanceof SetValue) return false;
  if (Array.isArray(v)) return (v as readonly Value[]).every(isJSON);
  if (v instanceof ObjectValue)
    return v.keys().every((k) => typeof k === 'string') && v.values().every(isJSON);
  return true;
}

function bindingsOf(row: Value, vars: readonly string[]): Bindings {
  const out = new Map<string, Value>();
  if (!(row instanceof ObjectValue)) return out;
  for (const v of vars) {
    const value = row.get(v);
    if (value !== undefined) out.set(v, value);
  }
  return out;
}
