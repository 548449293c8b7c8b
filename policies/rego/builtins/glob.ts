/**
 * glob.match and glob.quote_meta with the glob syntax OPA uses (gobwas/glob): `*` matches any
 * run of non-delimiter characters, `**` any run at all, `?` one non-delimiter character,
 * `[abc]`, `[!abc]`, `[a-z]`, `[!a-z]` one character, `{a,b}` alternatives, `\` escapes.
 * A pattern is translated to an RE2 expression, so matching is linear in the input.
 */
import { RE2JS } from 're2js';
import { isArray } from '../../ir/value';
import { elementError, operand, stringArg, typeError } from './args';
import { builtin, T } from './spec';
import { BuiltinError, type BuiltinDef } from './types';

type Node =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'any' }
  | { readonly kind: 'super' }
  | { readonly kind: 'single' }
  | { readonly kind: 'list'; readonly chars: string; readonly not: boolean }
  | { readonly kind: 'range'; readonly lo: string; readonly hi: string; readonly not: boolean }
  | { readonly kind: 'anyOf'; readonly alternatives: readonly Node[][] };

class GlobSyntaxError extends Error {}

/** Parses a glob pattern into a sequence of nodes. */
export function parseGlob(pattern: string): Node[] {
  const chars = Array.from(pattern);
  let pos = 0;

  /** Literal text up to (not including) one of `stops`, with escapes resolved. */
  const text = (stops: string): string => {
    let out = '';
    while (pos < chars.length) {
      const c = chars[pos] ?? '';
      if (c === '\\') {
        const next = chars[pos + 1];
        if (next === undefined) throw new GlobSyntaxError('trailing backslash');
        out += next;
        pos += 2;
        continue;
      }
      if (stops.includes(c)) break;
      out += c;
      pos++;
    }
    return out;
  };

  const range = (): Node => {
    // After `[`: optional `!`, then `lo-hi` or a list of characters, then `]`.
    let not = false;
    if (chars[pos] === '!') {
      not = true;
      pos++;
    }
    if (pos >= chars.length) throw new GlobSyntaxError('unexpected end of input');
    let node: Node;
    if (chars[pos + 1] === '-' && pos + 2 < chars.length) {
      const lo = chars[pos] ?? '';
      const hi = chars[pos + 2] ?? '';
      pos += 3;
      if ((hi.codePointAt(0) ?? 0) < (lo.codePointAt(0) ?? 0)) {
        throw new GlobSyntaxError(`hi character '${hi}' should be greater than lo '${lo}'`);
      }
      node = { kind: 'range', lo, hi, not };
    } else {
      const list = text(']');
      if (list === '') throw new GlobSyntaxError('could not parse range');
      node = { kind: 'list', chars: list, not };
    }
    if (pos >= chars.length) throw new GlobSyntaxError('unexpected end of input');
    if (chars[pos] !== ']') throw new GlobSyntaxError('expected close range character');
    pos++;
    return node;
  };

  /** A sequence, ending at the end of input or (inside braces) at `,` or `}`. */
  const sequence = (inBraces: boolean): Node[] => {
    const nodes: Node[] = [];
    while (pos < chars.length) {
      const c = chars[pos];
      if (inBraces && (c === ',' || c === '}')) break;
      if (c === '*') {
        pos++;
        if (chars[pos] === '*') {
          pos++;
          nodes.push({ kind: 'super' });
        } else nodes.push({ kind: 'any' });
      } else if (c === '?') {
        pos++;
        nodes.push({ kind: 'single' });
      } else if (c === '[') {
        pos++;
        nodes.push(range());
      } else if (c === '{') {
        pos++;
        const alternatives: Node[][] = [sequence(true)];
        while (chars[pos] === ',') {
          pos++;
          alternatives.push(sequence(true));
        }
        if (chars[pos] === '}') pos++; // an unclosed group ends with the pattern
        nodes.push({ kind: 'anyOf', alternatives });
      } else {
        const t = text(inBraces ? '*?[{,}' : '*?[{');
        nodes.push({ kind: 'text', text: t });
      }
    }
    return nodes;
  };

  return sequence(false);
}

function quoteRegex(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

function classChar(c: string): string {
  return /[\\\]^[-]/.test(c) ? '\\' + c : c;
}

function toRegex(nodes: readonly Node[], delimiters: readonly string[]): string {
  const notDelim = delimiters.length === 0 ? '.' : '[^' + delimiters.map(classChar).join('') + ']';
  return nodes
    .map((n) => {
      switch (n.kind) {
        case 'text':
          return quoteRegex(n.text);
        case 'any':
          return notDelim + '*';
        case 'super':
          return '.*';
        case 'single':
          return notDelim;
        case 'list':
          return '[' + (n.not ? '^' : '') + Array.from(n.chars).map(classChar).join('') + ']';
        case 'range':
          return '[' + (n.not ? '^' : '') + classChar(n.lo) + '-' + classChar(n.hi) + ']';
        case 'anyOf':
          return '(?:' + n.alternatives.map((a) => toRegex(a, delimiters)).join('|') + ')';
      }
    })
    .join('');
}

const CACHE_LIMIT = 100;
const cache = new Map<string, RE2JS>();

/** Compiles a glob with the given delimiters into an anchored RE2 expression (cached). */
export function compileGlob(pattern: string, delimiters: readonly string[]): RE2JS {
  const key = JSON.stringify([pattern, delimiters]);
  const hit = cache.get(key);
  if (hit) return hit;
  let nodes: Node[];
  try {
    nodes = parseGlob(pattern);
  } catch (e) {
    if (e instanceof GlobSyntaxError) throw new BuiltinError('glob.match', e.message);
    throw e;
  }
  let re: RE2JS;
  try {
    re = RE2JS.compile('^(?s:' + toRegex(nodes, delimiters) + ')$');
  } catch (e) {
    throw new BuiltinError('glob.match', e instanceof Error ? e.message : String(e));
  }
  if (cache.size >= CACHE_LIMIT) {
    const oldest = cache.keys().next();
    if (oldest.done !== true) cache.delete(oldest.value);
  }
  cache.set(key, re);
  return re;
}

const globMatch = builtin(
  'glob.match',
  [T.string, T.anyOf(T.null, T.array(T.string)), T.string],
  T.boolean,
  (args) => {
    const pattern = stringArg('glob.match', args, 1);
    const delimArg = operand('glob.match', args, 2);
    let delimiters: string[];
    if (delimArg === null) delimiters = [];
    else if (isArray(delimArg)) {
      delimiters = delimArg.map((d) => {
        if (typeof d !== 'string') elementError('glob.match', 2, delimArg, d, 'string');
        if (Array.from(d).length !== 1) elementError('glob.match', 2, delimArg, d, 'rune');
        return d;
      });
      // OPA's default: an empty list means "." is the delimiter.
      if (delimiters.length === 0) delimiters = ['.'];
    } else {
      typeError('glob.match', 2, delimArg, 'array', 'null');
    }
    const subject = stringArg('glob.match', args, 3);
    return compileGlob(pattern, delimiters).test(subject);
  },
);

/** Escapes glob meta characters: `*?\[]{}`. */
export function globQuoteMeta(s: string): string {
  return s.replace(/[*?\\[\]{}]/g, '\\$&');
}

export const GLOB_BUILTINS: readonly BuiltinDef[] = [
  globMatch,
  builtin('glob.quote_meta', [T.string], T.string, (args) =>
    globQuoteMeta(stringArg('glob.quote_meta', args, 1)),
  ),
];
