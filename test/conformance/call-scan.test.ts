import { builtinCalls, calledNames, codeOnly, definedNames } from './call-scan';

describe('codeOnly', () => {
  it('blanks comments and string contents but keeps offsets', () => {
    const src = 'p := count("a(b") # f(x)\nq := `raw(`';
    const code = codeOnly(src);
    expect(code).toHaveLength(src.length);
    expect(code).toBe('p := count("   ") ' + ' '.repeat('# f(x)'.length) + '\nq := `    `');
  });

  it('handles escaped quotes and unterminated strings', () => {
    expect(codeOnly('x := "a\\"f(" + g(1)')).toBe('x := "     " + g(1)');
    expect(codeOnly('x := "abc\ny(1)')).toBe('x := "   \ny(1)');
  });
});

describe('calledNames', () => {
  it('finds dotted names called as functions', () => {
    const src =
      'p if {\n\tx := strings.split_n("a", ".", 2)\n\tcount (x) > 0\n\tnot startswith(x[0], "a")\n}';
    expect([...calledNames(src)].sort()).toEqual(['count', 'startswith', 'strings.split_n']);
  });

  it('finds calls nested in calls', () => {
    const src = 'p if { round(units.parse("100m") * 1000) == count(split(x, ","))[0] }';
    expect([...calledNames(src)].sort()).toEqual(['count', 'round', 'split', 'units.parse']);
  });

  it('ignores keywords, refs into data and input, set(), and ref continuations', () => {
    const src = 'p if { not (1 == 2); data.lib.f(1); input.g(2); s := set(); x := y[0].h(3) }';
    expect([...calledNames(src)]).toEqual([]);
  });

  it('ignores calls inside strings and comments', () => {
    expect([...calledNames('x := "http.send(1)" # time.now_ns()')]).toEqual([]);
  });

  it('counts builtins replaced with `with ... as`', () => {
    const src = 'p if { data.test.q with time.now_ns as 1 with input.a as 2 with data.x as 3 }';
    expect([...calledNames(src)]).toEqual(['time.now_ns']);
  });
});

describe('definedNames', () => {
  it('collects heads at depth 0 and import aliases', () => {
    const src = [
      'package test',
      'import rego.v1',
      'import data.lib.helpers',
      'import data.other as o',
      'default allow := false',
      'f(x) := y if {',
      '  y := g(x)',
      '}',
      'a.b.c(x) := 1',
      'foo["bar"](x) := x + 1',
      'r contains x if { x := [',
      '  h(1)',
      '] }',
    ].join('\n');
    const names = definedNames(src);
    expect([...names.rules].sort()).toEqual(['a.b.c', 'allow', 'f', 'foo.bar', 'r']);
    expect([...names.importAliases].sort()).toEqual(['helpers', 'o']);
  });
});

describe('builtinCalls', () => {
  it('leaves out user functions and calls through import aliases', () => {
    const lib = 'package lib\nhelper(x) := x';
    const main =
      'package test\nimport data.lib\nf(x) := x\np := [f(1), lib.helper(2), upper("a"), sprintf("%v", [1])]';
    expect(builtinCalls(['data.test.p = x', main, lib], [main, lib])).toEqual(['sprintf', 'upper']);
  });
});

describe('calledNames and replacements', () => {
  it('reads contains( as the builtin and the rule-head keyword as none', () => {
    expect([...calledNames('p contains x if { contains("abc", "b"); x := 1 }')]).toEqual([
      'contains',
    ]);
    expect([...calledNames('p contains (x) if { x := 1 }')]).toEqual([]);
  });

  it('counts a builtin given as a replacement, but not a variable or a value', () => {
    expect([...calledNames('p := y if { y = f([1]) with f as count }')].sort()).toEqual([
      'count',
      'f',
    ]);
    expect([...calledNames('p if { q with time.now_ns as opa.runtime }')].sort()).toEqual([
      'opa.runtime',
      'time.now_ns',
    ]);
    expect([...calledNames('p if { x := true\n time.now_ns() with time.now_ns as x }')]).toEqual([
      'time.now_ns',
    ]);
    expect([...calledNames('p if { some v in [1]\n q with count as v }')]).toEqual(['count']);
    expect([...calledNames('p if { q with input.a as true with data.b as false }')]).toEqual([]);
  });
});
