/**
 * Values as text: Rego's own syntax (how OPA prints values in `sprintf("%v", ...)` and in error
 * messages) and Go's `fmt` verbs as OPA's `sprintf` applies them to Rego values.
 */
import { isInteger, ObjectValue, SetValue, type RegoNumber, type Value } from './value';

// ---------------------------------------------------------------------------------------------
// Rego syntax

/** A number as Rego writes it: integers in full, floats in their shortest round-trip form. */
export function numberToText(n: RegoNumber): string {
  if (typeof n === 'bigint') return n.toString();
  if (Number.isInteger(n) && Math.abs(n) >= 1e21) return BigInt(n).toString();
  return String(Object.is(n, -0) ? 0 : n);
}

/** A value printed as Rego writes it: `{1, 2}`, `set()`, `{"a": 1}`, `["x", 2.5]`. */
export function valueToRego(v: Value): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
    case 'bigint':
      return numberToText(v);
    case 'string':
      return goQuote(v);
    default:
      if (Array.isArray(v)) return '[' + v.map(valueToRego).join(', ') + ']';
      if (v instanceof SetValue) {
        return v.size === 0 ? 'set()' : '{' + v.sorted().map(valueToRego).join(', ') + '}';
      }
      return (
        '{' +
        (v as ObjectValue)
          .sortedEntries()
          .map(([k, val]) => valueToRego(k) + ': ' + valueToRego(val))
          .join(', ') +
        '}'
      );
  }
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
const SHORT_ESCAPES: Readonly<Record<number, string>> = {
  7: '\\a',
  8: '\\b',
  9: '\\t',
  10: '\\n',
  11: '\\v',
  12: '\\f',
  13: '\\r',
};

/** Go's `strconv.Quote`: a double-quoted string with Go escapes for unprintable characters. */
export function goQuote(s: string, asciiOnly = false): string {
  let out = '"';
  for (const ch of s) {
    out += quoteRune(ch, '"', asciiOnly);
  }
  return out + '"';
}

function quoteRune(chIn: string, quote: string, asciiOnly: boolean): string {
  let cp = chIn.codePointAt(0) ?? 0;
  // A lone surrogate is not a character; Go would see invalid UTF-8 and print U+FFFD.
  if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
  const ch = String.fromCodePoint(cp);
  if (ch === quote || ch === '\\') return '\\' + ch;
  if (asciiOnly ? cp < 0x80 && PRINTABLE.test(ch) : PRINTABLE.test(ch)) return ch;
  const short = SHORT_ESCAPES[cp];
  if (short !== undefined) return short;
  if (cp < 0x20 || cp === 0x7f) return '\\x' + hex(cp, 2);
  if (cp < 0x10000) return '\\u' + hex(cp, 4);
  return '\\U' + hex(cp, 8);
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

// ---------------------------------------------------------------------------------------------
// Go fmt, as OPA's sprintf feeds it: integers as `int` (or `*big.Int` beyond 64 bits), other
// numbers as `float64`, strings as `string`, and every other value as its Rego text (a string).

type FmtArg =
  | { readonly kind: 'int'; readonly value: bigint; readonly big: boolean }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string };

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function toFmtArg(v: Value): FmtArg {
  if (typeof v === 'number' || typeof v === 'bigint') {
    if (isInteger(v)) {
      const value = BigInt(v);
      return { kind: 'int', value, big: value < INT64_MIN || value > INT64_MAX };
    }
    return { kind: 'float', value: v as number };
  }
  if (typeof v === 'string') return { kind: 'string', value: v };
  return { kind: 'string', value: valueToRego(v) };
}

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width: number | undefined;
  prec: number | undefined;
}

/** Go's fmt refuses widths and precisions beyond this (and so do we, to bound memory). */
const MAX_WIDTH = 1_000_000;

