import { formatDiagnostic, type Diagnostic } from '../../../../policies/diagnostic';
import type { Module, Rule, Term } from '../../../../policies/rego/ast';
import { parseModule, parseQuery, parseTerm } from '../../../../policies/rego/parser';
import { body, sexpr } from './sexpr';

function parse(src: string): Module {
  const result = parseModule(src, 't.rego');
  if (!result.module) throw new Error(result.diagnostics.map(formatDiagnostic).join('\n'));
  expect(result.diagnostics).toEqual([]);
  return result.module;
}

/** Rules of `package t` followed by `src`. */
function rules(src: string): readonly Rule[] {
  return parse(`package t\n${src}`).rules;
}

function rule(src: string): Rule {
  const [r] = rules(src);
  if (!r) throw new Error('no rule');
  return r;
}

function term(src: string): string {
  const result = parseTerm(src);
  if (!result.term) throw new Error(result.diagnostics.map(formatDiagnostic).join('\n'));
  return sexpr(result.term);
}

function errors(src: string): Diagnostic[] {
  const result = parseModule(src, 't.rego');
  expect(result.module).toBeUndefined();
  expect(result.diagnostics.length).toBeGreaterThan(0);
  return result.diagnostics;
}

/** `file:line:col: message` of each error, for compact expectations. */
function errorLines(src: string): string[] {
  return errors(src).map(formatDiagnostic);
}

function head(r: Rule): string {
  const h = r.head;
  const ref = h.ref.map((p, i) =>
    i === 0 ? sexpr(p) : p.type === 'string' ? `.${p.value}` : `[${sexpr(p)}]`,
  );
  return [
    ref.join(''),
    h.args ? `(${h.args.map(sexpr).join(', ')})` : '',
    h.key ? ` contains ${sexpr(h.key)}` : '',
    h.value ? ` ${h.assign ? ':=' : '='} ${sexpr(h.value)}` : '',
  ].join('');
}

describe('packages and imports', () => {
  it('reads dotted and bracketed package paths', () => {
    expect(parse('package a.b["c-d"].e').package.path).toEqual(['a', 'b', 'c-d', 'e']);
    expect(parse('package a.if').package.path).toEqual(['a', 'if']);
  });

  it('reads imports with aliases, future keywords and rego versions', () => {
    const m = parse(
      'package t\nimport data.a.b\nimport input.user as u\nimport future.keywords\nimport future.keywords.in\nimport rego.v1',
    );
    expect(m.imports.map((i) => `${sexpr(i.path)}${i.alias ? ` as ${i.alias}` : ''}`)).toEqual([
      'data.a.b',
      'input.user as u',
      'future.keywords',
      'future.keywords.in',
      'rego.v1',
    ]);
    expect(m.imports[1]?.loc).toMatchObject({ line: 3, col: 1 });
  });

  it.each([
    [
      'package t\nimport foo.bar',
      '2:8: rego_parse_error: unexpected import path: it must begin with data, input, future or rego, got foo',
    ],
    [
      'package t\nimport data.x.in',
      '2:8: rego_parse_error: import path must not end with the keyword in',
    ],
    ['package t\nimport future.keywords.in as k', '`future` imports cannot be aliased'],
    ['package t\nimport future.keywords.maybe', 'invalid future keyword import'],
    ['package t\nimport future.stuff', 'invalid import: must be `future.keywords`'],
    ['package t\nimport rego.v3', 'invalid import: must be `rego.v1` or `rego.v2`'],
    ['package t\nimport data.x as', 'expected an alias name after `as`'],
    [
      'package t\nimport data[x]',
      '2:13: rego_parse_error: an import path must be made of names or strings',
    ],
  ])('rejects %j', (src, message) => {
    expect(errorLines(src).join('\n')).toContain(message);
  });

  it('requires one package, first', () => {
    expect(errorLines('')).toEqual(
      [
        '<query>:1:1: rego_parse_error: empty module: start the file with a package declaration, like `package authz`',
      ].map((l) => l.replace('<query>', 't.rego')),
    );
    expect(errorLines('p := 1\npackage t')[0]).toContain(
      't.rego:1:1: rego_parse_error: package expected',
    );
    expect(errorLines('package a\npackage b')[0]).toContain(
      't.rego:2:1: rego_parse_error: unexpected package',
    );
  });
});

