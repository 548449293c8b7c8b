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
import { toJSONText, type Value } from '../ir/value';
import { parseJSONValue } from '../ir/json';
import type { CoverageMark } from '../ir/types';
import type { CompiledProgram } from '../rego/compile';
import { hasRules, nodeKind, showPath, type RuleNode } from '../rego/compile/tree';
import { compileSources, type SourceFile } from '../query';
import { buildWasm } from '../wasm/compile';

/** Which back end runs the tests: the WASM engine or the reference interpreter. */
export type TestEngine = 'wasm' | 'interp';

/** One test: a `test_*` rule, by its full name and path below `data`. */
export interface TestCase {
  /** `data.rbac_test.test_admin` */
  readonly name: string;
  readonly path: readonly string[];
  readonly position?: Position;
}

/** How one test went: `fail` when it was not true, `error` when it raised an error. */
export interface TestResult extends TestCase {
  readonly status: 'pass' | 'fail' | 'error';
  /** For failures: what the test evaluated to; for errors: the error. */
  readonly detail?: string;
  readonly durationMs: number;
}

/** The coverage of one source file: rules and lines the tests reached, out of all. */
export interface FileCoverage {
  readonly file: string;
  readonly rules: number;
  readonly rulesCovered: number;
  readonly lines: number;
  readonly linesCovered: number;
  /** Rule definitions (name and line) no test made hold. */
  readonly uncovered: readonly { readonly name: string; readonly line: number }[];
}

/** Coverage per file, with the total. */
export interface Coverage {
  readonly files: readonly FileCoverage[];
  /** Covered lines of all files, in percent. */
  readonly percent: number;
}

/** The outcome of `runTests`: a result per test, or the compile errors that stopped them. */
export interface TestRun {
  readonly results: readonly TestResult[];
  /** Compile errors (then no test ran). */
  readonly diagnostics: readonly Diagnostic[];
  /** With `coverage`: which rule definitions the tests made hold. */
  readonly coverage?: Coverage;
}

/** Which tests to run, on which back end, with what limits. */
export interface TestOptions {
  readonly engine?: TestEngine;
  /** Only tests whose name contains this text. */
  readonly filter?: string;
  readonly stepBudget?: number;
  /** Measure which rule definitions the tests make hold (runs through the interpreter). */
  readonly coverage?: boolean;
  /** Told before the WASM build (done 0) and after each test. */
  readonly onProgress?: (done: number, total: number, label: string) => void;
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

/**
 * Compiles `sources` and runs their tests over `data`, in name order. With `coverage` the
 * tests run through the interpreter whatever `engine` says.
 */
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
  // Coverage is measured by the interpreter (the WASM module carries no marks).
  return (options.engine ?? 'wasm') === 'interp' || options.coverage
    ? runInterpreted(program, tests, data, options)
    : runWasm(program, tests, data, options);
}

function runInterpreted(
  program: CompiledProgram,
  tests: readonly TestCase[],
  data: ObjectValue,
  options: TestOptions,
): TestRun {
  const policy = new Planner(program.tree).plan({
    entrypoints: tests.map((t) => t.path),
    coverage: options.coverage ?? false,
  });
  const interpreter = new Interpreter(policy);
  const reached = new Set<number>();
  const results = tests.map((t, i) =>
    runOne(t, i, tests.length, options, () => {
      const rows = interpreter.run(t.path.join('/'), undefined, data, {
        ...(options.stepBudget !== undefined ? { stepBudget: options.stepBudget } : {}),
        print: () => undefined,
        onMark: (id) => reached.add(id),
      });
      return (rows[0] as ObjectValue | undefined)?.get('result');
    }),
  );
  return {
    results,
    diagnostics: [],
    ...(options.coverage ? { coverage: coverageOf(program, policy.marks ?? [], reached) } : {}),
  };
}

/**
 * Coverage per file: a rule definition (or else clause, or default) is covered when a test
 * made its body hold; its lines (head to end) count as covered lines. Rules the tests never
 * reach count too, so a file's figure is over every rule definition in it.
 */
function coverageOf(
  program: CompiledProgram,
  marks: readonly CoverageMark[],
  reached: ReadonlySet<number>,
): Coverage {
  const byFile = new Map<
    string,
    { rules: Map<string, { name: string; line: number; end: number; hit: boolean }> }
  >();
  const entry = (file: string) => {
    let e = byFile.get(file);
    if (!e) byFile.set(file, (e = { rules: new Map() }));
    return e;
  };
  // Every definition of every rule, whether planned or not.
  for (const m of program.modules) {
    for (const rule of m.rules) {
      entry(m.file).rules.set(`${rule.loc.line}`, {
        name: rule.head.ref
          .map((t) => (t.type === 'var' ? t.name : t.type === 'string' ? t.value : '[…]'))
          .join('.'),
        line: rule.loc.line,
        end: rule.end?.line ?? rule.loc.line,
        hit: false,
      });
    }
  }
  marks.forEach((m, id) => {
    if (!reached.has(id)) return;
    const r = entry(m.file).rules.get(`${m.line}`);
    if (r) r.hit = true;
    else
      entry(m.file).rules.set(`${m.line}`, {
        name: m.name,
        line: m.line,
        end: m.endLine,
        hit: true,
      });
  });
  let allLines = 0;
  let allCovered = 0;
  const files = [...byFile.entries()]
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([file, e]): FileCoverage => {
      const rules = [...e.rules.values()];
      const lines = new Set<number>();
      const covered = new Set<number>();
      for (const r of rules) {
        for (let l = r.line; l <= r.end; l++) {
          lines.add(l);
          if (r.hit) covered.add(l);
        }
      }
      allLines += lines.size;
      allCovered += covered.size;
      return {
        file,
        rules: rules.length,
        rulesCovered: rules.filter((r) => r.hit).length,
        lines: lines.size,
        linesCovered: covered.size,
        uncovered: rules.filter((r) => !r.hit).map((r) => ({ name: r.name, line: r.line })),
      };
    });
  return { files, percent: allLines === 0 ? 100 : (100 * allCovered) / allLines };
}

async function runWasm(
  program: CompiledProgram,
  tests: readonly TestCase[],
  data: ObjectValue,
  options: TestOptions,
): Promise<TestRun> {
  options.onProgress?.(0, tests.length, 'building WebAssembly');
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
  const results = tests.map((t, i) =>
    runOne(t, i, tests.length, options, () => {
      const rows = parseJSONValue(engine.evaluateJSON(t.path.join('/'), undefined));
      const first = Array.isArray(rows) ? (rows as readonly ObjectValue[])[0] : undefined;
      return first?.get('result');
    }),
  );
  return { results, diagnostics: [] };
}

/**
 * Runs test `index` of `total`: `evaluate` gives the test rule's value; an evaluation error is
 * an error result.
 */
function runOne(
  t: TestCase,
  index: number,
  total: number,
  options: TestOptions,
  evaluate: () => Value | undefined,
): TestResult {
  const result = judgeOne(t, evaluate);
  options.onProgress?.(index + 1, total, t.name);
  return result;
}

function judgeOne(t: TestCase, evaluate: () => Value | undefined): TestResult {
  const started = performance.now();
  try {
    const value = evaluate();
    return judge(t, value === undefined ? undefined : toJSONText(value), started);
  } catch (err) {
    if (err instanceof EvalError || err instanceof EngineError) {
      return {
        ...t,
        status: 'error',
        detail: `${err.code}: ${err.message}`,
        durationMs: performance.now() - started,
      };
    }
    throw err;
  }
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
