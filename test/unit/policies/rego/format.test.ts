import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatDiagnostic } from '../../../../policies/diagnostic';
import type { Module } from '../../../../policies/rego/ast';
import { formatModule } from '../../../../policies/rego/format';
import { parseModule, parseTerm } from '../../../../policies/rego/parser';
import { comparable } from './ast-compare';

function parse(src: string): Module {
  const result = parseModule(src, 't.rego');
  if (!result.module) throw new Error(result.diagnostics.map(formatDiagnostic).join('\n'));
  return result.module;
}

const fmt = (src: string): string => formatModule(parse(src));

/** Formatting keeps the program and is a fixed point. */
function expectStable(src: string): string {
  const once = fmt(src);
  expect(comparable(parse(once))).toEqual(comparable(parse(src)));
  expect(fmt(once)).toBe(once);
  return once;
}

describe('formatModule', () => {
  it('prints canonical Rego', () => {
    const src = [
      'package   authz.rbac',
      'import data.roles as r',
      'import future.keywords.in',
      'default allow:=false',
      'allow if { input.user == "admin" }',
      'deny contains msg if { not allow; msg := sprintf("%v", [input.user]) }',
      'f(x) = y if { y := x * 2 + 1 } else = 0',
      'q[x] := y if { x := "k"; y := -input.n + (1 - -2) * 3 }',
      'p.q["r-s"] if { every k, v in {"a": 1} { v > 0 } }',
      'c := [x | some x in [1, 2]; x > 1]',
      's := {1, 2} | set()',
      'w := 1e1000',
    ].join('\n');
    expect(expectStable(src)).toBe(
      [
        'package authz.rbac',
        '',
        'import data.roles as r',
        'import future.keywords.in',
        '',
        'default allow := false',
        '',
        'allow if {',
        '\tinput.user == "admin"',
        '}',
        '',
        'deny contains msg if {',
        '\tnot allow',
        '\tmsg := sprintf("%v", [input.user])',
        '}',
        '',
        'f(x) = y if {',
        '\ty := x * 2 + 1',
        '} else = 0',
        '',
        'q[x] := y if {',
        '\tx := "k"',
        '\ty := -input.n + (1 - -2) * 3',
        '}',
        '',
        'p.q["r-s"] if {',
        '\tevery k, v in {"a": 1} {',
        '\t\tv > 0',
        '\t}',
        '}',
        '',
        'c := [x | some x in [1, 2]; x > 1]',
        '',
        's := {1, 2} | set()',
        '',
        'w := 1e1000',
        '',
      ].join('\n'),
    );
  });

  it('keeps one-literal bodies written without braces', () => {
    expect(expectStable('package t\np if input.x\nq contains 1 if not p')).toBe(
      'package t\n\np if input.x\n\nq contains 1 if not p\n',
    );
  });

  it('keeps comments where they were', () => {
    const src = [
      '# header',
      'package t # why t',
      '',
      '# METADATA',
      '# title: P',
      'p if {',
      '  a # first',
      '  # about b',
      '  b',
      '  # before the brace',
      '}',
      'q := [',
      '  1, # one',
      '  # two next',
      '  2',
      ']',
      '# end',
    ].join('\n');
    expect(expectStable(src)).toBe(
      [
        '# header',
        'package t # why t',
        '',
        '# METADATA',
        '# title: P',
        'p if {',
        '\ta # first',
        '\t# about b',
        '\tb',
        '\t# before the brace',
        '}',
        '',
        'q := [',
        '\t1, # one',
        '\t# two next',
        '\t2,',
        ']',
        '# end',
        '',
      ].join('\n'),
    );
    expect(parse(fmt(src)).rules[0]?.annotations[0]?.fields).toEqual({ title: 'P' });
  });

  it('adds the parentheses the grammar needs and no others', () => {
    const cases: [string, string][] = [
      ['(a + b) * c', '(a + b) * c'],
      ['a + (b * c)', 'a + b * c'],
      ['a - (b - c)', 'a - (b - c)'],
      ['(a | b) == c', 'a | b == c'],
      ['(a == b) == c', 'a == b == c'],
      ['a == (b == c)', 'a == (b == c)'],
      ['(x in y) == z', '(x in y) == z'],
      ['[(a | b)]', '[(a | b)]'],
      ['{(a | b), c}', '{(a | b), c}'],
      ['{"k": (a | b)}', '{"k": (a | b)}'],
      ['f((a, b in c))', 'f((a, b in c))'],
      ['[(x + 1) | x := 1]', '[(x + 1) | x := 1]'],
      ['(-x)[0]', '(-x)[0]'],
      ['(a + b).c', '(a + b).c'],
    ];
    for (const [src, want] of cases) {
      const out = fmt(`package t\np if {\n\tv := ${src}\n}\n`);
      expect(out).toBe(`package t\n\np if {\n\tv := ${want}\n}\n`);
      expect(comparable(parseTerm(want).term)).toEqual(comparable(parseTerm(src).term));
    }
  });

  it('prints wildcards as _, raw strings raw, empty sets as set()', () => {
    expect(fmt('package t\np if { x[_] == `a\\b`; s := set(); o := {} }')).toBe(
      'package t\n\np if {\n\tx[_] == `a\\b`\n\ts := set()\n\to := {}\n}\n',
    );
  });

  it('writes multi-line collections one item per line with a trailing comma', () => {
    expect(fmt('package t\np := {"a": 1,\n"b": [2, 3]}')).toBe(
      'package t\n\np := {\n\t"a": 1,\n\t"b": [2, 3],\n}\n',
    );
    expect(fmt('package t\np := f(1,\n2)')).toBe('package t\n\np := f(\n\t1,\n\t2,\n)\n');
  });

  it('prints not-bodies as written', () => {
    const src = 'package t\nimport rego.v2\np if {\n\tnot { input.a; input.b }\n\tnot input.c\n}\n';
    expect(expectStable(src)).toBe(src.replace('import rego.v2\n', '\nimport rego.v2\n\n'));
  });

  it('formats the example bundles as they are committed', () => {
    const dir = path.resolve(__dirname, '../../../../examples/rbac');
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.rego'))) {
      const text = fs.readFileSync(path.join(dir, file), 'utf8');
      expect(fmt(text)).toBe(text);
    }
  });
});