describe('rules', () => {
  it('reads complete rules, constants and defaults', () => {
    const [a, b, c, d] = rules(
      'default allow := false\nallow if input.admin\nx = 7\ny := {"a": [1]}',
    );
    expect(a?.default).toBe(true);
    expect(head(a as Rule)).toBe('allow := false');
    expect(head(b as Rule)).toBe('allow');
    expect(body((b as Rule).body)).toBe('input.admin');
    expect(b?.ifKeyword).toBe(true);
    expect(head(c as Rule)).toBe('x = 7');
    expect(c?.body).toEqual([]);
    expect(head(d as Rule)).toBe('y := {"a": [1]}');
  });

  it('reads multi-value rules, partial objects and ref heads', () => {
    const [set, obj, ref, single] = rules(
      'deny contains msg if msg := "no"\np[k] := v if { some k, v in input }\na.b[x] := y if { x := 1; y := 2 }\nq[x] if x := 1',
    );
    expect(head(set as Rule)).toBe('deny contains msg');
    expect(head(obj as Rule)).toBe('p[k] := v');
    expect(head(ref as Rule)).toBe('a.b[x] := y');
    expect(head(single as Rule)).toBe('q[x]');
  });

  it('reads functions, with several definitions and `_` arguments', () => {
    const defs = rules('f(x) := x + 1 if x > 0\nf(_) := 0\nlib.g(a, [b, c]) if { a == b }');
    expect(defs.map(head)).toEqual(['f(x) := plus(x, 1)', 'f($_0) := 0', 'lib.g(a, [b, c])']);
  });

  it('reads else chains with and without values', () => {
    const r = rule('p := 1 if { input.a } else := 2 if { input.b } else = 3');
    expect(
      r.else.map(
        (e) => `${e.assign ? ':=' : '='} ${e.value ? sexpr(e.value) : ''} [${body(e.body)}]`,
      ),
    ).toEqual([':= 2 [input.b]', '= 3 []']);
    expect(rule('p if { false } else { true }').else[0]?.value).toBeUndefined();
  });

  it('turns one head with several bodies into several rules', () => {
    const defs = rules('p[x] := 1 if { x := 1 } { x := 2 }');
    expect(defs.map((r) => `${head(r)} :- ${body(r.body)}`)).toEqual([
      'p[x] := 1 :- assign(x, 1)',
      'p[x] := 1 :- assign(x, 2)',
    ]);
  });

  it('reads `if { }` as a body, and as a literal when it is not a set', () => {
    expect(body(rule('p if { x := 1; x > 0 }').body)).toBe('assign(x, 1); gt(x, 0)');
    expect(body(rule('p if { x }').body)).toBe('x');
    expect(body(rule('p if {} == {}').body)).toBe('equal({}, {})');
    expect(body(rule('p if {}').body)).toBe('{}'); // an empty object, as OPA reads it
  });

  it('reports v1 rules without `if` or `contains`', () => {
    expect(errorLines('package t\np { true }')).toEqual([
      't.rego:2:3: rego_parse_error: `if` keyword is required before rule body: write `p if { ... }`',
    ]);
    expect(errorLines('package t\np[x] { x := 1 }')).toEqual([
      't.rego:2:6: rego_parse_error: `if` keyword is required before rule body: write `p if { ... }`',
      't.rego:2:1: rego_parse_error: `contains` keyword is required for partial set rules: write `p contains x if { ... }`',
    ]);
    expect(errorLines('package t\nf(x) { true }')[0]).toContain(
      '`if` keyword is required before function body',
    );
  });

  it.each([
    ['p', 'rule must have a value assignment and/or a body'],
    ['f(x)', 'function must have a value assignment and/or a body'],
    ['default p', 'a default rule needs a value'],
    ['default p := x', 'a default value cannot contain a variable'],
    ['default p := [input.x]', 'a default value cannot contain a reference'],
    ['default f(x, x) := 1', 'default function argument x is repeated'],
    ['default f(1) := 1', 'default function arguments must be variables'],
    ['f(x) contains 1', '`contains` cannot be used with a function'],
    [
      'p[x] := 1 if { x := 1 } else := 2',
      '`else` cannot be used on rules with variables in the head',
    ],
    ['p contains 1 if { true } else := 2', '`else` cannot be used on multi-value'],
    ['p if { true } else', 'expected `:=`, `=`, `if` or "{" after `else`'],
    ['p if', 'expected a body after `if`'],
    ['x == 1', 'rule must have a value assignment and/or a body'],
    ['p := 1 if { true } else := 2 { true } { false }', 'expected `else`'],
  ])('rejects %j', (src, message) => {
    expect(errorLines(`package t\n${src}`).join('\n')).toContain(message);
  });

  it('keeps the default value when it is built only in a comprehension', () => {
    expect(head(rule('default p := [x | x := 1]'))).toBe('p := [x | assign(x, 1)]');
  });
});

