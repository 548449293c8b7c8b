// Exact decimal arithmetic for converting between doubles and decimal text: a number is held as
// decimal digits d[0..nd) with the decimal point at dp (value = 0.d0d1d2... * 10^dp), and
// multiplying or dividing by powers of two is done digit by digit. It is slow next to
// Grisu/Ryu-style algorithms but simple and exact: text -> double is correctly rounded and
// double -> text gives the shortest digits that read back as the same double (what JavaScript
// prints). Digits beyond MAX_DIGITS are dropped with a "truncated" mark, which is enough for
// correct rounding. All state is static: no allocation.

export const MAX_DIGITS: i32 = 800;

@unmanaged
export class Decimal {
  digits: usize = 0;
  nd: i32 = 0;
  dp: i32 = 0;
  neg: bool = false;
  trunc: bool = false;
}

function decimalAt(header: usize, digits: usize): Decimal {
  const d = changetype<Decimal>(header);
  d.digits = digits;
  d.nd = 0;
  d.dp = 0;
  d.neg = false;
  d.trunc = false;
  return d;
}

const MAIN_HEADER = memory.data(32, 8);
const UPPER_HEADER = memory.data(32, 8);
const LOWER_HEADER = memory.data(32, 8);
const MAIN_DIGITS = memory.data(MAX_DIGITS + 8);
const UPPER_DIGITS = memory.data(MAX_DIGITS + 8);
const LOWER_DIGITS = memory.data(MAX_DIGITS + 8);
/** Scratch for left shifts: the product is built least significant digit first. */
const SHIFT_SCRATCH = memory.data(MAX_DIGITS + 64);

export function mainDecimal(): Decimal {
  return decimalAt(MAIN_HEADER, MAIN_DIGITS);
}

function digitAt(d: Decimal, i: i32): u32 {
  return <u32>load<u8>(d.digits + <usize>i);
}

function setDigit(d: Decimal, i: i32, v: u32): void {
  store<u8>(d.digits + <usize>i, <u8>v);
}

function trim(d: Decimal): void {
  while (d.nd > 0 && digitAt(d, d.nd - 1) == 0) d.nd--;
  if (d.nd == 0) d.dp = 0;
}

/** d = v. */
export function assignU64(d: Decimal, v: u64): void {
  let n: i32 = 0;
  // Write the digits backwards, then reverse.
  while (v > 0) {
    store<u8>(SHIFT_SCRATCH + <usize>n, <u8>(v % 10));
    v /= 10;
    n++;
  }
  for (let i = 0; i < n; i++) setDigit(d, i, load<u8>(SHIFT_SCRATCH + <usize>(n - 1 - i)));
  d.nd = n;
  d.dp = n;
  d.trunc = false;
  trim(d);
}

const MAX_SHIFT: i32 = 60;

/** d *= 2^k for 0 < k <= MAX_SHIFT. */
function leftShift(d: Decimal, k: i32): void {
  let carry: u64 = 0;
  let n: i32 = 0; // digits written to the scratch, least significant first
  let dropped = false;
  // The scratch can hold MAX_DIGITS + 64 digits; the product of an nd-digit number by 2^60 has
  // at most nd + 19 digits, so nothing is lost here; the cut to MAX_DIGITS happens below.
  for (let r = d.nd - 1; r >= 0; r--) {
    const x = ((<u64>digitAt(d, r)) << (<u64>k)) + carry;
    carry = x / 10;
    store<u8>(SHIFT_SCRATCH + <usize>n, <u8>(x - carry * 10));
    n++;
  }
  while (carry > 0) {
    const q = carry / 10;
    store<u8>(SHIFT_SCRATCH + <usize>n, <u8>(carry - q * 10));
    carry = q;
    n++;
  }
  const grown = n - d.nd;
  // Keep the most significant MAX_DIGITS digits.
  let skip: i32 = 0;
  if (n > MAX_DIGITS) {
    skip = n - MAX_DIGITS;
    for (let i = 0; i < skip; i++) if (load<u8>(SHIFT_SCRATCH + <usize>i) != 0) dropped = true;
  }
  let w: i32 = 0;
  for (let i = n - 1; i >= skip; i--) {
    setDigit(d, w, load<u8>(SHIFT_SCRATCH + <usize>i));
    w++;
  }
  d.nd = w;
  d.dp += grown;
  if (dropped) d.trunc = true;
  trim(d);
}

