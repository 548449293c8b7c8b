/**
 * Regular expressions with Go's RE2 syntax and semantics (through re2js): regex.match,
 * regex.is_valid, regex.split, regex.find_n, regex.find_all_string_submatch_n, regex.replace,
 * regex.template_match.
 */
import { RE2JS } from 're2js';
import type { Value } from '../../ir/value';
import { goQuote } from '../../ir/value-text';
import { intArg, stringArg } from './args';
import { builtin, T } from './spec';
import { BuiltinError, type BuiltinDef } from './types';

/** The RE2 engine object behind a compiled pattern (Go-style find/all methods). */
type Engine = ReturnType<RE2JS['re2']>;

interface Compiled {
  readonly pattern: RE2JS;
  readonly engine: Engine;
}

const CACHE_LIMIT = 100;
const cache = new Map<string, Compiled>();

/** Compiles a pattern (cached); a syntax error becomes a BuiltinError with Go's message. */
export function compileRegex(name: string, source: string): Compiled {
  const hit = cache.get(source);
  if (hit) return hit;
  let pattern: RE2JS;
  try {
    pattern = RE2JS.compile(source);
  } catch (e) {
    throw new BuiltinError(name, e instanceof Error ? e.message : String(e));
  }
  const compiled = { pattern, engine: pattern.re2() };
  if (cache.size >= CACHE_LIMIT) {
    const oldest = cache.keys().next();
    if (oldest.done !== true) cache.delete(oldest.value);
  }
  cache.set(source, compiled);
  return compiled;
}

/** Index pairs of successive non-overlapping matches (Go's FindAll...Index), n < 0 for all. */
function findAllIndex(re: Compiled, s: string, n: number): number[][] {
  if (n === 0) return [];
  return (re.engine.findAllSubmatchIndex(s, n) as number[][] | null) ?? [];
}

function regexMatch(name: string): BuiltinDef {
  return builtin(name, [T.string, T.string], T.boolean, (args) => {
    const re = compileRegex(name, stringArg(name, args, 1));
    return re.pattern.test(stringArg(name, args, 2));
  });
}

const isValid = builtin('regex.is_valid', [T.string], T.boolean, ([pattern]) => {
  if (typeof pattern !== 'string') return false;
  try {
    compileRegex('regex.is_valid', pattern);
    return true;
  } catch {
    return false;
  }
});

/** Go's Regexp.Split(s, -1). */
const split = builtin('regex.split', [T.string, T.string], T.array(T.string), (args) => {
  const source = stringArg('regex.split', args, 1);
  const s = stringArg('regex.split', args, 2);
  const re = compileRegex('regex.split', source);
  if (source !== '' && s === '') return [''];
  const out: Value[] = [];
  let beg = 0;
  let end = 0;
  for (const [start = 0, stop = 0] of findAllIndex(re, s, -1)) {
    end = start;
    if (stop !== 0) out.push(s.slice(beg, end));
    beg = stop;
  }
  if (end !== s.length) out.push(s.slice(beg));
  return out;
});

const findN = builtin('regex.find_n', [T.string, T.string, T.number], T.array(T.string), (args) => {
  const re = compileRegex('regex.find_n', stringArg('regex.find_n', args, 1));
  const s = stringArg('regex.find_n', args, 2);
  const n = intArg('regex.find_n', args, 3);
  return findAllIndex(re, s, n).map(([start = 0, stop = 0]) => s.slice(start, stop));
});

const findAllSubmatch = builtin(
  'regex.find_all_string_submatch_n',
  [T.string, T.string, T.number],
  T.array(T.array(T.string)),
  (args) => {
    const name = 'regex.find_all_string_submatch_n';
    const re = compileRegex(name, stringArg(name, args, 1));
    const s = stringArg(name, args, 2);
    const n = intArg(name, args, 3);
    return findAllIndex(re, s, n).map((m) => {
      const groups: Value[] = [];
      for (let g = 0; g + 1 < m.length; g += 2) {
        const start = m[g] ?? -1;
        groups.push(start < 0 ? '' : s.slice(start, m[g + 1]));
      }
      return groups;
    });
  },
);

