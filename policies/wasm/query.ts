/**
 * `evalQuery` through the WASM back end: compile the query into a policy.wasm, load it with the
 * opa-wasm SDK (through the engine) and evaluate it. The conformance harness runs every case
 * both ways; `verdict eval --engine wasm` uses it too.
 */
import type { Diagnostic } from '../diagnostic';
import { EngineError, PolicyEngine } from '../engine';
import { fromJS, toJS, type Value } from '../ir/value';
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
    const rows = engine.evaluate(
      'query',
      request.input === undefined ? undefined : toJS(request.input),
    );
    return { ok: true, results: rows.map((row) => bindingsOf(row, query.vars)) };
  } catch (err) {
    if (err instanceof EngineError) return failed([{ code: err.code, message: err.message }]);
    throw err;
  }
}

function bindingsOf(row: Readonly<Record<string, unknown>>, vars: readonly string[]): Bindings {
  const out = new Map<string, Value>();
  for (const v of vars) if (v in row) out.set(v, fromJS(row[v]));
  return out;
}
