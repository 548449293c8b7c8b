// Lookups in the generated Unicode tables (unicode-tables.ts): simple case mappings and Go's
// notion of a printable code point.
import {
  LOWER,
  LOWER_RUNS,
  PRINTABLE,
  PRINTABLE_RANGES,
  UPPER,
  UPPER_RUNS,
} from './unicode-tables';

/** Maps cp through runs of (start, end, delta, stride); cp itself when no run covers it. */
function mapThrough(table: usize, runs: i32, cp: u32): u32 {
  let lo: i32 = 0;
  let hi: i32 = runs - 1;
  // The last run that starts at or before cp.
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (<u32>load<i32>(table + ((<usize>mid) << 4)) <= cp) lo = mid + 1;
    else hi = mid - 1;
  }
  if (hi < 0) return cp;
  const run = table + ((<usize>hi) << 4);
  const start = <u32>load<i32>(run);
  const end = <u32>load<i32>(run, 4);
  const stride = <u32>load<i32>(run, 12);
  if (cp > end || (cp - start) % stride != 0) return cp;
  return <u32>(<i32>cp + load<i32>(run, 8));
}

export function lowerRune(cp: u32): u32 {
  if (cp < 0x80) return cp >= 0x41 && cp <= 0x5a ? cp + 0x20 : cp;
  return mapThrough(LOWER, LOWER_RUNS, cp);
}

export function upperRune(cp: u32): u32 {
  if (cp < 0x80) return cp >= 0x61 && cp <= 0x7a ? cp - 0x20 : cp;
  return mapThrough(UPPER, UPPER_RUNS, cp);
}

/** Whether Go's strconv.Quote prints the code point as it is (letters, marks, numbers, punctuation, symbols, space). */
export function isPrintable(cp: u32): bool {
  if (cp < 0x80) return cp >= 0x20 && cp < 0x7f;
  let lo: i32 = 0;
  let hi: i32 = PRINTABLE_RANGES - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = PRINTABLE + ((<usize>mid) << 3);
    if (cp < <u32>load<i32>(at)) hi = mid - 1;
    else if (cp > <u32>load<i32>(at, 4)) lo = mid + 1;
    else return true;
  }
  return false;
}