describe('bodies and literals', () => {
  it('separates literals by new lines and semicolons', () => {
    expect(body(rule('p if {\n  a\n  b; c\n\n  d\n}').body)).toBe('a; b; c; d');
  });

  it('continues an expression over a line break after an operator or inside brackets', () => {
    expect(body(rule('p if {\n  x := 1 +\n    2\n  y := [1,\n 2]\n}').body)).toBe(
      'assign(x, plus(1, 2)); assign(y, [1, 2])',
    );
  });

  it('reads some, some-in, every, not and with', () => {
    const b = rule(
      'p if {\n some x, y\n some v in xs\n some k, v in obj\n every i, j in xs { i < j }\n not q with input.a as 1 with data.b as [2]\n}',
    ).body;
    expect(b.map((l) => body([l]))).toEqual([
      'some x, y',
      'some v in xs',
      'some k, v in obj',
      'every i, j in xs { lt(i, j) }',
      'not q with input.a as 1 with data.b as [2]',
    ]);
  });

  it('reads not-bodies under future.keywords.not and rego.v2', () => {
    const m = parse(
      'package t\nimport future.keywords.not\np if {\n not input.x + 1 == 2\n not { input.a; input.b }\n}',
    );
    expect(body(m.rules[0]?.body ?? [])).toBe(
      'notbody { equal(plus(input.x, 1), 2) }; notbody! { input.a; input.b }',
    );
    const v2 = parse('package t\nimport rego.v2\np if not { false }');
    expect(body(v2.rules[0]?.body ?? [])).toBe('notbody! { false }');
    expect(body(rule('p if not input.x').body)).toBe('not input.x');
  });

  it.each([
    [
      'p if { a b }',
      't.rego:2:10: rego_parse_error: unexpected name b: expected a new line, ";" or "}"',
    ],
    [
      'p if { every x in y {} }',
      't.rego:2:22: rego_parse_error: found empty body: add at least one expression',
    ],
    ['p if { not some x in y }', '`some` cannot be negated'],
    ['p if { not every x in y { x } }', '`every` cannot be negated'],
    ['p if { some x == y }', 'expected `some x in xs` or `some k, v in xs` after `some`'],
    ['p if { some 1 }', 'expected a variable name after `some`'],
    ['p if { every x in y }', 'expected the body of `every` in braces'],
    ['p if { every [x] in y { true } }', '`every` needs a variable for the value'],
    ['p if { x with 1 as 2 }', 'expected the path to replace after `with`'],
    ['p if { x with y 2 }', 'expected `as` and the replacement value'],
    ['p if { x := 1 = 2 }', 'expected a new line, ";" or "}"'],
  ])('rejects %j', (src, message) => {
    expect(errorLines(`package t\n${src}`).join('\n')).toContain(message);
  });
});

describe('operators', () => {
  it.each([
    ['a + b * c', 'plus(a, mul(b, c))'],
    ['a - b - c', 'minus(minus(a, b), c)'],
    ['a / b % c * d', 'mul(rem(div(a, b), c), d)'],
    ['a & b | c & d', 'or(and(a, b), and(c, d))'],
    ['a | b == c', 'equal(or(a, b), c)'],
    ['a + 1 < b & c', 'lt(plus(a, 1), and(b, c))'],
    ['a < b < c', 'lt(lt(a, b), c)'],
    ['x in xs == y', 'internal.member_2(x, equal(xs, y))'],
    ['x in a in b', 'internal.member_2(internal.member_2(x, a), b)'],
    ['k, v in obj', 'internal.member_3(k, v, obj)'],
    ['(a + b) * c', 'mul(plus(a, b), c)'],
    ['-x.y + 1', 'plus(minus(0, x.y), 1)'],
    ['1 - -2', 'minus(1, -2)'],
    ['- 3', '-3'],
    ['-.5', '-.5'],
    ['[a, b in c]', '[a, internal.member_2(b, c)]'],
  ])('%s is %s', (src, shape) => {
    expect(term(src)).toBe(shape);
  });

  it('reads := and = at the top of a literal only', () => {
    expect(body(rule('p if { x := y + 1; [a, b] = [1, 2] }').body)).toBe(
      'assign(x, plus(y, 1)); eq([a, b], [1, 2])',
    );
    expect(errorLines('package t\np if { f((x := 1)) }').join('\n')).toContain(
      'unexpected token :=: expected ")" to close the parenthesis',
    );
  });

  it('marks infix and unary calls and names operators as refs', () => {
    const t = parseTerm('-x in xs').term as Term;
    expect(t).toMatchObject({ type: 'call', infix: 'in' });
    if (t.type !== 'call') throw new Error('call expected');
    expect(t.operator).toMatchObject({
      head: { type: 'var', name: 'internal' },
      path: [{ type: 'string', value: 'member_2' }],
    });
    expect(t.args[0]).toMatchObject({ type: 'call', unary: true });
    const decode = parseTerm('io.jwt.decode(t)').term;
    expect(decode).toMatchObject({
      type: 'call',
      operator: { head: { name: 'io' }, path: [{ value: 'jwt' }, { value: 'decode' }] },
    });
    expect(decode).not.toHaveProperty('infix');
  });
});

