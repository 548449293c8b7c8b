// Rego's order and equality over values: null < boolean < number < string < array < object <
// set; numbers by value (1 == 1.0), strings by bytes (= code points), arrays element-wise then
// by length, objects by sorted (key, value) pairs then size, sets by sorted members then size.
import { compareNumbers } from './number';
import {
  elementAt,
  keyAt,
  lengthOf,
  stringLen,
  stringPtr,
  tagOf,
  TAG_ARRAY,
  TAG_BOOLEAN,
  TAG_NUMBER,
  TAG_OBJECT,
  TAG_SET,
  TAG_STRING,
  valueAt,
} from './value';

/** Byte-wise order of two byte strings, then by length. */
export function compareBytes(pa: usize, la: u32, pb: usize, lb: u32): i32 {
  const n = la < lb ? la : lb;
  let i: u32 = 0;
  // Eight bytes at a time while they are equal.
  while (i + 8 <= n && load<u64>(pa + i) == load<u64>(pb + i)) i += 8;
  for (; i < n; i++) {
    const x = load<u8>(pa + i);
    const y = load<u8>(pb + i);
    if (x != y) return x < y ? -1 : 1;
  }
  return la == lb ? 0 : la < lb ? -1 : 1;
}

export function bytesEqual(pa: usize, pb: usize, n: u32): bool {
  let i: u32 = 0;
  while (i + 8 <= n) {
    if (load<u64>(pa + i) != load<u64>(pb + i)) return false;
    i += 8;
  }
  for (; i < n; i++) if (load<u8>(pa + i) != load<u8>(pb + i)) return false;
  return true;
}

/** A string value against raw bytes. */
export function compareStringTo(s: usize, ptr: usize, len: u32): i32 {
  return compareBytes(stringPtr(s), stringLen(s), ptr, len);
}

export function compareValues(a: usize, b: usize): i32 {
  if (a == b) return 0;
  const ta = tagOf(a);
  const tb = tagOf(b);
  if (ta != tb) return ta < tb ? -1 : 1;
  switch (ta) {
    case TAG_BOOLEAN: {
      const x = load<u8>(a, 1);
      const y = load<u8>(b, 1);
      return x == y ? 0 : x < y ? -1 : 1;
    }
    case TAG_NUMBER:
      return compareNumbers(a, b);
    case TAG_STRING:
      return compareBytes(stringPtr(a), stringLen(a), stringPtr(b), stringLen(b));
    case TAG_ARRAY:
    case TAG_SET: {
      const la = lengthOf(a);
      const lb = lengthOf(b);
      const n = la < lb ? la : lb;
      for (let i: u32 = 0; i < n; i++) {
        const c = compareValues(elementAt(a, i), elementAt(b, i));
        if (c != 0) return c;
      }
      return la == lb ? 0 : la < lb ? -1 : 1;
    }
    case TAG_OBJECT: {
      const la = lengthOf(a);
      const lb = lengthOf(b);
      const n = la < lb ? la : lb;
      for (let i: u32 = 0; i < n; i++) {
        const ck = compareValues(keyAt(a, i), keyAt(b, i));
        if (ck != 0) return ck;
        const cv = compareValues(valueAt(a, i), valueAt(b, i));
        if (cv != 0) return cv;
      }
      return la == lb ? 0 : la < lb ? -1 : 1;
    }
    default:
      return 0; // null
  }
}

export function equalValues(a: usize, b: usize): bool {
  if (a == b) return true;
  const ta = tagOf(a);
  if (ta != tagOf(b)) return false;
  switch (ta) {
    case TAG_BOOLEAN:
      return load<u8>(a, 1) == load<u8>(b, 1);
    case TAG_NUMBER:
      return compareNumbers(a, b) == 0;
    case TAG_STRING: {
      const n = stringLen(a);
      return n == stringLen(b) && bytesEqual(stringPtr(a), stringPtr(b), n);
    }
    case TAG_ARRAY:
    case TAG_SET: {
      const n = lengthOf(a);
      if (n != lengthOf(b)) return false;
      for (let i: u32 = 0; i < n; i++)
        if (!equalValues(elementAt(a, i), elementAt(b, i))) return false;
      return true;
    }
    case TAG_OBJECT: {
      const n = lengthOf(a);
      if (n != lengthOf(b)) return false;
      for (let i: u32 = 0; i < n; i++) {
        if (!equalValues(keyAt(a, i), keyAt(b, i))) return false;
        if (!equalValues(valueAt(a, i), valueAt(b, i))) return false;
      }
      return true;
    }
    default:
      return true; // null
  }
}

/** Rego equality: 1 when equal. */
export function vd_equal(a: i32, b: i32): i32 {
  return equalValues(<usize>a, <usize>b) ? 1 : 0;
}

/** Rego order: -1, 0 or 1. */
export function vd_compare(a: i32, b: i32): i32 {
  return compareValues(<usize>a, <usize>b);
}
