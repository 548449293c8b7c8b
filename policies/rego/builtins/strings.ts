/**
 * String builtins, with Go's semantics: indexes and lengths count code points (Go runes),
 * trimming works on runes, `replace`/`strings.replace_n` behave like Go's strings.Replacer.
 */
import { SetValue, type Value } from '../../ir/value';
import { goSprintf } from '../../ir/value-text';
import {
  arrayArg,
  collectionItems,
  elementError,
  intArg,
  objectArg,
  operand,
  operandError,
  stringArg,
  stringsArg,
  typeError,
} from './args';
import { builtin, collectionOf, T } from './spec';
import { BuiltinError, type BuiltinDef } from './types';

/** The code points of a string (Go's []rune). */
export function runes(s: string): string[] {
  return Array.from(s);
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

function stringPredicate(name: string, test: (a: string, b: string) => boolean): BuiltinDef {
  return builtin(name, [T.string, T.string], T.boolean, (args) =>
    test(stringArg(name, args, 1), stringArg(name, args, 2)),
  );
}

function stringMap(name: string, f: (s: string) => string): BuiltinDef {
  return builtin(name, [T.string], T.string, (args) => f(stringArg(name, args, 1)));
}

function stringBinary(name: string, f: (a: string, b: string) => string): BuiltinDef {
  return builtin(name, [T.string, T.string], T.string, (args) =>
    f(stringArg(name, args, 1), stringArg(name, args, 2)),
  );
}

/**
 * Maps each code point on its own, keeping it when its mapping is not a single code point:
 * Go's unicode.ToLower/ToUpper have no expansions such as ß → SS (İ lowers to plain i).
 */
function mapRunes(s: string, f: (ch: string) => string): string {
  let out = '';
  for (const ch of s) {
    const m = f(ch);
    out += runes(m).length === 1 ? m : ch === '\u0130' ? 'i' : ch;
  }
  return out;
}

function lower(s: string): string {
  return isAscii(s) ? s.toLowerCase() : mapRunes(s, (c) => c.toLowerCase());
}

function upper(s: string): string {
  return isAscii(s) ? s.toUpperCase() : mapRunes(s, (c) => c.toUpperCase());
}

/** Go's unicode.IsSpace. */
const GO_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/;

function trimRunes(
  s: string,
  drop: (ch: string) => boolean,
  left: boolean,
  right: boolean,
): string {
  const rs = runes(s);
  let start = 0;
  let end = rs.length;
  if (left) while (start < end && drop(rs[start] ?? '')) start++;
  if (right) while (end > start && drop(rs[end - 1] ?? '')) end--;
  return start === 0 && end === rs.length ? s : rs.slice(start, end).join('');
}

function inCutset(cutset: string): (ch: string) => boolean {
  const set = new Set(runes(cutset));
  return (ch) => set.has(ch);
}

/** Go's strings.Split: an empty separator splits into code points. */
export function goSplit(s: string, sep: string): string[] {
  if (sep === '') return runes(s);
  return s.split(sep);
}

/**
 * Go's strings.Replacer: at each position the first pattern (in argument order) that matches
 * wins; an empty pattern matches between code points (never twice in a row at one position).
 * Replaced text is never rescanned.
 */
export function replaceAll(s: string, pairs: readonly (readonly [string, string])[]): string {
  const [first] = pairs;
  if (pairs.length === 1 && first !== undefined && first[0] !== '') {
    return s.split(first[0]).join(first[1]);
  }
  let out = '';
  let i = 0;
  let last = 0;
  let prevEmpty = false;
  while (i <= s.length) {
    let hit: readonly [string, string] | undefined;
    for (const pair of pairs) {
      if (pair[0] === '' && prevEmpty) continue;
      if (s.startsWith(pair[0], i)) {
        hit = pair;
        break;
      }
    }
    prevEmpty = hit?.[0] === '';
    if (hit !== undefined) {
      out += s.slice(last, i) + hit[1];
      i += hit[0].length;
      last = i;
      continue;
    }
    if (i === s.length) break;
    const cp = s.codePointAt(i) ?? 0;
    i += cp > 0xffff ? 2 : 1;
  }
  return out + s.slice(last);
}

const replace = builtin('replace', [T.string, T.string, T.string], T.string, (args) => {
  const s = stringArg('replace', args, 1);
  const old = stringArg('replace', args, 2);
  const replacement = stringArg('replace', args, 3);
  return replaceAll(s, [[old, replacement]]);
});

const replaceN = builtin(
  'strings.replace_n',
  [T.object(T.string, T.string), T.string],
  T.string,
  (args) => {
    const name = 'strings.replace_n';
    const patterns = objectArg(name, args, 1);
    const s = stringArg(name, args, 2);
    const pairs: (readonly [string, string])[] = [];
    for (const [k, v] of patterns) {
      if (typeof k !== 'string') operandError(name, 1, 'non-string key found in pattern object');
      if (typeof v !== 'string') operandError(name, 1, 'non-string value found in pattern object');
      pairs.push([k, v]);
    }
    return replaceAll(s, pairs);
  },
);

const concat = builtin('concat', [T.string, collectionOf(T.string)], T.string, (args) => {
  const sep = stringArg('concat', args, 1);
  const v = operand('concat', args, 2);
  const xs = collectionItems(v);
  if (xs === undefined) typeError('concat', 2, v, 'set', 'array');
  return xs
    .map((x) => {
      if (typeof x !== 'string') elementError('concat', 2, v, x, 'string');
      return x;
    })
    .join(sep);
});

function indexOfRunes(base: string[], search: string[], from: number): number {
  outer: for (let i = from; i + search.length <= base.length; i++) {
    for (let j = 0; j < search.length; j++) if (base[i + j] !== search[j]) continue outer;
    return i;
  }
  return -1;
}

const indexof = builtin('indexof', [T.string, T.string], T.number, (args) => {
  const base = stringArg('indexof', args, 1);
  const search = stringArg('indexof', args, 2);
  if (search === '') throw new BuiltinError('indexof', 'empty search character');
  if (isAscii(base) && isAscii(search)) return base.indexOf(search);
  return indexOfRunes(runes(base), runes(search), 0);
});

const indexofN = builtin('indexof_n', [T.string, T.string], T.array(T.number), (args) => {
  const base = runes(stringArg('indexof_n', args, 1));
  const searchText = stringArg('indexof_n', args, 2);
  if (searchText === '') throw new BuiltinError('indexof_n', 'empty search character');
  const search = runes(searchText);
  const out: Value[] = [];
  for (let i = indexOfRunes(base, search, 0); i >= 0; i = indexOfRunes(base, search, i + 1)) {
    out.push(i);
  }
  return out;
});

const substring = builtin('substring', [T.string, T.number, T.number], T.string, (args) => {
  const base = stringArg('substring', args, 1);
  const start = intArg('substring', args, 2);
  const length = intArg('substring', args, 3);
  if (start < 0) throw new BuiltinError('substring', 'negative offset');
  const rs = runes(base);
  if (start >= rs.length) return '';
  return rs.slice(start, length < 0 ? undefined : start + length).join('');
});

/** Go's strings.Count: non-overlapping occurrences; an empty substring counts runes + 1. */
const stringsCount = builtin('strings.count', [T.string, T.string], T.number, (args) => {
  const s = stringArg('strings.count', args, 1);
  const sub = stringArg('strings.count', args, 2);
  if (sub === '') return runes(s).length + 1;
  return s.split(sub).length - 1;
});

function anyAffixMatch(name: string, test: (s: string, affix: string) => boolean): BuiltinDef {
  const strOrCollection = T.anyOf(T.string, T.array(T.string), T.set(T.string));
  return builtin(name, [strOrCollection, strOrCollection], T.boolean, (args) => {
    const list = (pos: number): string[] => {
      const v = operand(name, args, pos);
      if (typeof v === 'string') return [v];
      if (Array.isArray(v) || v instanceof SetValue) return stringsArg(name, args, pos);
      typeError(name, pos, v, 'string', 'set', 'array');
    };
    const strs = list(1);
    const affixes = list(2);
    return strs.some((s) => affixes.some((a) => test(s, a)));
  });
}

/** strings.split_n: the first n parts (n > 0), the last -n parts (n < 0), or none (n = 0). */
const splitN = builtin(
  'strings.split_n',
  [T.string, T.string, T.number],
  T.array(T.string),
  (args) => {
    const s = stringArg('strings.split_n', args, 1);
    const sep = stringArg('strings.split_n', args, 2);
    const n = intArg('strings.split_n', args, 3);
    const parts = goSplit(s, sep);
    if (n >= 0) return parts.slice(0, n);
    return parts.slice(Math.max(parts.length + n, 0));
  },
);

const sprintf = builtin('sprintf', [T.string, T.array()], T.string, (args) => {
  const format = stringArg('sprintf', args, 1);
  const values = arrayArg('sprintf', args, 2);
  return goSprintf(format, values);
});

export const STRING_BUILTINS: readonly BuiltinDef[] = [
  concat,
  stringPredicate('contains', (a, b) => a.includes(b)),
  stringPredicate('startswith', (a, b) => a.startsWith(b)),
  stringPredicate('endswith', (a, b) => a.endsWith(b)),
  stringMap('lower', lower),
  stringMap('upper', upper),
  builtin('split', [T.string, T.string], T.array(T.string), (args) =>
    goSplit(stringArg('split', args, 1), stringArg('split', args, 2)),
  ),
  replace,
  replaceN,
  stringBinary('trim', (s, c) => trimRunes(s, inCutset(c), true, true)),
  stringBinary('trim_left', (s, c) => trimRunes(s, inCutset(c), true, false)),
  stringBinary('trim_right', (s, c) => trimRunes(s, inCutset(c), false, true)),
  stringBinary('trim_prefix', (s, p) => (s.startsWith(p) ? s.slice(p.length) : s)),
  stringBinary('trim_suffix', (s, p) => (p !== '' && s.endsWith(p) ? s.slice(0, -p.length) : s)),
  stringMap('trim_space', (s) => trimRunes(s, (ch) => GO_SPACE.test(ch), true, true)),
  sprintf,
  indexof,
  indexofN,
  substring,
  stringsCount,
  stringMap('strings.reverse', (s) => runes(s).reverse().join('')),
  anyAffixMatch('strings.any_prefix_match', (s, p) => s.startsWith(p)),
  anyAffixMatch('strings.any_suffix_match', (s, p) => s.endsWith(p)),
  splitN,
];