describe('terms', () => {
  it('keeps numbers exactly as written', () => {
    expect(term('123456789123456789123')).toBe('123456789123456789123');
    expect(term('1e1000')).toBe('1e1000');
    expect(term('0.1')).toBe('0.1');
    expect(term('0e5')).toBe('0e5');
  });

  it.each([
    ['007', 'number 007 has a leading zero: remove it'],
    ['1e40000', 'number 1e40000 is too big'],
    ['1e-40000', 'number 1e-40000 is too big'],
    ['"a"[0]', 'a string cannot be indexed or called'],
    ['x. y', 'expected a name after "."'],
    ['[1, 2', 'unexpected end of file: expected "," or "]"'],
    ['{"a": 1 "b"}', 'expected "," or "}" in object'],
    ['{1 2}', 'expected ",", ":" or "}" in set or object'],
    ['f(1 2)', 'expected "," or ")"'],
    ['if', 'unexpected keyword if: expected a term'],
  ])('rejects %j', (src, message) => {
    const result = parseTerm(src, 'q');
    expect(result.term).toBeUndefined();
    expect(result.diagnostics.map(formatDiagnostic).join('\n')).toContain(message);
  });

  it('decodes strings and keeps raw strings raw', () => {
    expect(parseTerm('"a\\tb"').term).toMatchObject({ type: 'string', value: 'a\tb' });
    expect(parseTerm('`a\\tb`').term).toMatchObject({
      type: 'string',
      value: 'a\\tb',
      rawString: true,
    });
  });

  it('reads scalars, collections, empty set and object', () => {
    expect(term('[null, true, false, set(), {}, {1, 2}, {"a": x, 1: [2]}, [,1]]')).toBe(
      '[null, true, false, set(), {}, set(1, 2), {"a": x, 1: [2]}, [1]]',
    );
  });

  it('reads refs with dots, brackets and calls', () => {
    expect(term('data.a["b-c"][x].d')).toBe('data.a.b-c[x].d');
    expect(term('f(x).y[0]')).toBe('f(x).y[0]');
    expect(term('[1, 2][i]')).toBe('[1, 2][i]');
    expect(term('input')).toBe('input');
    expect(parseTerm('input').term).toMatchObject({ type: 'ref', path: [] });
    expect(term('input.in.if')).toBe('input.in.if');
    expect(term('contains(s, "a")')).toBe('contains(s, "a")');
  });

  it('needs refs to touch: a space ends the ref', () => {
    expect(errorLines('package t\np if { x := y [0] }')[0]).toContain('unexpected token [');
  });

  it('reads comprehensions, preferring them over `|` calls', () => {
    expect(term('[x | x := xs[_]]')).toBe('[x | assign(x, xs[$_0])]');
    expect(term('{x | some x in xs}')).toBe('set(x | some x in xs)');
    expect(term('{k: v | some k, v in o}')).toBe('{k: v | some k, v in o}');
    expect(term('{(a | b)}')).toBe('set(or(a, b))');
    expect(term('{a | b, c}')).toBe('set(or(a, b), c)');
  });

  it('renames each wildcard to a distinct variable', () => {
    expect(body(rule('p if { x[_] = y[_]; _ = 1 }').body)).toBe('eq(x[$_0], y[$_1]); eq($_2, 1)');
  });

  it('puts a position on every node', () => {
    const t = parseTerm('f(a.b, [1])', 'q.rego').term;
    expect(t).toMatchObject({
      loc: { file: 'q.rego', line: 1, col: 1, offset: 0 },
      end: { offset: 11 },
      args: [
        { loc: { col: 3 }, head: { loc: { col: 3 } }, path: [{ loc: { col: 5 } }] },
        { loc: { col: 8 }, items: [{ loc: { col: 9 } }] },
      ],
    });
  });
});