/** d /= 2^k for 0 < k <= MAX_SHIFT (digits past MAX_DIGITS are dropped, marking trunc). */
function rightShift(d: Decimal, k: i32): void {
  let r: i32 = 0; // read index
  let w: i32 = 0; // write index
  let n: u64 = 0;
  // Read leading digits until the accumulator reaches 2^k.
  for (; n >> (<u64>k) == 0; r++) {
    if (r >= d.nd) {
      if (n == 0) {
        d.nd = 0;
        return;
      }
      while (n >> (<u64>k) == 0) {
        n *= 10;
        r++;
      }
      break;
    }
    n = n * 10 + <u64>digitAt(d, r);
  }
  d.dp -= r - 1;
  const mask: u64 = ((<u64>1) << (<u64>k)) - 1;
  for (; r < d.nd; r++) {
    const c = <u64>digitAt(d, r);
    const dig = n >> (<u64>k);
    n &= mask;
    setDigit(d, w, <u32>dig);
    w++;
    n = n * 10 + c;
  }
  while (n > 0) {
    const dig = n >> (<u64>k);
    n &= mask;
    if (w < MAX_DIGITS) {
      setDigit(d, w, <u32>dig);
      w++;
    } else if (dig > 0) {
      d.trunc = true;
    }
    n *= 10;
  }
  d.nd = w;
  trim(d);
}

/** d *= 2^k (k may be negative). */
export function shift(d: Decimal, k: i32): void {
  if (d.nd == 0) return;
  if (k > 0) {
    while (k > MAX_SHIFT) {
      leftShift(d, MAX_SHIFT);
      k -= MAX_SHIFT;
    }
    leftShift(d, k);
  } else if (k < 0) {
    while (k < -MAX_SHIFT) {
      rightShift(d, MAX_SHIFT);
      k += MAX_SHIFT;
    }
    rightShift(d, -k);
  }
}

/** Whether cutting d to nd digits should round up (half to even, exact halves only). */
function shouldRoundUp(d: Decimal, nd: i32): bool {
  if (nd < 0 || nd >= d.nd) return false;
  if (digitAt(d, nd) == 5 && nd + 1 == d.nd) {
    if (d.trunc) return true; // something non-zero was dropped: above the half
    return nd > 0 && (digitAt(d, nd - 1) & 1) != 0;
  }
  return digitAt(d, nd) >= 5;
}

function roundDown(d: Decimal, nd: i32): void {
  if (nd < 0 || nd >= d.nd) return;
  d.nd = nd;
  trim(d);
}

function roundUp(d: Decimal, nd: i32): void {
  if (nd < 0 || nd >= d.nd) return;
  let i = nd - 1;
  while (i >= 0 && digitAt(d, i) == 9) i--;
  if (i < 0) {
    setDigit(d, 0, 1);
    d.nd = 1;
    d.dp++;
    return;
  }
  setDigit(d, i, digitAt(d, i) + 1);
  d.nd = i + 1;
}

function roundTo(d: Decimal, nd: i32): void {
  if (shouldRoundUp(d, nd)) roundUp(d, nd);
  else roundDown(d, nd);
}

