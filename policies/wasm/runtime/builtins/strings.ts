// String builtins (policies/rego/builtins/strings.ts) with Go's semantics: indexes and lengths
// count code points, trimming works on code points. Results that are part of an operand point
// into its bytes (strings are immutable), so slicing never copies.
//
// lower/upper map each code point on its own through the simple case mappings of the
// generated tables (as the interpreter does with JavaScript's toLowerCase/toUpperCase).
import { bytesEqual } from '../compare';
import { arrayAppend } from '../collections';
import { writeByte, writeBytes, writerBegin, writerEnd, writerLength } from '../alloc';
import { decodeRune, runeWidth } from '../json';
import {
  booleanValue,
  elementAt,
  intValue,
  keyAt,
  lengthOf,
  newCollection,
  stringLen,
  stringPtr,
  stringRef,
  tagOf,
  TAG_ARRAY,
  TAG_STRING,
  valueAt,
} from '../value';
import {
  elementError,
  failBegin,
  intArg,
  intArgValue,
  isCollectionOfItems,
  objectArg,
  operandError,
  stringArg,
  typeError,
} from './args';
import { errorText } from '../errors';
import { lowerRune, upperRune } from '../unicode';

function twoStrings(name: string, a: usize, b: usize): bool {
  return stringArg(name, a, 1) && stringArg(name, b, 2);
}

/** Index of the first occurrence of needle in hay (bytes), or -1. */
function indexOfBytes(hay: usize, hayLen: u32, needle: usize, needleLen: u32, from: u32): i64 {
  if (needleLen == 0) return <i64>from;
  if (needleLen > hayLen) return -1;
  const first = load<u8>(needle);
  for (let i = from; i + needleLen <= hayLen; i++) {
    if (load<u8>(hay + i) == first && bytesEqual(hay + i, needle, needleLen)) return <i64>i;
  }
  return -1;
}

export function vd_builtin_contains(a: i32, b: i32): i32 {
  if (a == 0 || b == 0 || !twoStrings('contains', a, b)) return 0;
  return <i32>(
    booleanValue(indexOfBytes(stringPtr(a), stringLen(a), stringPtr(b), stringLen(b), 0) >= 0)
  );
}

export function vd_builtin_startswith(a: i32, b: i32): i32 {
  if (a == 0 || b == 0 || !twoStrings('startswith', a, b)) return 0;
  const n = stringLen(b);
  return <i32>booleanValue(n <= stringLen(a) && bytesEqual(stringPtr(a), stringPtr(b), n));
}

export function vd_builtin_endswith(a: i32, b: i32): i32 {
  if (a == 0 || b == 0 || !twoStrings('endswith', a, b)) return 0;
  const n = stringLen(b);
  const m = stringLen(a);
  return <i32>booleanValue(n <= m && bytesEqual(stringPtr(a) + (m - n), stringPtr(b), n));
}

export function vd_builtin_concat(sep: i32, xs: i32): i32 {
  if (sep == 0 || xs == 0 || !stringArg('concat', sep, 1)) return 0;
  if (!isCollectionOfItems(xs)) {
    typeError('concat', 2, xs, 'one of {set, array}');
    return 0;
  }
  const n = lengthOf(xs);
  for (let i: u32 = 0; i < n; i++) {
    const x = elementAt(xs, i);
    if (tagOf(x) != TAG_STRING) {
      elementError('concat', 2, xs, x, 'strings');
      return 0;
    }
  }
  if (n == 1) return <i32>elementAt(xs, 0);
  writerBegin();
  for (let i: u32 = 0; i < n; i++) {
    if (i > 0) writeBytes(stringPtr(sep), stringLen(sep));
    const x = elementAt(xs, i);
    writeBytes(stringPtr(x), stringLen(x));
  }
  const len = <u32>writerLength();
  return <i32>stringRef(writerEnd(), len);
}

// ---------------------------------------------------------------------------------------------
// lower / upper

