import { evalQuery, type QueryOutcome } from '../../../policies/query';
import { fromJS, toJS, type JSONValue } from '../../../policies/ir/value';

function run(
  text: string,
  query: string,
  input?: unknown,
  data?: unknown,
  strict = false,
): QueryOutcome {
  return evalQuery({
    modules: [{ file: 'policy.rego', text }],
    query,
    ...(input !== undefined ? { input: fromJS(input) } : {}),
    ...(data !== undefined ? { data: fromJS(data) } : {}),
    strictBuiltinErrors: strict,
    print: () => undefined,
  });
}

/** The value bound to `x` in each result. */
function xs(outcome: QueryOutcome): JSONValue[] {
  if (!outcome.ok) throw new Error(outcome.diagnostics.map((d) => d.message).join('; '));
  return outcome.results.map((b) => {
    const v = b.get('x');
    return v === undefined ? '<unbound>' : toJS(v);
  });
}

function errorOf(outcome: QueryOutcome): { code: string; message: string; line?: number } {
  if (outcome.ok)
    throw new Error(`expected an error, got ${JSON.stringify(outcome.results.length)} results`);
  const d = outcome.diagnostics[0];
  if (!d) throw new Error('no diagnostic');
  return { code: d.code, message: d.message, ...(d.position ? { line: d.position.line } : {}) };
}

describe('rules', () => {
  it('evaluates complete, multi-value, object and function rules', () => {
    const policy = `package t
p contains x if { some x in input.xs; x > 1 }
o[k] := v if { some k, v in {"a": 1, "b": 2} }
f(x) := x * 2
c := f(3)
default d := false
d if input.nope`;
    expect(xs(run(policy, 'data.t = x', { xs: [1, 2, 3] }))).toEqual([
      { c: 6, d: false, o: { a: 1, b: 2 }, p: [2, 3] },
    ]);
  });

  it('tries else clauses in order', () => {
    const policy = `package t
level := "high" if input.n > 10
else := "mid" if input.n > 5
else := "low"`;
    expect(xs(run(policy, 'data.t.level = x', { n: 11 }))).toEqual(['high']);
    expect(xs(run(policy, 'data.t.level = x', { n: 7 }))).toEqual(['mid']);
    expect(xs(run(policy, 'data.t.level = x', { n: 1 }))).toEqual(['low']);
  });

  it('builds nested objects from ref heads', () => {
    const policy = `package t
users[name].roles contains role if { some u in input.users; name := u.name; some role in u.roles }`;
    const input = {
      users: [
        { name: 'ann', roles: ['a', 'b'] },
        { name: 'bob', roles: ['c'] },
      ],
    };
    expect(xs(run(policy, 'data.t.users = x', input))).toEqual([
      { ann: { roles: ['a', 'b'] }, bob: { roles: ['c'] } },
    ]);
  });

  it('reorders bodies so that variables are bound before use', () => {
    const policy = `package t
p := y if { y > 1; y := input.v }`;
    expect(xs(run(policy, 'data.t.p = x', { v: 2 }))).toEqual([2]);
  });

  it('merges base documents with the rules below a path', () => {
    const policy = `package t.sub
r := 1`;
    expect(xs(run(policy, 'data.t = x', undefined, { t: { base: true } }))).toEqual([
      { base: true, sub: { r: 1 } },
    ]);
  });

  it('iterates over rule names and base keys in one reference', () => {
    const outcome = evalQuery({
      modules: [
        { file: 't.rego', text: 'package t\na := 1\nb := 2' },
        { file: 'q.rego', text: 'package q\nkeys contains k if data.t[k]' },
      ],
      query: 'data.q.keys = x',
      data: fromJS({ t: { c: 3 } }),
    });
    expect(xs(outcome)).toEqual([['a', 'b', 'c']]);
  });

  it('rejects a rule that reads the document it is part of', () => {
    const e = errorOf(run('package t\na := 1\nkeys contains k if data.t[k]', 'data.t.keys = x'));
    expect(e).toMatchObject({ code: 'rego_recursion_error', line: 3 });
  });
});

