// Integers of any size as decimal text, for the rare results beyond 64 bits: Rego keeps
// integers exact (as Go's big.Int / the interpreter's bigint do). Schoolbook algorithms on
// ASCII digits: quadratic, which is fine for the sizes policies meet. Results are fresh heap
// buffers; operands are read through Integer views (sign + magnitude without leading zeros).
import { alloc } from './alloc';
import { digitOf, exactOf } from './decimal';
import {
  bigLength,
  bigText,
  bigValue,
  floatOf,
  intOf,
  intValue,
  NUM_BIG,
  NUM_INT,
  numberKind,
} from './value';

@unmanaged
export class Integer {
  neg: bool = false;
  ptr: usize = 0;
  len: u32 = 0;
}

const VIEW_A = memory.data(16, 8);
const VIEW_B = memory.data(16, 8);
const DIGITS_A = memory.data(24);
const DIGITS_B = memory.data(24);

export function viewA(): Integer {
  return changetype<Integer>(VIEW_A);
}

export function viewB(): Integer {
  return changetype<Integer>(VIEW_B);
}

export function scratchA(): usize {
  return DIGITS_A;
}

export function scratchB(): usize {
  return DIGITS_B;
}

/** Writes the decimal digits of |i| at `buf` (24 bytes), returning their count. */
export function unsignedDigits(buf: usize, u: u64): u32 {
  if (u == 0) {
    store<u8>(buf, 0x30);
    return 1;
  }
  let n: u32 = 0;
  let x = u;
  while (x > 0) {
    x /= 10;
    n++;
  }
  x = u;
  for (let i = n; i > 0; i--) {
    store<u8>(buf + <usize>(i - 1), <u8>(x % 10) + 0x30);
    x /= 10;
  }
  return n;
}

/** |i| as u64 (i64.MIN included). */
export function magnitude(i: i64): u64 {
  return i < 0 ? <u64>-(i + 1) + 1 : <u64>i;
}

/**
 * Points `into` at the integer value of the number v, which must be integral. `scratch` (24
 * bytes) holds the digits of a 64-bit integer.
 */
export function loadInteger(into: Integer, v: usize, scratch: usize): void {
  const kind = numberKind(v);
  if (kind == NUM_INT) {
    const i = intOf(v);
    into.neg = i < 0;
    into.ptr = scratch;
    into.len = unsignedDigits(scratch, magnitude(i));
  } else if (kind == NUM_BIG) {
    const text = bigText(v);
    const neg = load<u8>(text) == 0x2d;
    into.neg = neg;
    into.ptr = neg ? text + 1 : text;
    into.len = neg ? bigLength(v) - 1 : bigLength(v);
  } else {
    // An integral double: its exact digits.
    const d = exactOf(floatOf(v));
    into.neg = d.neg;
    const n = <u32>(d.dp > 0 ? d.dp : 1);
    const buf = alloc(<usize>n);
    for (let i: u32 = 0; i < n; i++) store<u8>(buf + i, <u8>digitOf(d, <i32>i) + 0x30);
    into.ptr = buf;
    into.len = n;
    if (d.nd == 0) into.neg = false;
  }
  trimLeadingZeros(into);
}

function trimLeadingZeros(x: Integer): void {
  while (x.len > 1 && load<u8>(x.ptr) == 0x30) {
    x.ptr++;
    x.len--;
  }
  if (x.len == 1 && load<u8>(x.ptr) == 0x30) x.neg = false;
}

/** Compares magnitudes. */
export function compareMagnitudes(aPtr: usize, aLen: u32, bPtr: usize, bLen: u32): i32 {
  if (aLen != bLen) return aLen < bLen ? -1 : 1;
  for (let i: u32 = 0; i < aLen; i++) {
    const x = load<u8>(aPtr + i);
    const y = load<u8>(bPtr + i);
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

/** The number for sign and ASCII magnitude digits (int when it fits 64 bits, else big). */
export function integerResult(neg: bool, ptr: usize, len: u32): usize {
  while (len > 1 && load<u8>(ptr) == 0x30) {
    ptr++;
    len--;
  }
  if (len < 19 || (len == 19 && compareMagnitudes(ptr, len, I64_MAX_TEXT, 19) <= 0)) {
    let u: u64 = 0;
    for (let i: u32 = 0; i < len; i++) u = u * 10 + <u64>(load<u8>(ptr + i) - 0x30);
    return intValue(neg ? -(<i64>u) : <i64>u);
  }
  if (neg && len == 19 && compareMagnitudes(ptr, len, I64_MIN_TEXT, 19) == 0) {
    return intValue(i64.MIN_VALUE);
  }
  if (!neg) return bigValue(ptr, len);
  const buf = alloc(<usize>len + 1);
  store<u8>(buf, 0x2d);
  memory.copy(buf + 1, ptr, len);
  return bigValue(buf, len + 1);
}

const I64_MAX_TEXT = memory.data<u8>([
  0x39, 0x32, 0x32, 0x33, 0x33, 0x37, 0x32, 0x30, 0x33, 0x36, 0x38, 0x35, 0x34, 0x37, 0x37, 0x35,
  0x38, 0x30, 0x37,
]); // 9223372036854775807
const I64_MIN_TEXT = memory.data<u8>([
  0x39, 0x32, 0x32, 0x33, 0x33, 0x37, 0x32, 0x30, 0x33, 0x36, 0x38, 0x35, 0x34, 0x37, 0x37, 0x35,
  0x38, 0x30, 0x38,
]); // 9223372036854775808

// Results of the magnitude operations.
let resultPtr: usize = 0;
let resultLen: u32 = 0;

function addMagnitudes(a: Integer, b: Integer): void {
  const n = (a.len > b.len ? a.len : b.len) + 1;
  const out = alloc(<usize>n);
  let carry: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    let s = carry;
    if (i < a.len) s += <u32>load<u8>(a.ptr + (a.len - 1 - i)) - 0x30;
    if (i < b.len) s += <u32>load<u8>(b.ptr + (b.len - 1 - i)) - 0x30;
    carry = s >= 10 ? 1 : 0;
    store<u8>(out + (n - 1 - i), <u8>(s - carry * 10) + 0x30);
  }
  resultPtr = out;
  resultLen = n;
}

/** |a| - |b| where |a| >= |b|. */
function subtractMagnitudes(a: Integer, b: Integer): void {
  const n = a.len;
  const out = alloc(<usize>n);
  let borrow: i32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    let s = <i32>load<u8>(a.ptr + (a.len - 1 - i)) - 0x30 - borrow;
    if (i < b.len) s -= <i32>load<u8>(b.ptr + (b.len - 1 - i)) - 0x30;
    borrow = s < 0 ? 1 : 0;
    store<u8>(out + (n - 1 - i), <u8>(s + borrow * 10) + 0x30);
  }
  resultPtr = out;
  resultLen = n;
}

