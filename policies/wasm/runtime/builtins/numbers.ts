// Numeric builtins (policies/rego/builtins/numbers.ts): abs, round, ceil, floor,
// numbers.range(_step) and to_number.
import { alloc } from '../alloc';
import { arrayAppend } from '../collections';
import { errorText } from '../errors';
import { writeGoQuoted } from '../json';
import {
  compareNumbers,
  floatNumber,
  numberAbs,
  numberAdd,
  numberCeil,
  numberFloor,
  numberFromLiteral,
  numberRound,
  numberSubtract,
  exactInteger,
  toF64,
} from '../number';
import { integerDivide, loadInteger, quotient, scratchA, scratchB, viewA, viewB } from '../bigint';
import { writerBegin, writerLength, writerStart } from '../alloc';
import { errorBytes } from '../errors';
import {
  booleanOf,
  floatOf,
  intValue,
  NUM_BIG,
  NUM_FLOAT,
  numberKind,
  newCollection,
  stringLen,
  stringPtr,
  tagOf,
  TAG_ARRAY,
  TAG_BOOLEAN,
  TAG_NUMBER,
  TAG_STRING,
} from '../value';
import { errorNumber, failBegin, integerArg, numberArg, typeError } from './args';

export function vd_builtin_abs(v: i32): i32 {
  if (v == 0 || !numberArg('abs', v, 1)) return 0;
  return <i32>numberAbs(v);
}

export function vd_builtin_round(v: i32): i32 {
  if (v == 0 || !numberArg('round', v, 1)) return 0;
  return <i32>numberRound(v);
}

export function vd_builtin_ceil(v: i32): i32 {
  if (v == 0 || !numberArg('ceil', v, 1)) return 0;
  return <i32>numberCeil(v);
}

export function vd_builtin_floor(v: i32): i32 {
  if (v == 0 || !numberArg('floor', v, 1)) return 0;
  return <i32>numberFloor(v);
}

/** The most numbers a range may hold; a bigger range is an error, not a hang. */
const MAX_RANGE_LENGTH: i64 = 1000000;

function range(name: string, from: usize, to: usize, step: usize): usize {
  const ascending = compareNumbers(from, to) <= 0;
  const span = numberAbs(numberSubtract(name, to, from));
  loadInteger(viewA(), span, scratchA());
  loadInteger(viewB(), step, scratchB());
  integerDivide(viewA(), viewB());
  const count = numberAdd(name, quotient(), intValue(1));
  if (compareNumbers(count, intValue(MAX_RANGE_LENGTH)) > 0) {
    failBegin(name);
    errorText('range of ');
    errorNumber(count);
    errorText(' numbers exceeds the limit of 1000000');
    return 0;
  }
  const n = <u32>load<i64>(count, 8);
  const out = newCollection(TAG_ARRAY, n);
  let x = from;
  for (let i: u32 = 0; i < n; i++) {
    arrayAppend(out, x);
    if (i + 1 < n) x = ascending ? numberAdd(name, x, step) : numberSubtract(name, x, step);
  }
  return out;
}

export function vd_builtin_numbers_range(from: i32, to: i32): i32 {
  if (from == 0 || to == 0) return 0;
  const name = 'numbers.range';
  if (!integerArg(name, from, 1) || !integerArg(name, to, 2)) return 0;
  return <i32>range(name, exactInteger(from), exactInteger(to), intValue(1));
}

export function vd_builtin_numbers_range_step(from: i32, to: i32, step: i32): i32 {
  if (from == 0 || to == 0 || step == 0) return 0;
  const name = 'numbers.range_step';
  if (!integerArg(name, from, 1) || !integerArg(name, to, 2) || !integerArg(name, step, 3))
    return 0;
  if (compareNumbers(step, intValue(0)) <= 0) {
    failBegin(name);
    errorText('step must be a positive integer');
    return 0;
  }
  return <i32>range(name, exactInteger(from), exactInteger(to), exactInteger(step));
}

// ---------------------------------------------------------------------------------------------
// to_number

function isDigit(c: u32): bool {
  return c - 0x30 < 10;
}

function hexDigit(c: u32): i32 {
  if (isDigit(c)) return <i32>(c - 0x30);
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? <i32>(l - 0x61 + 10) : -1;
}

/** `to_number: strconv.ParseFloat: parsing "<s>": <detail>` */
function parseFloatError(s: usize, detail: string): void {
  failBegin('to_number');
  errorText('strconv.ParseFloat: parsing ');
  writerBegin();
  writeGoQuoted(stringPtr(s), stringLen(s));
  errorBytes(writerStart(), <u32>writerLength());
  errorText(': ');
  errorText(detail);
}

/** Whether the bytes, after optional signs, spell inf, infinity or nan (any case). */
function isNonFinite(p: usize, end: usize): bool {
  while (p < end && (load<u8>(p) == 0x2b || load<u8>(p) == 0x2d)) p++;
  const n = end - p;
  if (n != 3 && n != 8) return false;
  const word =
    n == 3 ? matchesLower(p, 'inf') || matchesLower(p, 'nan') : matchesLower(p, 'infinity');
  return word;
}

function matchesLower(p: usize, word: string): bool {
  for (let i = 0; i < word.length; i++) {
    if (((<u32>load<u8>(p + <usize>i)) | 0x20) != <u32>word.charCodeAt(i)) return false;
  }
  return true;
}