describe('annotations', () => {
  it('attaches METADATA blocks to the rule or package after them', () => {
    const m = parse(
      '# METADATA\n# title: Authz\n# description: decides\npackage t\n\n# METADATA\n# title: Allow\n# custom:\n#   severity: high\nallow if true\n',
    );
    expect(m.package.annotations).toMatchObject([
      { scope: 'package', fields: { title: 'Authz', description: 'decides' }, loc: { line: 1 } },
    ]);
    expect(m.rules[0]?.annotations).toMatchObject([
      { scope: 'rule', fields: { title: 'Allow', custom: { severity: 'high' } } },
    ]);
  });

  it('reads an explicit scope and checks it against what follows', () => {
    const m = parse('package t\n# METADATA\n# scope: document\n# title: P\np := 1');
    expect(m.rules[0]?.annotations[0]?.scope).toBe('document');
    expect(errorLines('package t\n# METADATA\n# scope: package\np := 1')[0]).toContain(
      't.rego:2:1: rego_parse_error: annotation scope package must be applied to a package',
    );
    expect(errorLines('package t\n# METADATA\n# scope: everything\np := 1')[0]).toContain(
      'invalid annotation scope "everything"',
    );
  });

  it('reports YAML errors and blocks that precede nothing', () => {
    expect(errorLines('package t\n# METADATA\n# title: [unclosed\np := 1')[0]).toContain(
      't.rego:2:1: rego_parse_error: invalid YAML in METADATA block',
    );
    expect(errorLines('package t\np := 1\n# METADATA\n# title: x\n')[0]).toContain(
      'METADATA block must come right before a package or a rule',
    );
  });
});

describe('errors', () => {
  it('reports several errors per file, one per broken statement, with the offending token', () => {
    const diagnostics = errors(
      'package t\np if { x := [1, 2 }\nq := 1\nr if { y := }\ns := "a\\q"\n',
    );
    expect(diagnostics.map(formatDiagnostic)).toEqual([
      't.rego:2:19: rego_parse_error: unexpected token }: expected "," or "]"',
      't.rego:4:13: rego_parse_error: unexpected token }: expected a term',
      expect.stringContaining('t.rego:5:8: rego_parse_error: illegal escape sequence "\\\\q"'),
    ]);
    expect(diagnostics[0]?.token).toBe('}');
  });

  it('bounds operator chains like nesting, so later stages never recurse too deep', () => {
    const long = Array.from({ length: 400 }, (_, i) => `x${i}`).join(' + ');
    expect(errorLines(`package t\np := ${long}`)[0]).toContain('nested more than 250 levels deep');
  });

  it('survives input nested far too deeply', () => {
    const deep = `package t\np := ${'['.repeat(20000)}`;
    const result = parseModule(deep, 't.rego');
    expect(result.module).toBeUndefined();
    expect(result.diagnostics[0]?.message).toContain('nested more than');
  });
});

describe('queries and terms', () => {
  it('parses one-line and multi-line queries', () => {
    expect(body(parseQuery('data.test.p = x').query?.body ?? [])).toBe('eq(data.test.p, x)');
    expect(body(parseQuery('a = 1; b = 2\nc').query?.body ?? [])).toBe('eq(a, 1); eq(b, 2); c');
  });

  it('reports an empty or broken query', () => {
    expect(parseQuery('  ').diagnostics[0]?.message).toContain('empty query');
    expect(parseQuery('x = ').diagnostics.map(formatDiagnostic)).toEqual([
      '<query>:1:5: rego_parse_error: unexpected end of file: expected a term',
    ]);
  });

  it('parses a single term, sets included, and nothing after it', () => {
    expect(term('{"x": {"a", {"x": 1}}}')).toBe('{"x": set("a", {"x": 1})}');
    expect(parseTerm('1 2').diagnostics[0]?.message).toContain('expected the end of the term');
  });
});