/** a + b, or a - b when `negateB`. */
export function integerAdd(a: Integer, b: Integer, negateB: bool): usize {
  const bNeg = negateB ? !b.neg : b.neg;
  if (a.neg == bNeg) {
    addMagnitudes(a, b);
    return integerResult(a.neg, resultPtr, resultLen);
  }
  const c = compareMagnitudes(a.ptr, a.len, b.ptr, b.len);
  if (c == 0) return intValue(0);
  if (c > 0) {
    subtractMagnitudes(a, b);
    return integerResult(a.neg, resultPtr, resultLen);
  }
  subtractMagnitudes(b, a);
  return integerResult(bNeg, resultPtr, resultLen);
}

export function integerMultiply(a: Integer, b: Integer): usize {
  const n = a.len + b.len;
  const acc = alloc((<usize>n) << 2);
  memory.fill(acc, 0, (<usize>n) << 2);
  for (let i = <i32>a.len - 1; i >= 0; i--) {
    const x = <u32>load<u8>(a.ptr + <usize>i) - 0x30;
    if (x == 0) continue;
    let carry: u32 = 0;
    for (let j = <i32>b.len - 1; j >= 0; j--) {
      const at = acc + ((<usize>(i + j + 1)) << 2);
      const t = load<u32>(at) + x * (<u32>load<u8>(b.ptr + <usize>j) - 0x30) + carry;
      carry = t / 10;
      store<u32>(at, t - carry * 10);
    }
    const at = acc + ((<usize>i) << 2);
    store<u32>(at, load<u32>(at) + carry);
  }
  const out = alloc(<usize>n);
  for (let i: u32 = 0; i < n; i++)
    store<u8>(out + i, <u8>load<u32>(acc + ((<usize>i) << 2)) + 0x30);
  return integerResult(a.neg != b.neg, out, n);
}

let quotientValue: usize = 0;
let remainderValue: usize = 0;

/** Truncated division: quotient (sign of a*b) and remainder (sign of a). b must not be 0. */
export function integerDivide(a: Integer, b: Integer): void {
  // Long division: r holds the running remainder as b.len + 1 digits (leading zeros kept).
  const width = b.len + 1;
  const r = alloc(<usize>width);
  memory.fill(r, 0x30, width);
  const q = alloc(<usize>a.len);
  for (let i: u32 = 0; i < a.len; i++) {
    // r = r * 10 + next digit
    memory.copy(r, r + 1, width - 1);
    store<u8>(r + (width - 1), load<u8>(a.ptr + i));
    let digit: u8 = 0;
    // Subtract b while r >= b (at most 9 times).
    while (fitsUnder(r, width, b)) {
      subtractInPlace(r, width, b);
      digit++;
    }
    store<u8>(q + i, digit + 0x30);
  }
  quotientValue = integerResult(a.neg != b.neg, q, a.len);
  remainderValue = integerResult(a.neg, r, width);
}

/** Whether b <= r, with r of `width` digits (leading zeros allowed). */
function fitsUnder(r: usize, width: u32, b: Integer): bool {
  const pad = width - b.len;
  for (let i: u32 = 0; i < pad; i++) if (load<u8>(r + i) != 0x30) return true;
  return compareMagnitudes(r + pad, b.len, b.ptr, b.len) >= 0;
}

function subtractInPlace(r: usize, width: u32, b: Integer): void {
  let borrow: i32 = 0;
  for (let i: u32 = 0; i < width; i++) {
    let s = <i32>load<u8>(r + (width - 1 - i)) - 0x30 - borrow;
    if (i < b.len) s -= <i32>load<u8>(b.ptr + (b.len - 1 - i)) - 0x30;
    borrow = s < 0 ? 1 : 0;
    store<u8>(r + (width - 1 - i), <u8>(s + borrow * 10) + 0x30);
  }
}

export function quotient(): usize {
  return quotientValue;
}

export function remainder(): usize {
  return remainderValue;
}

/** Whether the integer is zero. */
export function isZeroInteger(x: Integer): bool {
  return x.len == 1 && load<u8>(x.ptr) == 0x30;
}