/** The integer part of d, rounded half to even (d must be below 2^64). */
function roundedInteger(d: Decimal): u64 {
  if (d.dp > 20) return u64.MAX_VALUE;
  let n: u64 = 0;
  let i: i32 = 0;
  for (; i < d.dp && i < d.nd; i++) n = n * 10 + <u64>digitAt(d, i);
  for (; i < d.dp; i++) n *= 10;
  if (shouldRoundUp(d, d.dp)) n++;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Decimal text -> Decimal

/**
 * Reads a decimal number (`-12.5e3`; syntax checked by the caller) into d. Returns false when
 * there are no digits.
 */
export function readText(d: Decimal, ptr: usize, len: u32): bool {
  d.nd = 0;
  d.dp = 0;
  d.neg = false;
  d.trunc = false;
  let i: u32 = 0;
  let c = len > 0 ? <u32>load<u8>(ptr) : 0;
  if (c == 0x2d || c == 0x2b) {
    d.neg = c == 0x2d;
    i++;
  }
  let sawDot = false;
  let sawDigits = false;
  for (; i < len; i++) {
    c = <u32>load<u8>(ptr + i);
    if (c == 0x2e) {
      if (sawDot) return false;
      sawDot = true;
      d.dp = d.nd;
      continue;
    }
    if (c < 0x30 || c > 0x39) break;
    sawDigits = true;
    if (c == 0x30 && d.nd == 0) {
      d.dp--; // a leading zero (only matters after the point)
      continue;
    }
    if (d.nd < MAX_DIGITS) {
      setDigit(d, d.nd, c - 0x30);
      d.nd++;
    } else if (c != 0x30) {
      d.trunc = true;
    }
  }
  if (!sawDigits) return false;
  if (!sawDot) d.dp = d.nd;
  if (i < len && (c | 0x20) == 0x65) {
    i++;
    let expNeg = false;
    if (i < len) {
      const s = <u32>load<u8>(ptr + i);
      if (s == 0x2b || s == 0x2d) {
        expNeg = s == 0x2d;
        i++;
      }
    }
    let e: i32 = 0;
    for (; i < len; i++) {
      const x = <u32>load<u8>(ptr + i);
      if (x < 0x30 || x > 0x39) break;
      if (e < 100000) e = e * 10 + <i32>(x - 0x30);
    }
    d.dp += expNeg ? -e : e;
  }
  trim(d);
  return true;
}

const POWERS_OF_TWO_STEPS = memory.data<u8>([1, 3, 6, 9, 13, 16, 19, 23, 26]);

function stepFor(n: i32): i32 {
  return n >= 9 ? 27 : <i32>load<u8>(POWERS_OF_TWO_STEPS + <usize>n);
}

/** The double nearest to d (ties to even); +-Infinity beyond range. Destroys d. */
export function toFloat(d: Decimal): f64 {
  const sign: u64 = d.neg ? (<u64>1) << 63 : 0;
  if (d.nd == 0) return reinterpret<f64>(sign);
  if (d.dp > 310) return reinterpret<f64>(sign | 0x7ff0000000000000);
  if (d.dp < -330) return reinterpret<f64>(sign);
  let exp: i32 = 0;
  // Scale into [0.5, 1).
  while (d.dp > 0) {
    const n = stepFor(d.dp);
    shift(d, -n);
    exp += n;
  }
  while (d.dp < 0 || (d.dp == 0 && digitAt(d, 0) < 5)) {
    const n = stepFor(-d.dp);
    shift(d, n);
    exp -= n;
  }
  // Now in [1, 2) with the binary exponent exp.
  exp--;
  if (exp < -1022) {
    // Denormal: shift the mantissa down.
    const n = -1022 - exp;
    shift(d, -n);
    exp += n;
  }
  if (exp + 1023 >= 0x7ff) return reinterpret<f64>(sign | 0x7ff0000000000000);
  shift(d, 53);
  let mant = roundedInteger(d);
  if (mant == (<u64>2) << 52) {
    mant >>= 1;
    exp++;
    if (exp + 1023 >= 0x7ff) return reinterpret<f64>(sign | 0x7ff0000000000000);
  }
  let biased: u64 = <u64>(exp + 1023);
  if ((mant & ((<u64>1) << 52)) == 0) biased = 0; // denormal
  const bits = (mant & (((<u64>1) << 52) - 1)) | (biased << 52) | sign;
  return reinterpret<f64>(bits);
}

// ---------------------------------------------------------------------------------------------
// Double -> Decimal

/** The exact decimal value of a finite double, in the main decimal. */
export function exactOf(f: f64): Decimal {
  const d = mainDecimal();
  const bits = reinterpret<u64>(f);
  d.neg = bits >> 63 != 0;
  let exp = <i32>((bits >> 52) & 0x7ff);
  let mant = bits & (((<u64>1) << 52) - 1);
  if (exp == 0) exp = 1;
  else mant |= (<u64>1) << 52;
  exp -= 1023;
  assignU64(d, mant);
  shift(d, exp - 52);
  return d;
}

/** The shortest decimal that reads back as `f` (finite), in the main decimal. */
export function shortestOf(f: f64): Decimal {
  const d = mainDecimal();
  const bits = reinterpret<u64>(f);
  d.neg = bits >> 63 != 0;
  let exp = <i32>((bits >> 52) & 0x7ff);
  let mant = bits & (((<u64>1) << 52) - 1);
  if (exp == 0) exp = 1;
  else mant |= (<u64>1) << 52;
  exp -= 1023;
  assignU64(d, mant);
  shift(d, exp - 52);
  if (mant == 0) return d;
  roundShortest(d, mant, exp);
  return d;
}

/**
 * Cuts the exact decimal d of mant * 2^(exp-52) to the fewest digits that still lie strictly
 * between the halfway points to the neighbouring doubles (inclusive when mant is even, as
 * round-half-even reading would give the same double).
 */
function roundShortest(d: Decimal, mant: u64, exp: i32): void {
  const minExp: i32 = -1022;
  // An integer with no more digits than the precision allows is already shortest.
  if (exp > minExp && 332 * (d.dp - d.nd) >= 100 * (exp - 52)) return;

  const upper = decimalAt(UPPER_HEADER, UPPER_DIGITS);
  assignU64(upper, mant * 2 + 1);
  shift(upper, exp - 52 - 1);

  // The lower neighbour is closer when mant is the smallest normal mantissa (the exponent
  // below has half the spacing), except at the minimum exponent.
  let mantLo: u64;
  let expLo: i32;
  if (mant > (<u64>1) << 52 || exp == minExp) {
    mantLo = mant - 1;
    expLo = exp;
  } else {
    mantLo = mant * 2 - 1;
    expLo = exp - 1;
  }
  const lower = decimalAt(LOWER_HEADER, LOWER_DIGITS);
  assignU64(lower, mantLo * 2 + 1);
  shift(lower, expLo - 52 - 1);

  const inclusive = (mant & 1) == 0;

  // Walk the digits of upper; mi and li are the same decimal positions in d and lower.
  let upperDelta: i32 = 0;
  for (let ui: i32 = 0; ; ui++) {
    const mi = ui - upper.dp + d.dp;
    if (mi >= d.nd) break;
    const li = ui - upper.dp + lower.dp;
    const l: u32 = li >= 0 && li < lower.nd ? digitAt(lower, li) : 0;
    const m: u32 = mi >= 0 ? digitAt(d, mi) : 0;
    const u: u32 = ui < upper.nd ? digitAt(upper, ui) : 0;

    // Truncating here stays above lower unless lower has the same digit (or is reached
    // exactly and inclusive).
    const okDown = l != m || (inclusive && li + 1 == lower.nd);

    // How far upper is above m at this position: 0 same so far, 1 by one unit that may be
    // only a carry (m = ...4999, u = ...5000), 2 by more.
    if (upperDelta == 0 && m + 1 < u) upperDelta = 2;
    else if (upperDelta == 0 && m != u) upperDelta = 1;
    else if (upperDelta == 1 && (m != 9 || u != 0)) upperDelta = 2;
    const okUp = upperDelta > 0 && (inclusive || upperDelta > 1 || ui + 1 < upper.nd);

    if (okDown && okUp) {
      roundTo(d, mi + 1);
      return;
    }
    if (okDown) {
      roundDown(d, mi + 1);
      return;
    }
    if (okUp) {
      roundUp(d, mi + 1);
      return;
    }
  }
}

/** The i-th digit (0-9) of d; 0 past the last digit. */
export function digitOf(d: Decimal, i: i32): u32 {
  return i < d.nd ? digitAt(d, i) : 0;
}
