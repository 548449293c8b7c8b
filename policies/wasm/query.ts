/**
 * `evalQuery` through the WASM back end: compile the query into a policy.wasm, load it with the
 * opa-wasm SDK (through the engine) and evaluate it. The conformance harness runs every case
 * both ways; `verdict eval --engine wasm` uses it too.
 */
import type { Diagnostic } from '../diagnostic';
import { EngineError, PolicyEngine } from '../engine';
import { parseJSONValue } from '../ir/json';
import { ObjectValue, toJS, toJSONText, type Value } from '../ir/value';
import { compileQuery } from '../rego/compile';
import { parseQuery } from '../rego/parser';
import { compileSources, type Bindings, type QueryOutcome, type QueryRequest } from '../query';
import { buildWasm } from './compile';

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
    const text = engine.evaluateJSON(
      'query',
      request.input === undefined ? undefined : toJSONText(request.input),
    );
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

function bindingsOf(row: Value, vars: readonly string[]): Bindings {
  const out = new Map<string, Value>();
  if (!(row instanceof ObjectValue)) return out;
  for (const v of vars) {
    const value = row.get(v);
    if (value !== undefined) out.set(v, value);
  }
  return out;
}
