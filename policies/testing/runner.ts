/**
 * The Rego test runner: every rule named `test_*` is a test; it passes when it is true.
 * Tests run through the WASM engine by default (what production runs) or the reference
 * interpreter.
 */
import type { Diagnostic, Position } from '../diagnostic';
import { PolicyEngine, EngineError } from '../engine';
import { Interpreter, EvalError } from '../ir/interpret';
import { Planner } from '../ir/plan';
import type { ObjectValue } from '../ir/value';
import { toJSONText } from '../ir/value';
import { parseJSONValue } from '../ir/json';
import type { CompiledProgram } from '../rego/compile';
import { hasRules, nodeKind, showPath, type RuleNode } from '../rego/compile/tree';
import { compileSources, type SourceFile } from '../query';
import { buildWasm } from '../wasm/compile';

export type TestEngine = 'wasm' | 'interp';

export interface TestCase {
  /** `data.rbac_test.test_admin` */
  readonly name: string;
  readonly path: readonly string[];
  readonly position?: Position;
}

export interface TestResult extends TestCase {
  readonly status: 'pass' | 'fail' | 'error';
  /** For failures: what the test evaluated to; for errors: the error. */
  readonly detail?: string;
  readonly durationMs: number;
}

export interface TestRun {
  readonly results: readonly TestResult[];
  /** Compile errors (then no test ran). */
  readonly diagnostics: readonly Diagnostic[];
}

export interface TestOptions {
  readonly engine?: TestEngine;
  /** Only tests whose name contains this text. */
  readonly filter?: string;
  readonly stepBudget?: number;
}

/** The tests of a program: rules (not functions) whose name starts with `test_`. */
export function findTests(program: CompiledProgram): TestCase[] {
  const tests: TestCase[] = [];
  const visit = (node: RuleNode): void => {
    const last = node.path[node.path.length - 1];
    if (last?.startsWith('test_') && hasRules(node) && nodeKind(node) !== 'function') {
      const def = node.defs[0] ?? node.defaultDef;
      tests.push({
        name: showPath(node.path),
        path: node.path,
        ...(def ? { position: def.rule.loc } : {}),
      });
    }
    for (const child of node.children.values()) visit(child);
  };
  visit(program.tree.root);
  return tests.sort((a, b) => a.name.localeCompare(b.name));
}

export async function runTests(
  sources: readonly SourceFile[],
  data: ObjectValue,
  options: TestOptions = {},
): Promise<TestRun> {
  const compiled = compileSources(sources);
  if (!compiled.program) return { results: [], diagnostics: compiled.diagnostics };
  const program = compiled.program;
  const tests = findTests(program).filter(
    (t) => options.filter === undefined || t.name.includes(options.filter),
  );
  if (tests.length === 0) return { results: [], diagnostics: [] };
  return (options.engine ?? 'wasm') === 'interp'
    ? runInterpreted(program, tests, data, options)
    : runWasm(program, tests, data, options);
}

function runInterpreted(
  program: CompiledProgram,
  tests: readonly TestCase[],
  data: ObjectValue,
  options: TestOptions,
): TestRun {
  const policy = new Planner(program.tree).plan({ entrypoints: tests.map((t) => t.path) });
  const interpreter = new Interpreter(policy);
  const results = tests.map((t): TestResult => {
    const started = performance.now();
    try {
      const rows = interpreter.run(t.path.join('/'), undefined, data, {
        ...(options.stepBudget !== undefined ? { stepBudget: options.stepBudget } : {}),
        print: () => undefined,
      });
      const value = (rows[0] as ObjectValue | undefined)?.get('result');
      return judge(t, value === undefined ? undefined : toJSONText(value), started);
    } catch (err) {
      if (err instanceof EvalError)
        return {
          ...t,
          status: 'error',
          detail: `${err.code}: ${err.message}`,
          durationMs: performance.now() - started,
        };
      throw err;
    }
  });
  return { results, diagnostics: [] };
}

async function runWasm(
  program: CompiledProgram,
  tests: readonly TestCase[],
  data: ObjectValue,
  options: TestOptions,
): Promise<TestRun> {
  const built = await buildWasm(
    program,
    tests.map((t) => ({ name: t.path.join('/'), path: t.path })),
  );
  if (!built.wasm) return { results: [], diagnostics: built.diagnostics };
  const engine = await PolicyEngine.load(
    built.wasm,
    options.stepBudget !== undefined ? { stepBudget: options.stepBudget } : {},
  );
  engine.setData(JSON.parse(toJSONText(data)));
  const results = tests.map((t): TestResult => {
    const started = performance.now();
    try {
      const rows = parseJSONValue(engine.evaluateJSON(t.path.join('/'), undefined));
      const first = Array.isArray(rows) ? (rows as readonly ObjectValue[])[0] : undefined;
      const value = first?.get('result');
      return judge(t, value === undefined ? undefined : toJSONText(value), started);
    } catch (err) {
      if (err instanceof EngineError)
        return {
          ...t,
          status: 'error',
          detail: `${err.code}: ${err.message}`,
          durationMs: performance.now() - started,
        };
      throw err;
    }
  });
  return { results, diagnostics: [] };
}

function judge(t: TestCase, value: string | undefined, started: number): TestResult {
  const durationMs = performance.now() - started;
  if (value === 'true') return { ...t, status: 'pass', durationMs };
  return {
    ...t,
    status: 'fail',
    detail: value === undefined ? 'undefined' : `evaluated to ${value}`,
    durationMs,
  };
}