/** `fmt.Sprintf(format, args...)` with OPA's conversion of Rego values to Go values. */
export function goSprintf(format: string, values: readonly Value[]): string {
  const args = values.map(toFmtArg);
  const state: FmtState = { pos: 0, argNum: 0, reordered: false };
  let out = '';
  const n = format.length;
  while (state.pos < n) {
    const pct = format.indexOf('%', state.pos);
    if (pct < 0) {
      out += format.slice(state.pos);
      break;
    }
    out += format.slice(state.pos, pct);
    state.pos = pct + 1;
    let badIndex = false;
    const spec = blankSpec();
    for (; state.pos < n; state.pos++) {
      const c = format[state.pos];
      if (c === '-') spec.minus = true;
      else if (c === '+') spec.plus = true;
      else if (c === '#') spec.sharp = true;
      else if (c === ' ') spec.space = true;
      else if (c === '0') spec.zero = true;
      else break;
    }
    // Width: digits, or `*` taking an int argument.
    badIndex = readArgIndex(format, state, args.length) || badIndex;
    if (format[state.pos] === '*') {
      state.pos++;
      const w = intArg(args, state.argNum++);
      if (w === undefined) out += '%!(BADWIDTH)';
      else {
        spec.width = Math.abs(w);
        if (w < 0) spec.minus = true;
      }
    } else {
      const w = readNumber(format, state);
      if (w !== undefined && w > MAX_WIDTH) out += '%!(BADWIDTH)';
      else spec.width = w;
    }
    // Precision: `.` then digits or `*`.
    if (format[state.pos] === '.') {
      state.pos++;
      badIndex = readArgIndex(format, state, args.length) || badIndex;
      if (format[state.pos] === '*') {
        state.pos++;
        const p = intArg(args, state.argNum++);
        if (p === undefined || p < 0) out += '%!(BADPREC)';
        else spec.prec = p;
      } else {
        const p = readNumber(format, state) ?? 0;
        if (p > MAX_WIDTH) out += '%!(BADPREC)';
        else spec.prec = p;
      }
    }
    // '0' pads with zeros only when not left-justifying.
    if (spec.minus) spec.zero = false;
    badIndex = readArgIndex(format, state, args.length) || badIndex;
    if (state.pos >= n) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(state.pos) ?? 0);
    state.pos += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (badIndex) {
      out += `%!${verb}(BADINDEX)`;
      continue;
    }
    const arg = args[state.argNum];
    if (arg === undefined) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    state.argNum++;
    out += formatArg(arg, verb, spec);
  }
  if (!state.reordered && state.argNum < args.length) {
    const extra = args
      .slice(state.argNum)
      .map((a) => goTypeName(a) + '=' + formatArg(a, 'v', blankSpec()));
    out += '%!(EXTRA ' + extra.join(', ') + ')';
  }
  return out;
}

interface FmtState {
  pos: number;
  argNum: number;
  reordered: boolean;
}

function blankSpec(): Spec {
  return {
    minus: false,
    plus: false,
    sharp: false,
    space: false,
    zero: false,
    width: undefined,
    prec: undefined,
  };
}

/**
 * Reads an optional explicit argument index `[n]` (1-based) and moves to that argument.
 * Returns true when the index is malformed or out of range.
 */
function readArgIndex(format: string, state: FmtState, count: number): boolean {
  if (format[state.pos] !== '[') return false;
  state.reordered = true;
  const close = format.indexOf(']', state.pos);
  if (close < 0) {
    state.pos = format.length;
    return true;
  }
  const text = format.slice(state.pos + 1, close);
  const index = Number(text);
  state.pos = close + 1;
  if (!/^\d+$/.test(text) || index < 1 || index > count) return true;
  state.argNum = index - 1;
  return false;
}

function readNumber(format: string, state: FmtState): number | undefined {
  const start = state.pos;
  while (state.pos < format.length && /[0-9]/.test(format[state.pos] ?? '')) state.pos++;
  return state.pos === start ? undefined : Number(format.slice(start, state.pos));
}

function intArg(args: readonly FmtArg[], argNum: number): number | undefined {
  const a = args[argNum];
  if (a?.kind !== 'int' || a.value > BigInt(MAX_WIDTH) || a.value < -BigInt(MAX_WIDTH)) {
    return undefined;
  }
  return Number(a.value);
}

function goTypeName(a: FmtArg): string {
  if (a.kind === 'int') return a.big ? '*big.Int' : 'int';
  return a.kind === 'float' ? 'float64' : 'string';
}

function badVerb(a: FmtArg, verb: string): string {
  const name = a.kind === 'int' && a.big ? 'big.Int' : goTypeName(a);
  return `%!${verb}(${name}=${formatArg(a, 'v', blankSpec())})`;
}

function formatArg(a: FmtArg, verb: string, spec: Spec): string {
  if (verb === 'T') return pad(goTypeName(a), spec, false);
  switch (a.kind) {
    case 'int':
      return formatInt(a, verb, spec);
    case 'float':
      return formatFloat(a.value, verb, spec) ?? badVerb(a, verb);
    case 'string':
      return formatString(a, verb, spec);
  }
}

