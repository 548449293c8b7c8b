import type { Diagnostic } from '../../policies/diagnostic';
import type { QueryOutcome, QueryRequest } from '../../policies/query';
import { SetValue, type Value } from '../../policies/ir/value';
import { parseCaseFile, type ConformanceCase } from './corpus';
import { judge, opaErrorText, runCase } from './run-case';

function oneCase(yaml: string): ConformanceCase {
  const [c] = parseCaseFile('demo', 'demo.yaml', `cases:\n${yaml}`);
  if (c === undefined) throw new Error('no case');
  return c;
}

const results = (...rows: Record<string, Value>[]): QueryOutcome => ({
  ok: true,
  results: rows.map((r) => new Map(Object.entries(r))),
});

const failure = (...diagnostics: Diagnostic[]): QueryOutcome => ({ ok: false, diagnostics });

const WANT_X = `  - note: demo/x
    query: data.test.p = x
    modules: ["package test\\np := 1"]
    want_result: [{x: 1}]
`;

const WANT_ERROR = `  - note: demo/err
    query: data.test.p = x
    modules: ["package test\\np := 1 / 0"]
    want_error_code: eval_builtin_error
    want_error: "test-0.rego:2: eval_builtin_error: div: divide by zero"
`;

describe('judge', () => {
  it('passes equal results and explains different ones', () => {
    const c = oneCase(WANT_X);
    expect(judge(c, results({ x: 1 }))).toBeUndefined();
    expect(judge(c, results({ x: 2 }))).toBe(
      'at x: expected 1 got 2; expected [{"x":1}] got [{"x":2}]',
    );
    expect(judge(c, results())).toBe('expected [{"x":1}] got []');
  });

  it('fails an unexpected error with the diagnostic', () => {
    const c = oneCase(WANT_X);
    const outcome = failure({ code: 'rego_parse_error', message: 'unexpected }' });
    expect(judge(c, outcome)).toBe('unexpected error: rego_parse_error: unexpected }');
  });

  it('matches the expected error by code and by text in OPA form', () => {
    const c = oneCase(WANT_ERROR);
    const at = { file: 'demo/demo.yaml#0.rego', line: 2, col: 6, offset: 18 };
    const right: Diagnostic = {
      code: 'eval_builtin_error',
      message: 'div: divide by zero',
      position: at,
    };
    expect(judge(c, failure(right))).toBeUndefined();
    expect(judge(c, failure({ ...right, code: 'eval_type_error' }))).toMatch(
      /^expected error eval_builtin_error/,
    );
    expect(judge(c, failure({ ...right, position: { ...at, line: 3 } }))).toMatch(
      /^expected error/,
    );
    expect(judge(c, results({ x: 1 }))).toBe(
      'expected error eval_builtin_error "test-0.rego:2: eval_builtin_error: div: divide by zero" got [{"x":1}]',
    );
  });

  it('treats want_result: [] as undefined', () => {
    const c = oneCase(`  - note: demo/undefined
    query: data.test.p = x
    modules: ["package test"]
    want_result: []
`);
    expect(judge(c, results())).toBeUndefined();
    expect(judge(c, results({ x: false }))).toBe('expected [] got [{"x":false}]');
  });

  it('compares sets in results with the arrays the YAML spells', () => {
    const c = oneCase(`  - note: demo/set
    query: data.test.p = x
    modules: ["package test"]
    want_result: [{x: [1, 2]}]
`);
    expect(judge(c, results({ x: new SetValue([2, 1]) }))).toBeUndefined();
  });

  it('refuses a case with no expectation', () => {
    const c = oneCase('  - note: demo/none\n    query: "true"\n');
    expect(judge(c, results({}))).toMatch(/has none of want_result/);
  });

  it('judges want_defined', () => {
    const c = oneCase('  - note: demo/defined\n    query: "true"\n    want_defined: true\n');
    expect(judge(c, results({}))).toBeUndefined();
    expect(judge(c, results())).toBe('expected defined got 0 results');
  });
});

