// Rego numbers: exact 64-bit integers, doubles for everything with a fraction, and decimal
// text for integers beyond 64 bits. This mirrors policies/ir/value.ts: integral doubles within
// +-(2^53-1) are stored as integers (JavaScript cannot tell them apart either), other integral
// doubles stay doubles but count as integers in arithmetic, which then runs exactly.
import { alloc, writeByte, writeBytes, writerReserve, writerUnwrite } from './alloc';
import {
  Integer,
  integerAdd,
  integerDivide,
  integerMultiply,
  integerResult,
  loadInteger,
  magnitude,
  quotient,
  remainder,
  scratchA,
  scratchB,
  unsignedDigits,
  viewA,
  viewB,
} from './bigint';
import { Decimal, digitOf, exactOf, mainDecimal, readText, shortestOf, toFloat } from './decimal';
import { builtinError } from './errors';
import {
  bigLength,
  bigText,
  floatOf,
  intOf,
  intValue,
  NUM_BIG,
  NUM_FLOAT,
  NUM_INT,
  numberKind,
  rawFloatValue,
} from './value';

const MAX_SAFE: f64 = 9007199254740991;
const TWO_63: f64 = 9.223372036854775808e18;
/** A literal such as 1e30 is expanded to an exact integer only up to this exponent. */
const MAX_EXACT_EXPONENT: i32 = 10000;

/** A double as a Rego number: integral values within +-(2^53-1) become integers (-0 is 0). */
export function floatNumber(f: f64): usize {
  if (f == Math.trunc(f) && Math.abs(f) <= MAX_SAFE) return intValue(<i64>f);
  return rawFloatValue(f);
}

/** Whether the number has no fractional part. */
export function isIntegral(v: usize): bool {
  if (numberKind(v) != NUM_FLOAT) return true;
  const f = floatOf(v);
  return isFinite(f) && f == Math.trunc(f);
}

/** Whether the number is zero. */
export function isZeroNumber(v: usize): bool {
  const kind = numberKind(v);
  if (kind == NUM_INT) return intOf(v) == 0;
  if (kind == NUM_FLOAT) return floatOf(v) == 0;
  return false;
}

/** The nearest double (ties to even), as JavaScript's Number(x) gives. */
export function toF64(v: usize): f64 {
  const kind = numberKind(v);
  if (kind == NUM_INT) return <f64>intOf(v);
  if (kind == NUM_FLOAT) return floatOf(v);
  const d = mainDecimal();
  readText(d, bigText(v), bigLength(v));
  return toFloat(d);
}

let exactInt: i64 = 0;

/** Whether v is an integer within 64 bits; the value is then in lastInt64(). */
export function toInt64(v: usize): bool {
  const kind = numberKind(v);
  if (kind == NUM_INT) {
    exactInt = intOf(v);
    return true;
  }
  if (kind == NUM_FLOAT) {
    const f = floatOf(v);
    if (f == Math.trunc(f) && f >= -TWO_63 && f < TWO_63) {
      exactInt = <i64>f;
      return true;
    }
  }
  return false;
}

export function lastInt64(): i64 {
  return exactInt;
}

/** An integral number as an exact integer (int or big), so that it prints exactly. */
export function exactInteger(v: usize): usize {
  if (numberKind(v) != NUM_FLOAT) return v;
  const a = viewA();
  loadInteger(a, v, scratchA());
  return integerResult(a.neg, a.ptr, a.len);
}

// ---------------------------------------------------------------------------------------------
// Ordering