function formatInt(a: FmtArg & { kind: 'int' }, verb: string, spec: Spec): string {
  const v = a.value;
  switch (verb) {
    case 'v':
    case 'd':
    case 's':
      if (verb === 's' && !a.big) return badVerb(a, verb);
      return integerDigits(v, 10, '', spec);
    case 'b':
      return integerDigits(v, 2, spec.sharp ? '0b' : '', spec);
    case 'o':
      return integerDigits(v, 8, spec.sharp ? '0' : '', spec);
    case 'O':
      return integerDigits(v, 8, '0o', spec);
    case 'x':
      return integerDigits(v, 16, spec.sharp ? '0x' : '', spec);
    case 'X':
      return integerDigits(v, 16, spec.sharp ? '0X' : '', spec).toUpperCase();
    case 'c':
      if (a.big) return badVerb(a, verb);
      return pad(runeOf(v), spec, false);
    case 'q':
      if (a.big) return badVerb(a, verb);
      return pad("'" + quoteRune(runeOf(v), "'", spec.plus) + "'", spec, false);
    case 'U':
      if (a.big) return badVerb(a, verb);
      return pad(
        'U+' + (v < 0n ? (-v).toString(16) : v.toString(16)).toUpperCase().padStart(4, '0'),
        spec,
        false,
      );
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G':
      // Rego does not tell 3 from 3.0, so a float verb formats any number as a float.
      return formatFloat(Number(v), verb, spec) ?? badVerb(a, verb);
    default:
      return badVerb(a, verb);
  }
}

function runeOf(v: bigint): string {
  const cp = Number(v);
  return v >= 0n && v <= 0x10ffffn && !(cp >= 0xd800 && cp <= 0xdfff)
    ? String.fromCodePoint(cp)
    : '\ufffd';
}

function integerDigits(v: bigint, radix: number, prefix: string, spec: Spec): string {
  const neg = v < 0n;
  let digits = (neg ? -v : v).toString(radix);
  if (spec.prec !== undefined) {
    if (spec.prec === 0 && v === 0n) digits = '';
    digits = digits.padStart(spec.prec, '0');
  }
  const sign = neg ? '-' : spec.plus ? '+' : spec.space ? ' ' : '';
  return padNumber(sign + prefix, digits, spec, spec.prec === undefined);
}

/** Pads a number: zeros go between the sign/prefix and the digits. */
function padNumber(head: string, digits: string, spec: Spec, zeroAllowed: boolean): string {
  const width = spec.width ?? 0;
  const len = head.length + digits.length;
  if (len >= width) return head + digits;
  if (spec.minus) return head + digits + ' '.repeat(width - len);
  if (spec.zero && zeroAllowed) return head + '0'.repeat(width - len) + digits;
  return ' '.repeat(width - len) + head + digits;
}

function pad(s: string, spec: Spec, zeroAllowed: boolean): string {
  const width = spec.width ?? 0;
  const len = Array.from(s).length;
  if (len >= width) return s;
  if (spec.minus) return s + ' '.repeat(width - len);
  return (spec.zero && zeroAllowed ? '0' : ' ').repeat(width - len) + s;
}

function formatString(a: FmtArg & { kind: 'string' }, verb: string, spec: Spec): string {
  let s = a.value;
  if (spec.prec !== undefined && verb !== 'x' && verb !== 'X') {
    s = Array.from(s).slice(0, spec.prec).join('');
  }
  switch (verb) {
    case 'v':
    case 's':
      return pad(s, spec, true);
    case 'q':
      return pad(goQuote(s, spec.plus), spec, false);
    case 'x':
    case 'X': {
      let bytes = [...Buffer.from(s, 'utf8')];
      if (spec.prec !== undefined) bytes = bytes.slice(0, spec.prec);
      const hexes = bytes.map((b) => hex(b, 2));
      let text: string;
      if (spec.space) text = hexes.map((h) => (spec.sharp ? '0x' : '') + h).join(' ');
      else text = (spec.sharp && hexes.length > 0 ? '0x' : '') + hexes.join('');
      return pad(verb === 'X' ? text.toUpperCase() : text, spec, false);
    }
    default:
      return badVerb(a, verb);
  }
}

// ---------------------------------------------------------------------------------------------
// Floats, formatted from their exact decimal expansion so rounding matches Go's strconv.

interface Decimal {
  /** Significant digits without leading or trailing zeros ('' for zero). */
  digits: string;
  /** Position of the decimal point relative to the start of `digits`. */
  point: number;
}

/** The exact decimal value of a finite double. */
function exactDecimal(x: number): Decimal {
  if (x === 0) return { digits: '', point: 0 };
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, Math.abs(x));
  const hi = buf.getUint32(0);
  const lo = buf.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (biased === 0) exp = -1074;
  else {
    mant |= 1n << 52n;
    exp = biased - 1075;
  }
  let digits: string;
  let point: number;
  if (exp >= 0) {
    digits = (mant << BigInt(exp)).toString();
    point = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-exp)).toString();
    point = digits.length + exp;
  }
  return trimDecimal(digits, point);
}