describe('unification and iteration', () => {
  it('destructures arrays and objects', () => {
    expect(xs(run('package t', '[x, 2] = [1, y]'))).toEqual([1]);
    expect(xs(run('package t', '{"a": x} = {"a": [1]}'))).toEqual([[1]]);
    expect(run('package t', '[x, 2] = [1, 3]')).toEqual({ ok: true, results: [] });
  });

  it('binds keys by iteration on both sides of a comparison', () => {
    const policy = `package t
p := i if { some i; i == input.xs[i] }`;
    expect(xs(run(policy, 'data.t.p = x', { xs: [2, 1, 0] }))).toEqual([1]);
  });

  it('evaluates every, not and comprehensions', () => {
    const policy = `package t
all_small if every v in input.xs { v < 10 }
none_big if not big
big if { some v in input.xs; v > 100 }
evens := [v | some v in input.xs; v % 2 == 0]
doubled := {v: d | some v in input.xs; d := v * 2}`;
    expect(xs(run(policy, 'data.t = x', { xs: [1, 2, 4] }))).toEqual([
      { all_small: true, doubled: { '1': 2, '2': 4, '4': 8 }, evens: [2, 4], none_big: true },
    ]);
  });
});

describe('with', () => {
  it('replaces input and data only for its literal', () => {
    const policy = `package t
allow if input.role == "admin"
p := [a, b] if { a := allow with input.role as "admin"; b := object.get(input, "role", "none") }`;
    expect(xs(run(policy, 'data.t.p = x', { role: 'user' }))).toEqual([[true, 'user']]);
  });

  it('replaces rules, functions and builtins', () => {
    const policy = `package t
f(x) := x + 1
g(x) := x + 100
r := 1
p := [f(1), s, n] if {
  f(1) == 101 with f as g
  s := r with data.t.r as 5
  n := count([1, 2]) with count as 7
}`;
    expect(xs(run(policy, 'data.t.p = x'))).toEqual([[2, 5, 7]]);
  });
});

describe('errors', () => {
  it('reports conflicting values of a complete rule', () => {
    const e = errorOf(run('package t\np := 1\np := 2', 'data.t.p = x'));
    expect(e.code).toBe('eval_conflict_error');
    expect(e.message).toContain('rule data.t.p produced conflicting values');
  });

  it('reports conflicting function outputs', () => {
    const e = errorOf(run('package t\nf(_) := 1\nf(_) := 2', 'data.t.f(1) = x'));
    expect(e.code).toBe('eval_conflict_error');
    expect(e.message).toContain('function data.t.f produced conflicting values');
  });

  it('reports unsafe variables with their position', () => {
    const e = errorOf(run('package t\n\np if { x > 1 }', 'data.t.p = x'));
    expect(e).toMatchObject({ code: 'rego_unsafe_var_error', message: 'var x is unsafe', line: 3 });
  });

  it('reports recursion', () => {
    const e = errorOf(run('package t\np if q\nq if p', 'data.t.p = x'));
    expect(e.code).toBe('rego_recursion_error');
    expect(e.message).toMatch(/data\.t\.[pq] -> data\.t\.[pq] -> data\.t\.[pq]/);
  });

  it('reports calls to unknown functions', () => {
    const e = errorOf(run('package t\np if nope(1)', 'data.t.p = x'));
    expect(e).toMatchObject({
      code: 'rego_type_error',
      message: 'undefined function nope',
      line: 2,
    });
  });

  it('makes builtin errors undefined, or fatal in strict mode', () => {
    const policy = 'package t\np := 1 / input.d';
    expect(xs(run(policy, 'data.t.p = x', { d: 0 }))).toEqual([]);
    expect(errorOf(run(policy, 'data.t.p = x', { d: 0 }, undefined, true))).toMatchObject({
      code: 'eval_builtin_error',
    });
  });

  it('stops a runaway query at the step budget', () => {
    const outcome = evalQuery({
      modules: [
        {
          file: 'p.rego',
          text: 'package t\nn := count([1 | some a in numbers.range(1, 1000); some b in numbers.range(1, 1000)])',
        },
      ],
      query: 'data.t.n = x',
      stepBudget: 10_000,
    });
    expect(errorOf(outcome).code).toBe('eval_budget_error');
  });

  it('reports parse errors with a position', () => {
    const e = errorOf(run('package t\np if {', 'data.t.p = x'));
    expect(e.code).toBe('rego_parse_error');
  });
});