function writeRune(cp: u32): void {
  if (cp < 0x80) writeByte(cp);
  else if (cp < 0x800) {
    writeByte(0xc0 | (cp >> 6));
    writeByte(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    writeByte(0xe0 | (cp >> 12));
    writeByte(0x80 | ((cp >> 6) & 0x3f));
    writeByte(0x80 | (cp & 0x3f));
  } else {
    writeByte(0xf0 | (cp >> 18));
    writeByte(0x80 | ((cp >> 12) & 0x3f));
    writeByte(0x80 | ((cp >> 6) & 0x3f));
    writeByte(0x80 | (cp & 0x3f));
  }
}

function mapCase(s: usize, upper: bool): usize {
  const p = stringPtr(s);
  const n = stringLen(s);
  writerBegin();
  let i: u32 = 0;
  while (i < n) {
    const b = <u32>load<u8>(p + i);
    if (b < 0x80) {
      writeByte(
        upper ? (b >= 0x61 && b <= 0x7a ? b - 0x20 : b) : b >= 0x41 && b <= 0x5a ? b + 0x20 : b,
      );
      i++;
      continue;
    }
    const cp = decodeRune(p + i, p + n);
    const w = <u32>runeWidth;
    const mapped = upper ? upperRune(cp) : lowerRune(cp);
    if (mapped == cp) writeBytes(p + i, w);
    else writeRune(mapped);
    i += w;
  }
  const len = <u32>writerLength();
  return stringRef(writerEnd(), len);
}

export function vd_builtin_lower(s: i32): i32 {
  if (s == 0 || !stringArg('lower', s, 1)) return 0;
  return <i32>mapCase(s, false);
}

export function vd_builtin_upper(s: i32): i32 {
  if (s == 0 || !stringArg('upper', s, 1)) return 0;
  return <i32>mapCase(s, true);
}

// ---------------------------------------------------------------------------------------------
// split, trim*, indexof, substring

export function vd_builtin_split(s: i32, sep: i32): i32 {
  if (s == 0 || sep == 0 || !twoStrings('split', s, sep)) return 0;
  const p = stringPtr(s);
  const n = stringLen(s);
  const sp = stringPtr(sep);
  const sn = stringLen(sep);
  const out = newCollection(TAG_ARRAY, 0);
  if (sn == 0) {
    // Go splits into code points.
    let i: u32 = 0;
    while (i < n) {
      decodeRune(p + i, p + n);
      const w = <u32>runeWidth;
      arrayAppend(out, stringRef(p + i, w));
      i += w;
    }
    return <i32>out;
  }
  let start: u32 = 0;
  for (;;) {
    const at = indexOfBytes(p, n, sp, sn, start);
    if (at < 0) break;
    arrayAppend(out, stringRef(p + start, <u32>at - start));
    start = <u32>at + sn;
  }
  arrayAppend(out, stringRef(p + start, n - start));
  return <i32>out;
}

/** Go's unicode.IsSpace. */
function isSpace(c: u32): bool {
  if (c <= 0xff) return c == 0x20 || (c >= 0x09 && c <= 0x0d) || c == 0x85 || c == 0xa0;
  return (
    c == 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c == 0x2028 ||
    c == 0x2029 ||
    c == 0x202f ||
    c == 0x205f ||
    c == 0x3000
  );
}

let cutsetPtr: usize = 0;
let cutsetLen: u32 = 0;

/** Whether the code point is in the cutset (or, with no cutset, is space). */
function dropRune(cp: u32): bool {
  if (cutsetPtr == 0) return isSpace(cp);
  let i: u32 = 0;
  while (i < cutsetLen) {
    const c = decodeRune(cutsetPtr + i, cutsetPtr + cutsetLen);
    if (c == cp) return true;
    i += <u32>runeWidth;
  }
  return false;
}

/** Start of the code point that ends just before byte `end`. */
function runeStartBefore(p: usize, end: u32): u32 {
  let i = end - 1;
  let back: u32 = 0;
  while (i > 0 && back < 3 && (load<u8>(p + i) & 0xc0) == 0x80) {
    i--;
    back++;
  }
  // Only a valid sequence counts as one code point; otherwise the last byte stands alone.
  decodeRune(p + i, p + end);
  return i + <u32>runeWidth == end ? i : end - 1;
}

function trimRunes(s: usize, left: bool, right: bool): usize {
  const p = stringPtr(s);
  const n = stringLen(s);
  let start: u32 = 0;
  let stop = n;
  if (left) {
    while (start < stop) {
      const cp = decodeRune(p + start, p + stop);
      if (!dropRune(cp)) break;
      start += <u32>runeWidth;
    }
  }
  if (right) {
    while (stop > start) {
      const at = runeStartBefore(p, stop);
      const cp = decodeRune(p + at, p + stop);
      if (!dropRune(cp)) break;
      stop = at;
    }
  }
  if (start == 0 && stop == n) return s;
  return stringRef(p + start, stop - start);
}

function trimWith(name: string, s: usize, cutset: usize, left: bool, right: bool): usize {
  if (!twoStrings(name, s, cutset)) return 0;
  cutsetPtr = stringPtr(cutset);
  cutsetLen = stringLen(cutset);
  if (cutsetLen == 0) return s;
  const out = trimRunes(s, left, right);
  cutsetPtr = 0;
  return out;
}

export function vd_builtin_trim(s: i32, cutset: i32): i32 {
  if (s == 0 || cutset == 0) return 0;
  return <i32>trimWith('trim', s, cutset, true, true);
}

export function vd_builtin_trim_left(s: i32, cutset: i32): i32 {
  if (s == 0 || cutset == 0) return 0;
  return <i32>trimWith('trim_left', s, cutset, true, false);
}

export function vd_builtin_trim_right(s: i32, cutset: i32): i32 {
  if (s == 0 || cutset == 0) return 0;
  return <i32>trimWith('trim_right', s, cutset, false, true);
}

export function vd_builtin_trim_space(s: i32): i32 {
  if (s == 0 || !stringArg('trim_space', s, 1)) return 0;
  cutsetPtr = 0;
  return <i32>trimRunes(s, true, true);
}

export function vd_builtin_trim_prefix(s: i32, prefix: i32): i32 {
  if (s == 0 || prefix == 0 || !twoStrings('trim_prefix', s, prefix)) return 0;
  const n = stringLen(prefix);
  if (n > stringLen(s) || !bytesEqual(stringPtr(s), stringPtr(prefix), n)) return s;
  return <i32>stringRef(stringPtr(s) + n, stringLen(s) - n);
}

export function vd_builtin_trim_suffix(s: i32, suffix: i32): i32 {
  if (s == 0 || suffix == 0 || !twoStrings('trim_suffix', s, suffix)) return 0;
  const n = stringLen(suffix);
  const m = stringLen(s);
  if (n == 0 || n > m || !bytesEqual(stringPtr(s) + (m - n), stringPtr(suffix), n)) return s;
  return <i32>stringRef(stringPtr(s), m - n);
}

/** Code points in the first `bytes` bytes. */
function runesBefore(p: usize, bytes: u32): u32 {
  let n: u32 = 0;
  for (let i: u32 = 0; i < bytes; i++) if ((load<u8>(p + i) & 0xc0) != 0x80) n++;
  return n;
}

export function vd_builtin_indexof(s: i32, search: i32): i32 {
  if (s == 0 || search == 0 || !twoStrings('indexof', s, search)) return 0;
  if (stringLen(search) == 0) {
    failBegin('indexof');
    errorText('empty search character');
    return 0;
  }
  const at = indexOfBytes(stringPtr(s), stringLen(s), stringPtr(search), stringLen(search), 0);
  if (at < 0) return <i32>intValue(-1);
  return <i32>intValue(<i64>runesBefore(stringPtr(s), <u32>at));
}

/** Byte offset of code point `index` (or the length when past the end). */
function runeOffset(p: usize, n: u32, index: i64): u32 {
  let i: u32 = 0;
  let count: i64 = 0;
  while (i < n && count < index) {
    decodeRune(p + i, p + n);
    i += <u32>runeWidth;
    count++;
  }
  return i;
}

export function vd_builtin_substring(s: i32, start: i32, length: i32): i32 {
  if (s == 0 || start == 0 || length == 0) return 0;
  const name = 'substring';
  if (!stringArg(name, s, 1) || !intArg(name, start, 2)) return 0;
  const from = intArgValue();
  if (!intArg(name, length, 3)) return 0;
  const count = intArgValue();
  if (from < 0) {
    failBegin(name);
    errorText('negative offset');
    return 0;
  }
  const p = stringPtr(s);
  const n = stringLen(s);
  const a = runeOffset(p, n, from);
  if (a >= n) return <i32>stringRef(p, 0);
  const b = count < 0 ? n : a + runeOffset(p + a, n - a, count);
  return <i32>stringRef(p + a, b - a);
}

// ---------------------------------------------------------------------------------------------
// strings.replace_n (Go's strings.Replacer) and strings.any_prefix_match / any_suffix_match

/**
 * Replaces with the (pattern, replacement) string pairs of `obj`, tried in key order at each
 * position: the first that matches wins, an empty pattern matches between code points (never
 * twice in a row at one position), and replaced text is not scanned again.
 */
function replaceWith(s: usize, obj: usize): usize {
  const p = stringPtr(s);
  const n = stringLen(s);
  const pairs = lengthOf(obj);
  writerBegin();
  let i: u32 = 0;
  let last: u32 = 0;
  let prevEmpty = false;
  for (;;) {
    let hit: i32 = -1;
    for (let k: u32 = 0; k < pairs; k++) {
      const pat = keyAt(obj, k);
      const len = stringLen(pat);
      if (len == 0 && prevEmpty) continue;
      if (len <= n - i && bytesEqual(p + i, stringPtr(pat), len)) {
        hit = <i32>k;
        break;
      }
    }
    if (hit >= 0) {
      const pat = keyAt(obj, <u32>hit);
      const rep = valueAt(obj, <u32>hit);
      prevEmpty = stringLen(pat) == 0;
      writeBytes(p + last, i - last);
      writeBytes(stringPtr(rep), stringLen(rep));
      i += stringLen(pat);
      last = i;
      continue;
    }
    prevEmpty = false;
    if (i >= n) break;
    decodeRune(p + i, p + n);
    i += <u32>runeWidth;
  }
  writeBytes(p + last, n - last);
  const len = <u32>writerLength();
  return stringRef(writerEnd(), len);
}

export function vd_builtin_strings_replace_n(patterns: i32, s: i32): i32 {
  if (patterns == 0 || s == 0) return 0;
  const name = 'strings.replace_n';
  if (!objectArg(name, patterns, 1) || !stringArg(name, s, 2)) return 0;
  const n = lengthOf(patterns);
  for (let k: u32 = 0; k < n; k++) {
    if (tagOf(keyAt(patterns, k)) != TAG_STRING) {
      operandError(name, 1, 'non-string key found in pattern object');
      return 0;
    }
    if (tagOf(valueAt(patterns, k)) != TAG_STRING) {
      operandError(name, 1, 'non-string value found in pattern object');
      return 0;
    }
  }
  return <i32>replaceWith(s, patterns);
}

/** A string, or an array or set of strings (checked); false after recording a type error. */
function stringsOperand(name: string, v: usize, pos: i32): bool {
  const tag = tagOf(v);
  if (tag == TAG_STRING) return true;
  if (!isCollectionOfItems(v)) {
    typeError(name, pos, v, 'one of {string, set, array}');
    return false;
  }
  const n = lengthOf(v);
  for (let i: u32 = 0; i < n; i++) {
    const x = elementAt(v, i);
    if (tagOf(x) != TAG_STRING) {
      elementError(name, pos, v, x, 'strings');
      return false;
    }
  }
  return true;
}

function itemCount(v: usize): u32 {
  return tagOf(v) == TAG_STRING ? 1 : lengthOf(v);
}

function itemAt(v: usize, i: u32): usize {
  return tagOf(v) == TAG_STRING ? v : elementAt(v, i);
}

function anyAffix(name: string, strs: usize, affixes: usize, suffix: bool): usize {
  if (!stringsOperand(name, strs, 1) || !stringsOperand(name, affixes, 2)) return 0;
  const n = itemCount(strs);
  const m = itemCount(affixes);
  for (let i: u32 = 0; i < n; i++) {
    const s = itemAt(strs, i);
    const sl = stringLen(s);
    for (let j: u32 = 0; j < m; j++) {
      const a = itemAt(affixes, j);
      const al = stringLen(a);
      if (al > sl) continue;
      const at = suffix ? stringPtr(s) + (sl - al) : stringPtr(s);
      if (bytesEqual(at, stringPtr(a), al)) return booleanValue(true);
    }
  }
  return booleanValue(false);
}

export function vd_builtin_strings_any_prefix_match(strs: i32, prefixes: i32): i32 {
  if (strs == 0 || prefixes == 0) return 0;
  return <i32>anyAffix('strings.any_prefix_match', strs, prefixes, false);
}

export function vd_builtin_strings_any_suffix_match(strs: i32, suffixes: i32): i32 {
  if (strs == 0 || suffixes == 0) return 0;
  return <i32>anyAffix('strings.any_suffix_match', strs, suffixes, true);
}