/**
 * Go's Regexp.Expand: `$1`, `${1}`, `$name`, `${name}` insert a group (empty when there is no
 * such group), `$$` is a dollar sign, and a `$` not followed by a name is kept as is.
 */
function expand(
  template: string,
  s: string,
  match: readonly number[],
  names: Readonly<Record<string, number>>,
): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf('$', i);
    if (dollar < 0) {
      out += template.slice(i);
      break;
    }
    out += template.slice(i, dollar);
    i = dollar + 1;
    if (template[i] === '$') {
      out += '$';
      i++;
      continue;
    }
    let name: string | undefined;
    if (template[i] === '{') {
      const close = template.indexOf('}', i);
      const inner = close < 0 ? '' : template.slice(i + 1, close);
      if (/^\w+$/.test(inner)) {
        name = inner;
        i = close + 1;
      }
    } else {
      const m = /^\w+/.exec(template.slice(i));
      if (m) {
        name = m[0];
        i += name.length;
      }
    }
    if (name === undefined) {
      out += '$';
      continue;
    }
    const group = /^\d+$/.test(name) ? Number(name) : names[name];
    if (group === undefined) continue;
    const start = match[2 * group] ?? -1;
    if (start >= 0) out += s.slice(start, match[2 * group + 1]);
  }
  return out;
}

/** Go's Regexp.ReplaceAllString. */
const replace = builtin('regex.replace', [T.string, T.string, T.string], T.string, (args) => {
  const s = stringArg('regex.replace', args, 1);
  const re = compileRegex('regex.replace', stringArg('regex.replace', args, 2));
  const template = stringArg('regex.replace', args, 3);
  const names = re.pattern.namedGroups();
  let out = '';
  let last = 0;
  for (const m of findAllIndex(re, s, -1)) {
    const [start = 0, stop = 0] = m;
    out += s.slice(last, start) + expand(template, s, m, names);
    last = stop;
  }
  return out + s.slice(last);
});

/** Go's regexp.QuoteMeta. */
function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

const templateMatch = builtin(
  'regex.template_match',
  [T.string, T.string, T.string, T.string],
  T.boolean,
  (args) => {
    const name = 'regex.template_match';
    const template = stringArg(name, args, 1);
    const s = stringArg(name, args, 2);
    const open = stringArg(name, args, 3);
    const close = stringArg(name, args, 4);
    for (const [which, d] of [
      ['start', open],
      ['end', close],
    ] as const) {
      const bytes = Buffer.byteLength(d, 'utf8');
      if (bytes !== 1) {
        throw new BuiltinError(
          name,
          `${which} delimiter has to be exactly one character long but is ${bytes} long`,
        );
      }
    }
    let pattern = '^';
    let level = 0;
    let varStart = 0;
    let rawStart = 0;
    for (let i = 0; i < template.length; i++) {
      const c = template[i];
      if (c === open) {
        if (++level === 1) varStart = i;
      } else if (c === close) {
        if (--level === 0) {
          const inner = template.slice(varStart + 1, i);
          compileRegex(name, `^${inner}$`);
          pattern += quoteMeta(template.slice(rawStart, varStart)) + `(${inner})`;
          rawStart = i + 1;
        } else if (level < 0) {
          throw new BuiltinError(name, `unbalanced braces in ${goQuote(template)}`);
        }
      }
    }
    if (level !== 0) throw new BuiltinError(name, `unbalanced braces in ${goQuote(template)}`);
    pattern += quoteMeta(template.slice(rawStart)) + '$';
    return compileRegex(name, pattern).pattern.test(s);
  },
);

export const REGEX_BUILTINS: readonly BuiltinDef[] = [
  regexMatch('regex.match'),
  regexMatch('re_match'),
  isValid,
  split,
  findN,
  findAllSubmatch,
  replace,
  templateMatch,
];
