/**
 * Random and mutated Rego: the parser never throws, never loops, reports errors as values, and
 * does work proportional to the input (counted in parse steps, not measured in time). Whatever
 * parses also formats to text that parses back to the same program.
 *
 * Runs at a fixed seed; fast-check prints the seed and the shrunk input on failure.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { formatModule } from '../../../../policies/rego/format';
import { measureParse, parseModule, parseQuery, parseTerm } from '../../../../policies/rego/parser';
import { comparable } from './ast-compare';

const SEED = 20261127;

/** Parse steps allowed per token: generous, but linear. */
const STEPS_PER_TOKEN = 40;

const FRAGMENTS = [
  'package',
  'import',
  'default',
  'if',
  'else',
  'contains',
  'some',
  'every',
  'in',
  'not',
  'with',
  'as',
  'true',
  'false',
  'null',
  'data',
  'input',
  'future',
  'keywords',
  'rego',
  'v1',
  'v2',
  'set',
  'p',
  'q',
  'x',
  'y',
  '_',
  'f',
  'count',
  'a.b',
  'x[0]',
  'f(x)',
  '0',
  '1',
  '-1',
  '1.5',
  '1e3',
  '007',
  '"s"',
  '"\\n"',
  '"\\q"',
  '`raw`',
  '`',
  '"',
  ':=',
  '=',
  '==',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  '+',
  '-',
  '*',
  '/',
  '%',
  '&',
  '|',
  ',',
  ';',
  ':',
  '.',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  '#c\n',
  '# METADATA\n# title: t\n',
  '\n',
  ' ',
  '\t',
  '~',
  'é',
];

const soup = fc
  .array(fc.constantFrom(...FRAGMENTS), { maxLength: 120 })
  .map((parts) => parts.join(' '));

const soupAfterPackage = soup.map((s) => `package t\n${s}`);

function samples(): string[] {
  const dir = path.resolve(__dirname, '../../../../examples');
  const out: string[] = [];
  const walk = (d: string): void => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith('.rego')) out.push(fs.readFileSync(full, 'utf8'));
    }
  };
  walk(dir);
  out.push(
    'package t\nimport rego.v2\np[x] := y if { some x, y in {1: [a | a := b[_]]}; not { y } } else := 2\n',
    'package t\nf(x) := {k: v | some k in x; v := k * -2}\ng(_) if { [1, 2][i] == 2 with input as {"a": set()} }\n',
  );
  return out;
}

/** Deletes, duplicates or inserts slices of a valid module. */
const mutated = fc
  .tuple(
    fc.constantFrom(...samples()),
    fc.array(
      fc.tuple(
        fc.nat(),
        fc.nat({ max: 12 }),
        fc.constantFrom('del', 'dup', 'ins'),
        fc.constantFrom(...FRAGMENTS),
      ),
      { minLength: 1, maxLength: 4 },
    ),
  )
  .map(([text, edits]) => {
    let s = text;
    for (const [at, len, kind, fragment] of edits) {
      const i = at % (s.length + 1);
      if (kind === 'del') s = s.slice(0, i) + s.slice(i + len);
      else if (kind === 'dup') s = s.slice(0, i) + s.slice(i, i + len) + s.slice(i);
      else s = `${s.slice(0, i)} ${fragment} ${s.slice(i)}`;
    }
    return s;
  });

function checkModule(text: string): void {
  const result = parseModule(text, 'prop.rego');
  // A module exactly when there are no errors; every error is a located parse error.
  expect(result.module === undefined).toBe(result.diagnostics.length > 0);
  for (const d of result.diagnostics) {
    expect(d.code).toBe('rego_parse_error');
    expect(d.position?.line).toBeGreaterThanOrEqual(1);
    expect(d.message.length).toBeGreaterThan(0);
  }
  const { steps, tokens } = measureParse(text);
  expect(steps).toBeLessThanOrEqual(STEPS_PER_TOKEN * tokens + 10);
  if (result.module) {
    const formatted = formatModule(result.module);
    const again = parseModule(formatted, 'prop.rego');
    expect(again.diagnostics).toEqual([]);
    expect(comparable(again.module)).toEqual(comparable(result.module));
    expect(again.module && formatModule(again.module)).toBe(formatted);
  }
}

describe('parser properties', () => {
  it('handles random token soup', () => {
    fc.assert(fc.property(soupAfterPackage, checkModule), { seed: SEED, numRuns: 1000 });
  });

  it('handles mutated valid modules', () => {
    fc.assert(fc.property(mutated, checkModule), { seed: SEED, numRuns: 1000 });
  });

  it('handles arbitrary text as modules, queries and terms', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        checkModule(text);
        const q = parseQuery(text);
        expect(q.query === undefined).toBe(q.diagnostics.length > 0);
        const t = parseTerm(text);
        expect(t.term === undefined).toBe(t.diagnostics.length > 0);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('does linear work on deeply nested and long inputs', () => {
    for (const text of [
      `package t\np := ${'['.repeat(5000)}`,
      `package t\np := ${'{'.repeat(5000)}`,
      `package t\np := ${'('.repeat(5000)}1`,
      `package t\np if { ${'{a | '.repeat(200)}`,
      `package t\np := ${'[a, '.repeat(100)}${']'.repeat(100)}`,
      `package t\np := ${Array.from({ length: 3000 }, (_, i) => `x${i}`).join(' + ')}`,
      `package t\np := ${Array.from({ length: 200 }, (_, i) => `x${i}`).join(' * ')}`,
      `package t\np if ${Array.from({ length: 200 }, (_, i) => `x${i}`).join(' in ')}`,
    ]) {
      checkModule(text);
    }
  });
});