function trimDecimal(digits: string, point: number): Decimal {
  const lead = /^0*/.exec(digits)?.[0].length ?? 0;
  const d = digits.slice(lead).replace(/0+$/, '');
  return { digits: d, point: d === '' ? 0 : point - lead };
}

/** The shortest digits that read back as x (what Go uses when no precision is given). */
function shortestDecimal(x: number): Decimal {
  if (x === 0) return { digits: '', point: 0 };
  const [mant = '', e = '0'] = Math.abs(x).toExponential().split('e');
  const digits = mant.replace('.', '');
  return trimDecimal(digits, Number(e) + 1);
}

/** Rounds to `nd` significant digits, half to even on exact ties (as strconv does). */
function roundDecimal(d: Decimal, nd: number): Decimal {
  if (nd < 0) return { digits: '', point: d.point };
  if (d.digits.length <= nd) return d;
  const kept = d.digits.slice(0, nd);
  const rest = d.digits.slice(nd);
  const first = rest.charCodeAt(0) - 48;
  let up: boolean;
  if (first > 5) up = true;
  else if (first < 5) up = false;
  else if (rest.length > 1) up = true;
  else up = nd > 0 && (kept.charCodeAt(nd - 1) - 48) % 2 === 1;
  if (!up) return trimDecimal(kept, d.point);
  if (kept === '') return { digits: '1', point: d.point + 1 };
  const bumped = (BigInt(kept) + 1n).toString();
  return trimDecimal(bumped, d.point + (bumped.length > kept.length ? 1 : 0));
}

function fixedText(d: Decimal, prec: number): string {
  // Digits before the point.
  let intPart = '';
  if (d.point <= 0) intPart = '0';
  else {
    for (let k = 0; k < d.point; k++) intPart += d.digits[k] ?? '0';
  }
  if (prec <= 0) return intPart;
  let frac = '';
  for (let k = 0; k < prec; k++) {
    const idx = d.point + k;
    frac += idx >= 0 ? (d.digits[idx] ?? '0') : '0';
  }
  return intPart + '.' + frac;
}

function expText(d: Decimal, prec: number, e: string): string {
  const first = d.digits[0] ?? '0';
  let mant = first;
  if (prec > 0) mant += '.' + d.digits.slice(1, 1 + prec).padEnd(prec, '0');
  const exp = d.digits === '' ? 0 : d.point - 1;
  const expAbs = Math.abs(exp).toString().padStart(2, '0');
  return mant + e + (exp < 0 ? '-' : '+') + expAbs;
}

/** Formats a float for verbs e E f F g G v; undefined for verbs a float does not take. */
function formatFloat(x: number, verb: string, spec: Spec): string | undefined {
  let body: string;
  const exact = exactDecimal(x);
  switch (verb) {
    case 'e':
    case 'E': {
      const prec = spec.prec ?? 6;
      body = expText(roundDecimal(exact, prec + 1), prec, verb);
      break;
    }
    case 'f':
    case 'F': {
      const prec = spec.prec ?? 6;
      body = fixedText(roundDecimal(exact, exact.point + prec), prec);
      break;
    }
    case 'v':
    case 'g':
    case 'G': {
      // strconv's %g: exponent form when the exponent is < -4 or >= the precision (6 when
      // the shortest round-trip digits are used), trailing zeros dropped.
      const e = verb === 'G' ? 'E' : 'e';
      const shortest = spec.prec === undefined;
      const wanted = Math.max(spec.prec ?? 0, 1);
      const d = shortest ? shortestDecimal(x) : roundDecimal(exact, wanted);
      const nd = d.digits.length;
      let prec = shortest ? nd : wanted;
      let eprec = prec;
      if (eprec > nd && nd >= d.point) eprec = nd;
      if (shortest) eprec = 6;
      const exp = d.point - 1;
      if (exp < -4 || exp >= eprec) {
        if (prec > nd) prec = nd;
        body = expText(d, prec - 1, e);
      } else {
        if (prec > d.point) prec = nd;
        body = fixedText(d, Math.max(prec - d.point, 0));
      }
      break;
    }
    default:
      return undefined;
  }
  const neg = x < 0 || Object.is(x, -0);
  const sign = neg ? '-' : spec.plus ? '+' : spec.space ? ' ' : '';
  return padNumber(sign, body, spec, true);
}