describe('opaErrorText', () => {
  it('prints file:line, code and message, naming modules as OPA does', () => {
    const d: Diagnostic = {
      code: 'eval_type_error',
      message: 'count: operand 1 must be one of {array, object, set, string} but got number',
      position: { file: 'x/y.yaml#1.rego', line: 4, col: 2, offset: 40 },
    };
    expect(opaErrorText(d, new Map([['x/y.yaml#1.rego', 'test-1.rego']]))).toBe(
      'test-1.rego:4: eval_type_error: count: operand 1 must be one of {array, object, set, string} but got number',
    );
    expect(opaErrorText({ code: 'eval_conflict_error', message: 'm' }, new Map())).toBe(
      'eval_conflict_error: m',
    );
  });
});

describe('runCase', () => {
  const everything = (): boolean => true;

  it('passes the case to the evaluator with a step budget and strict mode', () => {
    const seen: QueryRequest[] = [];
    const c = oneCase(WANT_X + '    strict_error: true\n    input: {a: 1}\n');
    const r = runCase(c, {
      catalogue: everything,
      stepBudget: 1234,
      evaluate: (req) => {
        seen.push(req);
        return results({ x: 1 });
      },
    });
    expect(r).toMatchObject({ id: 'demo/demo.yaml#0', status: 'passed' });
    expect(seen[0]).toMatchObject({
      query: 'data.test.p = x',
      strictBuiltinErrors: true,
      stepBudget: 1234,
      modules: [{ file: 'demo/demo.yaml#0.rego', text: 'package test\np := 1' }],
    });
  });

  it('counts a crash of the evaluator as a failure', () => {
    const r = runCase(oneCase(WANT_X), {
      catalogue: everything,
      evaluate: () => {
        throw new RangeError('Maximum call stack size exceeded');
      },
    });
    expect(r).toMatchObject({
      status: 'failed',
      reason: 'crash: Maximum call stack size exceeded',
    });
  });

  it('skips by the name of a missing builtin, and when the corpus says so', () => {
    const c = oneCase(`  - note: demo/builtin
    query: data.test.p = x
    modules: ["package test\\np := http.send({})"]
    want_result: [{x: 1}]
`);
    const r = runCase(c, { catalogue: (name) => name !== 'http.send', evaluate: () => results() });
    expect(r).toMatchObject({ status: 'skipped', missingBuiltins: ['http.send'] });
    expect(r.reason).toMatch(/^needs builtin http\.send/);
    const skipped = runCase(oneCase(WANT_X + '    skip: true\n'), { evaluate: () => results() });
    expect(skipped).toMatchObject({ status: 'skipped', reason: 'skipped by the corpus' });
  });

  it('turns input_term into the input through the evaluator', () => {
    const c = oneCase(WANT_X + `    input_term: '{"a": {"b"}}'\n`);
    const term = new SetValue(['b']);
    const inputs: (Value | undefined)[] = [];
    const r = runCase(c, {
      catalogue: everything,
      evaluate: (req) => {
        if (req.query.startsWith('input_term_value := ')) {
          expect(req.query).toBe(`input_term_value := {"a": {"b"}}`);
          return results({ input_term_value: term });
        }
        inputs.push(req.input);
        return results({ x: 1 });
      },
    });
    expect(r.status).toBe('passed');
    expect(inputs).toEqual([term]);
  });

  it('sets the case environment only while the case runs', () => {
    const c = oneCase(WANT_X + '    env: {VERDICT_CONFORMANCE_PROBE: "on"}\n');
    let during: string | undefined;
    runCase(c, {
      catalogue: everything,
      evaluate: () => {
        during = process.env.VERDICT_CONFORMANCE_PROBE;
        return results({ x: 1 });
      },
    });
    expect(during).toBe('on');
    expect(process.env.VERDICT_CONFORMANCE_PROBE).toBeUndefined();
  });
});