function sign(c: i64): i32 {
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

function compareIntFloat(i: i64, f: f64): i32 {
  if (f >= TWO_63) return -1;
  if (f < -TWO_63) return 1;
  const t = <i64>f;
  if (i != t) return i < t ? -1 : 1;
  const frac = f - <f64>t;
  return frac > 0 ? -1 : frac < 0 ? 1 : 0;
}

function bigIsNegative(v: usize): bool {
  return load<u8>(bigText(v)) == 0x2d;
}

/** A big integer against a double (exact). */
function compareBigFloat(big: usize, f: f64): i32 {
  const neg = bigIsNegative(big);
  if (!isFinite(f)) return f > 0 ? -1 : 1;
  // Every big integer is beyond +-2^63.
  if (f < TWO_63 && f >= -TWO_63) return neg ? -1 : 1;
  if (neg != f < 0) return neg ? -1 : 1;
  // Same sign; f is integral here: compare magnitudes digit by digit.
  const d = exactOf(f);
  const text = bigText(big) + (neg ? 1 : 0);
  const len = <i32>bigLength(big) - (neg ? 1 : 0);
  let c: i32 = 0;
  if (len != d.dp) c = len < d.dp ? -1 : 1;
  else {
    for (let i = 0; i < len; i++) {
      const x = <u32>load<u8>(text + <usize>i) - 0x30;
      const y = digitOf(d, i);
      if (x != y) {
        c = x < y ? -1 : 1;
        break;
      }
    }
  }
  return neg ? -c : c;
}

function compareBigs(a: usize, b: usize): i32 {
  const an = bigIsNegative(a);
  const bn = bigIsNegative(b);
  if (an != bn) return an ? -1 : 1;
  const la = bigLength(a);
  const lb = bigLength(b);
  let c: i32 = 0;
  if (la != lb) c = la < lb ? -1 : 1;
  else {
    const pa = bigText(a);
    const pb = bigText(b);
    for (let i: u32 = 0; i < la; i++) {
      const x = load<u8>(pa + i);
      const y = load<u8>(pb + i);
      if (x != y) {
        c = x < y ? -1 : 1;
        break;
      }
    }
  }
  return an ? -c : c;
}

/** Exact numeric order of two numbers: -1, 0, 1. */
export function compareNumbers(a: usize, b: usize): i32 {
  const ka = numberKind(a);
  const kb = numberKind(b);
  if (ka == NUM_INT) {
    if (kb == NUM_INT) {
      const x = intOf(a);
      const y = intOf(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    if (kb == NUM_FLOAT) return compareIntFloat(intOf(a), floatOf(b));
    return bigIsNegative(b) ? 1 : -1;
  }
  if (ka == NUM_FLOAT) {
    if (kb == NUM_FLOAT) {
      const x = floatOf(a);
      const y = floatOf(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    if (kb == NUM_INT) return -compareIntFloat(intOf(b), floatOf(a));
    return -compareBigFloat(b, floatOf(a));
  }
  if (kb == NUM_INT) return bigIsNegative(a) ? -1 : 1;
  if (kb == NUM_FLOAT) return compareBigFloat(a, floatOf(b));
  return compareBigs(a, b);
}

// ---------------------------------------------------------------------------------------------
// Text -> number

/** Whether [ptr, ptr+len) is a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
export function scanNumber(ptr: usize, end: usize): usize {
  let p = ptr;
  if (p < end && load<u8>(p) == 0x2d) p++;
  if (p >= end) return 0;
  let c = load<u8>(p);
  if (c == 0x30) p++;
  else if (c >= 0x31 && c <= 0x39) {
    while (p < end && isDigit(load<u8>(p))) p++;
  } else return 0;
  if (p < end && load<u8>(p) == 0x2e) {
    p++;
    const start = p;
    while (p < end && isDigit(load<u8>(p))) p++;
    if (p == start) return 0;
  }
  if (p < end && (load<u8>(p) | 0x20) == 0x65) {
    p++;
    if (p < end && (load<u8>(p) == 0x2b || load<u8>(p) == 0x2d)) p++;
    const start = p;
    while (p < end && isDigit(load<u8>(p))) p++;
    if (p == start) return 0;
  }
  return p;
}

function isDigit(c: u32): bool {
  return c - 0x30 < 10;
}

const POW10 = memory.data<f64>([
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
  1e18, 1e19, 1e20, 1e21, 1e22,
]);

/** Correctly rounded double of decimal text in JSON number syntax. */
export function parseDouble(ptr: usize, len: u32): f64 {
  // Fast path: up to 15 significant digits and a small power of ten are exact in doubles, so
  // one multiplication or division rounds correctly.
  let p = ptr;
  const end = ptr + len;
  const neg = p < end && load<u8>(p) == 0x2d;
  if (neg) p++;
  let mant: u64 = 0;
  let digits: i32 = 0;
  let exp10: i32 = 0;
  let afterDot = false;
  let ok = true;
  for (; p < end; p++) {
    const c = <u32>load<u8>(p);
    if (c == 0x2e) {
      afterDot = true;
      continue;
    }
    if (!isDigit(c)) break;
    if (mant == 0 && c == 0x30) {
      if (afterDot) exp10--;
      continue;
    }
    if (digits >= 15) {
      ok = false;
      break;
    }
    mant = mant * 10 + <u64>(c - 0x30);
    digits++;
    if (afterDot) exp10--;
  }
  if (ok && p < end) {
    // exponent
    p++;
    let eneg = false;
    if (load<u8>(p) == 0x2b || load<u8>(p) == 0x2d) {
      eneg = load<u8>(p) == 0x2d;
      p++;
    }
    let e: i32 = 0;
    for (; p < end; p++) {
      if (e > 100000) {
        ok = false;
        break;
      }
      e = e * 10 + <i32>(load<u8>(p) - 0x30);
    }
    exp10 += eneg ? -e : e;
  }
  if (ok) {
    if (mant == 0) return neg ? -0.0 : 0.0;
    if (exp10 >= -22 && exp10 <= 22) {
      let f = <f64>mant;
      f =
        exp10 >= 0
          ? f * load<f64>(POW10 + ((<usize>exp10) << 3))
          : f / load<f64>(POW10 + ((<usize>-exp10) << 3));
      return neg ? -f : f;
    }
  }
  const d = mainDecimal();
  readText(d, ptr, len);
  return toFloat(d);
}

/**
 * The number a JSON/Rego number literal denotes (syntax already checked), as the interpreter
 * reads it: integers exact, literals such as 1e30 or 2.50e2 exact when integral, others doubles.
 */
export function numberFromLiteral(ptr: usize, len: u32): usize {
  const end = ptr + len;
  let p = ptr;
  const neg = load<u8>(p) == 0x2d;
  if (neg) p++;
  const wholeStart = p;
  while (p < end && isDigit(load<u8>(p))) p++;
  if (p == end) return integerResult(neg, wholeStart, <u32>(end - wholeStart));
  const f = parseDouble(ptr, len);
  const integral = isFinite(f) && f == Math.trunc(f);
  if (integral && Math.abs(f) <= MAX_SAFE) return intValue(<i64>f);
  // Beyond doubles' exact integers (or their range), an integral literal stays exact.
  if (integral || !isFinite(f)) {
    const exact = exactIntegerOfLiteral(ptr, len);
    if (exact != 0) return exact;
  }
  return rawFloatValue(f);
}

/** The exact integer a literal with a fraction or exponent denotes, or 0 when it has none. */
function exactIntegerOfLiteral(ptr: usize, len: u32): usize {
  const end = ptr + len;
  let p = ptr;
  const neg = load<u8>(p) == 0x2d;
  if (neg) p++;
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
  let exp: i64 = 0;
  if (p < end) {
    p++;
    let eneg = false;
    if (load<u8>(p) == 0x2b || load<u8>(p) == 0x2d) {
      eneg = load<u8>(p) == 0x2d;
      p++;
    }
    for (; p < end; p++) {
      if (exp < 1000000000) exp = exp * 10 + <i64>(load<u8>(p) - 0x30);
    }
    if (eneg) exp = -exp;
  }
  exp -= <i64>(fracEnd - fracStart);
  const wholeLen = <u32>(wholeEnd - wholeStart);
  const fracLen = <u32>(fracEnd - fracStart);
  const total = wholeLen + fracLen;
  // The significant digits, then cut or padded by the exponent.
  let keep: i64 = <i64>total;
  let zeros: i64 = 0;
  if (exp < 0) {
    keep = <i64>total + exp;
    for (let i: i64 = keep < 0 ? 0 : keep; i < <i64>total; i++) {
      if (digitOfParts(wholeStart, wholeLen, fracStart, <u32>i) != 0x30) return 0;
    }
    if (keep <= 0) return intValue(0);
  } else {
    if (exp > <i64>MAX_EXACT_EXPONENT) return 0;
    zeros = exp;
  }
  const n = <u32>(keep + zeros);
  const buf = alloc(<usize>n);
  for (let i: u32 = 0; i < <u32>keep; i++)
    store<u8>(buf + i, <u8>digitOfParts(wholeStart, wholeLen, fracStart, i));
  memory.fill(buf + <usize>keep, 0x30, <usize>zeros);
  return integerResult(neg, buf, n);
}

function digitOfParts(whole: usize, wholeLen: u32, frac: usize, i: u32): u32 {
  return i < wholeLen ? <u32>load<u8>(whole + i) : <u32>load<u8>(frac + (i - wholeLen));
}

/** A number from decimal text (JSON number syntax); 0 when the text is not a number. */
export function numberFromText(ptr: usize, len: u32): usize {
  if (len == 0 || scanNumber(ptr, ptr + len) != ptr + len) return 0;
  return numberFromLiteral(ptr, len);
}

// ---------------------------------------------------------------------------------------------
// Number -> text (through the writer)

export function writeInt(i: i64): void {
  const p = writerReserve(21);
  let n: u32 = 0;
  if (i < 0) {
    store<u8>(p, 0x2d);
    n = 1;
  }
  n += unsignedDigits(p + n, magnitude(i));
  // Give back what was reserved but not used.
  writerUnwrite(21 - n);
}

/** A double as JavaScript's String(x) prints it (shortest round-trip digits). */
export function writeFloat(f: f64, regoSyntax: bool): void {
  if (!isFinite(f)) {
    if (regoSyntax) {
      if (f != f) writeAsciiText('NaN');
      else writeAsciiText(f > 0 ? 'Infinity' : '-Infinity');
    } else writeAsciiText('null');
    return;
  }
  if (f == 0) {
    writeByte(0x30);
    return;
  }
  if (regoSyntax && f == Math.trunc(f) && Math.abs(f) >= 1e21) {
    // Rego prints big integral doubles in full.
    const d = exactOf(f);
    if (d.neg) writeByte(0x2d);
    for (let i = 0; i < d.dp; i++) writeByte(digitOf(d, i) + 0x30);
    return;
  }
  const d = shortestOf(f);
  writeShortest(d);
}

function writeAsciiText(s: string): void {
  for (let i = 0; i < s.length; i++) writeByte(<u32>s.charCodeAt(i));
}

function writeShortest(d: Decimal): void {
  if (d.neg) writeByte(0x2d);
  const k = d.nd;
  const n = d.dp;
  if (k <= n && n <= 21) {
    for (let i = 0; i < k; i++) writeByte(digitOf(d, i) + 0x30);
    for (let i = k; i < n; i++) writeByte(0x30);
  } else if (0 < n && n <= 21) {
    for (let i = 0; i < n; i++) writeByte(digitOf(d, i) + 0x30);
    writeByte(0x2e);
    for (let i = n; i < k; i++) writeByte(digitOf(d, i) + 0x30);
  } else if (-6 < n && n <= 0) {
    writeByte(0x30);
    writeByte(0x2e);
    for (let i = n; i < 0; i++) writeByte(0x30);
    for (let i = 0; i < k; i++) writeByte(digitOf(d, i) + 0x30);
  } else {
    writeByte(digitOf(d, 0) + 0x30);
    if (k > 1) {
      writeByte(0x2e);
      for (let i = 1; i < k; i++) writeByte(digitOf(d, i) + 0x30);
    }
    writeByte(0x65);
    const e = n - 1;
    writeByte(e < 0 ? 0x2d : 0x2b);
    writeInt(<i64>(e < 0 ? -e : e));
  }
}

/** A number as JSON (or Rego) text. */
export function writeNumber(v: usize, regoSyntax: bool): void {
  const kind = numberKind(v);
  if (kind == NUM_INT) writeInt(intOf(v));
  else if (kind == NUM_FLOAT) writeFloat(floatOf(v), regoSyntax);
  else writeBytes(bigText(v), bigLength(v));
}

// ---------------------------------------------------------------------------------------------
// Arithmetic (the interpreter's policies/rego/builtins/numeric.ts)

/** A double result; not finite is an error (Rego has no NaN or Infinity). */
function finiteResult(name: string, f: f64): usize {
  if (!isFinite(f)) {
    builtinError(name, 'numeric result out of range');
    return 0;
  }
  return floatNumber(f);
}

function loadBoth(a: usize, b: usize): void {
  loadInteger(viewA(), a, scratchA());
  loadInteger(viewB(), b, scratchB());
}

export function numberAdd(name: string, a: usize, b: usize): usize {
  if (numberKind(a) == NUM_INT && numberKind(b) == NUM_INT) {
    const x = intOf(a);
    const y = intOf(b);
    const r = x + y;
    if (((x ^ r) & (y ^ r)) >= 0) return intValue(r);
  }
  if (isIntegral(a) && isIntegral(b)) {
    loadBoth(a, b);
    return integerAdd(viewA(), viewB(), false);
  }
  return finiteResult(name, toF64(a) + toF64(b));
}

export function numberSubtract(name: string, a: usize, b: usize): usize {
  if (numberKind(a) == NUM_INT && numberKind(b) == NUM_INT) {
    const x = intOf(a);
    const y = intOf(b);
    const r = x - y;
    if (((x ^ y) & (x ^ r)) >= 0) return intValue(r);
  }
  if (isIntegral(a) && isIntegral(b)) {
    loadBoth(a, b);
    return integerAdd(viewA(), viewB(), true);
  }
  return finiteResult(name, toF64(a) - toF64(b));
}

export function numberMultiply(name: string, a: usize, b: usize): usize {
  if (numberKind(a) == NUM_INT && numberKind(b) == NUM_INT) {
    const x = intOf(a);
    const y = intOf(b);
    if (x == 0 || y == 0) return intValue(0);
    const overflowCase = (x == -1 && y == i64.MIN_VALUE) || (y == -1 && x == i64.MIN_VALUE);
    if (!overflowCase) {
      const r = x * y;
      if (r / x == y) return intValue(r);
    }
  }
  if (isIntegral(a) && isIntegral(b)) {
    loadBoth(a, b);
    return integerMultiply(viewA(), viewB());
  }
  return finiteResult(name, toF64(a) * toF64(b));
}

/** Integer division when the divisor divides the dividend exactly, else a double quotient. */
export function numberDivide(name: string, a: usize, b: usize): usize {
  if (isZeroNumber(b)) {
    builtinError(name, 'divide by zero');
    return 0;
  }
  const bothInt = numberKind(a) == NUM_INT && numberKind(b) == NUM_INT;
  if (bothInt && !(intOf(a) == i64.MIN_VALUE && intOf(b) == -1)) {
    const x = intOf(a);
    const y = intOf(b);
    if (x % y == 0) return intValue(x / y);
  } else if (isIntegral(a) && isIntegral(b)) {
    loadBoth(a, b);
    integerDivide(viewA(), viewB());
    if (isZeroNumber(remainder())) return quotient();
  }
  return finiteResult(name, toF64(a) / toF64(b));
}

/** Remainder with the dividend's sign; integers only. */
export function numberRemainder(name: string, a: usize, b: usize): usize {
  if (!isIntegral(a) || !isIntegral(b)) {
    builtinError(name, 'modulo on floating-point number');
    return 0;
  }
  if (isZeroNumber(b)) {
    builtinError(name, 'modulo by zero');
    return 0;
  }
  if (numberKind(a) == NUM_INT && numberKind(b) == NUM_INT) {
    const y = intOf(b);
    if (y == -1) return intValue(0);
    return intValue(intOf(a) % y);
  }
  loadBoth(a, b);
  integerDivide(viewA(), viewB());
  return remainder();
}

export function numberAbs(v: usize): usize {
  const kind = numberKind(v);
  if (kind == NUM_INT) {
    const i = intOf(v);
    if (i >= 0) return v;
    if (i != i64.MIN_VALUE) return intValue(-i);
  } else if (kind == NUM_FLOAT) {
    return floatNumber(Math.abs(floatOf(v)));
  } else if (load<u8>(bigText(v)) != 0x2d) {
    return v;
  }
  loadInteger(viewA(), v, scratchA());
  const a: Integer = viewA();
  return integerResult(false, a.ptr, a.len);
}

/** Rounds half away from zero. */
export function numberRound(v: usize): usize {
  if (isIntegral(v)) return v;
  const x = floatOf(v);
  const whole = Math.trunc(x);
  const frac = x - whole;
  return floatNumber(Math.abs(frac) >= 0.5 ? whole + Math.sign(x) : whole);
}

export function numberCeil(v: usize): usize {
  return isIntegral(v) ? v : floatNumber(Math.ceil(floatOf(v)));
}

export function numberFloor(v: usize): usize {
  return isIntegral(v) ? v : floatNumber(Math.floor(floatOf(v)));
}

// ---------------------------------------------------------------------------------------------
// Exports

/** A double (integral values within +-(2^53-1) become integers). */
export function vd_float(f: f64): i32 {
  return <i32>floatNumber(f);
}

/** A number from decimal text in JSON syntax (big integers and exponents exact); 0 if invalid. */
export function vd_number_text(ptr: i32, len: i32): i32 {
  return <i32>numberFromText(<usize>ptr, <u32>len);
}