/** A hex float `[+-]0x<mantissa>p<exp>` as Go reads it, or NaN when the text is not one. */
function parseHexFloat(p: usize, end: usize): f64 {
  let neg = false;
  if (p < end && (load<u8>(p) == 0x2b || load<u8>(p) == 0x2d)) {
    neg = load<u8>(p) == 0x2d;
    p++;
  }
  if (end - p < 3 || load<u8>(p) != 0x30 || (load<u8>(p + 1) | 0x20) != 0x78) return NaN;
  p += 2;
  let mant: f64 = 0;
  let digits = 0;
  let fracDigits = 0;
  let dot = false;
  for (; p < end; p++) {
    const c = <u32>load<u8>(p);
    if (c == 0x2e && !dot) {
      dot = true;
      continue;
    }
    const h = hexDigit(c);
    if (h < 0) break;
    mant = mant * 16 + <f64>h;
    digits++;
    if (dot) fracDigits++;
  }
  if (digits == 0 || p >= end || (load<u8>(p) | 0x20) != 0x70) return NaN;
  p++;
  let eneg = false;
  if (p < end && (load<u8>(p) == 0x2b || load<u8>(p) == 0x2d)) {
    eneg = load<u8>(p) == 0x2d;
    p++;
  }
  if (p >= end) return NaN;
  let e: i32 = 0;
  for (; p < end; p++) {
    const c = <u32>load<u8>(p);
    if (!isDigit(c)) return NaN;
    if (e < 100000) e = e * 10 + <i32>(c - 0x30);
  }
  const x = mant * Math.pow(2, <f64>((eneg ? -e : e) - 4 * fracDigits));
  return neg ? -x : x;
}

/**
 * Decimal text as Go's ParseFloat accepts it ([+-] digits [. digits] [e [+-] digits], with
 * "1." and ".5" allowed), rewritten as a JSON number literal; 0 when it is not one.
 */
function decimalLiteral(p: usize, end: usize): usize {
  let neg = false;
  if (p < end && (load<u8>(p) == 0x2b || load<u8>(p) == 0x2d)) {
    neg = load<u8>(p) == 0x2d;
    p++;
  }
  const wholeStart = p;
  while (p < end && isDigit(load<u8>(p))) p++;
  const wholeEnd = p;
  let fracStart = p;
  let fracEnd = p;
  if (p < end && load<u8>(p) == 0x2e) {
    p++;
    fracStart = p;
    while (p < end && isDigit(load<u8>(p))) p++;
    fracEnd = p;
  }
  if (wholeEnd == wholeStart && fracEnd == fracStart) return 0;
  const expStart = p;
  if (p < end && (load<u8>(p) | 0x20) == 0x65) {
    p++;
    if (p < end && (load<u8>(p) == 0x2b || load<u8>(p) == 0x2d)) p++;
    const digitsStart = p;
    while (p < end && isDigit(load<u8>(p))) p++;
    if (p == digitsStart) return 0;
  }
  if (p != end) return 0;
  // Rebuild: sign, whole digits without leading zeros (at least one), fraction, exponent.
  let w0 = wholeStart;
  while (w0 + 1 < wholeEnd && load<u8>(w0) == 0x30) w0++;
  const size: usize = 3 + (wholeEnd - w0) + (fracEnd - fracStart) + (end - expStart);
  const buf = alloc(size);
  let w = buf;
  if (neg) store<u8>(w++, 0x2d);
  if (wholeEnd == w0) store<u8>(w++, 0x30);
  else {
    memory.copy(w, w0, wholeEnd - w0);
    w += wholeEnd - w0;
  }
  if (fracEnd > fracStart) {
    store<u8>(w++, 0x2e);
    memory.copy(w, fracStart, fracEnd - fracStart);
    w += fracEnd - fracStart;
  }
  memory.copy(w, expStart, end - expStart);
  w += end - expStart;
  return numberFromLiteral(buf, <u32>(w - buf));
}

function stringToNumber(s: usize): usize {
  const p = stringPtr(s);
  const end = p + stringLen(s);
  if (isNonFinite(p, end)) {
    typeError('to_number', 1, s, 'valid number string');
    return 0;
  }
  const hex = parseHexFloat(p, end);
  let v: usize = 0;
  if (hex == hex) {
    v = floatNumber(hex);
  } else {
    v = decimalLiteral(p, end);
    if (v == 0) {
      parseFloatError(s, 'invalid syntax');
      return 0;
    }
  }
  const kind = numberKind(v);
  if ((kind == NUM_FLOAT && !isFinite(floatOf(v))) || (kind == NUM_BIG && !isFinite(toF64(v)))) {
    parseFloatError(s, 'value out of range');
    return 0;
  }
  return v;
}

export function vd_builtin_to_number(v: i32): i32 {
  if (v == 0) return 0;
  const tag = tagOf(v);
  if (tag == 0) return <i32>intValue(0);
  if (tag == TAG_BOOLEAN) return <i32>intValue(booleanOf(v) ? 1 : 0);
  if (tag == TAG_NUMBER) return v;
  if (tag == TAG_STRING) return <i32>stringToNumber(v);
  typeError('to_number', 1, v, 'one of {null, boolean, number, string}');
  return 0;
}
