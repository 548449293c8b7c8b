// Rego values in linear memory. A value is the address of a 16-byte header; 0 is "undefined".
//
//   offset 0   u8   tag: 0 null, 1 boolean, 2 number, 3 string, 4 array, 5 object, 6 set
//                   (the order of the tags is Rego's order of types)
//   boolean    +1 u8 0/1
//   number     +1 u8 kind: 0 int (i64 at +8), 1 float (f64 at +8), 2 big (decimal text:
//              length at +4, address at +8; optional '-', no leading zeros, beyond i64)
//   string     +4 u32 byte length, +8 u32 address of the UTF-8 bytes
//   array      +4 u32 length, +8 u32 capacity, +12 u32 address of the elements (u32 each)
//   object     as array; entries are (key, value) pairs sorted by key in Rego order
//   set        as array; members sorted in Rego order, no two equal
//
// Values are immutable once published; builders (new collections) are filled first.
import { alloc } from './alloc';

export const TAG_NULL: u8 = 0;
export const TAG_BOOLEAN: u8 = 1;
export const TAG_NUMBER: u8 = 2;
export const TAG_STRING: u8 = 3;
export const TAG_ARRAY: u8 = 4;
export const TAG_OBJECT: u8 = 5;
export const TAG_SET: u8 = 6;

export const NUM_INT: u8 = 0;
export const NUM_FLOAT: u8 = 1;
export const NUM_BIG: u8 = 2;

export const HEADER: usize = 16;

// Constants outside the heap, so they survive heap resets.
const NULL_VALUE = memory.data(16, 8);
const FALSE_VALUE = memory.data<u8>([TAG_BOOLEAN, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 8);
const TRUE_VALUE = memory.data<u8>([TAG_BOOLEAN, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 8);
/** Integers 0..255 (array indexes, counts), filled on first use. */
const SMALL_INTS = memory.data(256 * 16, 8);
const SMALL_INT_LIMIT: i64 = 256;

export function tagOf(v: usize): u8 {
  return load<u8>(v);
}

export function lengthOf(v: usize): u32 {
  return load<u32>(v, 4);
}

export function capacityOf(v: usize): u32 {
  return load<u32>(v, 8);
}

export function dataOf(v: usize): usize {
  return <usize>load<u32>(v, 12);
}

// ---------------------------------------------------------------------------------------------
// Scalars

export function nullValue(): usize {
  return NULL_VALUE;
}

export function booleanValue(b: bool): usize {
  return b ? TRUE_VALUE : FALSE_VALUE;
}

export function booleanOf(v: usize): bool {
  return load<u8>(v, 1) != 0;
}

export function isFalse(v: usize): bool {
  return v == FALSE_VALUE || (load<u8>(v) == TAG_BOOLEAN && load<u8>(v, 1) == 0);
}

export function isTrue(v: usize): bool {
  return v == TRUE_VALUE || (load<u8>(v) == TAG_BOOLEAN && load<u8>(v, 1) != 0);
}

export function numberKind(v: usize): u8 {
  return load<u8>(v, 1);
}

export function intOf(v: usize): i64 {
  return load<i64>(v, 8);
}

export function floatOf(v: usize): f64 {
  return load<f64>(v, 8);
}

/** An exact integer. */
export function intValue(i: i64): usize {
  if (i >= 0 && i < SMALL_INT_LIMIT) {
    const p = SMALL_INTS + ((<usize>i) << 4);
    if (load<u8>(p) != TAG_NUMBER) {
      store<u8>(p, TAG_NUMBER);
      store<u8>(p, NUM_INT, 1);
      store<i64>(p, i, 8);
    }
    return p;
  }
  const v = alloc(HEADER);
  store<u64>(v, <u64>TAG_NUMBER);
  store<i64>(v, i, 8);
  return v;
}

/** A double as stored, without normalisation (see number.ts floatNumber for that). */
export function rawFloatValue(f: f64): usize {
  const v = alloc(HEADER);
  store<u64>(v, (<u64>TAG_NUMBER) | ((<u64>NUM_FLOAT) << 8));
  store<f64>(v, f, 8);
  return v;
}

/** A big integer from canonical decimal text (copied). */
export function bigValue(text: usize, len: u32): usize {
  const v = alloc(HEADER + <usize>len);
  store<u64>(v, (<u64>TAG_NUMBER) | ((<u64>NUM_BIG) << 8) | ((<u64>len) << 32));
  store<u32>(v, <u32>(v + HEADER), 8);
  memory.copy(v + HEADER, text, len);
  return v;
}

export function bigText(v: usize): usize {
  return <usize>load<u32>(v, 8);
}

export function bigLength(v: usize): u32 {
  return load<u32>(v, 4);
}

/** A string over bytes that stay where they are (heap or data segment); no copy. */
export function stringRef(ptr: usize, len: u32): usize {
  const v = alloc(HEADER);
  store<u64>(v, (<u64>TAG_STRING) | ((<u64>len) << 32));
  store<u64>(v, <u64>ptr, 8);
  return v;
}

/** A string with a copy of the bytes. */
export function stringCopy(ptr: usize, len: u32): usize {
  const v = alloc(HEADER + <usize>len);
  store<u64>(v, (<u64>TAG_STRING) | ((<u64>len) << 32));
  store<u64>(v, <u64>(v + HEADER), 8);
  memory.copy(v + HEADER, ptr, len);
  return v;
}

/** An ASCII string literal as a string value. */
export function stringOfAscii(s: string): usize {
  const n = <u32>s.length;
  const v = alloc(HEADER + <usize>n);
  store<u64>(v, (<u64>TAG_STRING) | ((<u64>n) << 32));
  store<u64>(v, <u64>(v + HEADER), 8);
  const base = changetype<usize>(s);
  for (let i: usize = 0; i < <usize>n; i++) store<u8>(v + HEADER + i, load<u16>(base + (i << 1)));
  return v;
}

export function stringPtr(v: usize): usize {
  return <usize>load<u32>(v, 8);
}

export function stringLen(v: usize): u32 {
  return load<u32>(v, 4);
}

// ---------------------------------------------------------------------------------------------
// Collections

/** A new empty array, object or set with room for `cap` elements (entries for objects). */
export function newCollection(tag: u8, cap: u32): usize {
  const width: usize = tag == TAG_OBJECT ? 8 : 4;
  const v = alloc(HEADER + <usize>cap * width);
  store<u64>(v, <u64>tag);
  store<u32>(v, cap, 8);
  store<u32>(v, <u32>(v + HEADER), 12);
  return v;
}

export function elementAt(v: usize, i: u32): usize {
  return <usize>load<u32>(dataOf(v) + ((<usize>i) << 2));
}

export function keyAt(obj: usize, i: u32): usize {
  return <usize>load<u32>(dataOf(obj) + ((<usize>i) << 3));
}

export function valueAt(obj: usize, i: u32): usize {
  return <usize>load<u32>(dataOf(obj) + ((<usize>i) << 3), 4);
}

export function isCollection(v: usize): bool {
  return load<u8>(v) >= TAG_ARRAY;
}

// ---------------------------------------------------------------------------------------------
// Exports

export function vd_null(): i32 {
  return <i32>NULL_VALUE;
}

export function vd_boolean(b: i32): i32 {
  return <i32>booleanValue(b != 0);
}

export function vd_int(i: i64): i32 {
  return <i32>intValue(i);
}

export function vd_string(ptr: i32, len: i32): i32 {
  return <i32>stringCopy(<usize>ptr, <u32>len);
}

export function vd_array(): i32 {
  return <i32>newCollection(TAG_ARRAY, 0);
}

export function vd_object(): i32 {
  return <i32>newCollection(TAG_OBJECT, 0);
}

export function vd_set(): i32 {
  return <i32>newCollection(TAG_SET, 0);
}

/** 0 null, 1 boolean, 2 number, 3 string, 4 array, 5 object, 6 set. */
export function vd_type(v: i32): i32 {
  return <i32>tagOf(<usize>v);
}

/** Elements of an array, entries of an object, members of a set; -1 for other values. */
export function vd_length(v: i32): i32 {
  return isCollection(<usize>v) ? <i32>lengthOf(<usize>v) : -1;
}

/** The i-th key in iteration order: array index, object key (sorted), set member. */
export function vd_iter_key(v: i32, i: i32): i32 {
  const p = <usize>v;
  const tag = tagOf(p);
  if (tag == TAG_ARRAY) return <i32>intValue(<i64>i);
  if (tag == TAG_OBJECT) return <i32>keyAt(p, <u32>i);
  return <i32>elementAt(p, <u32>i);
}

/** The i-th value in iteration order: array element, object value, set member. */
export function vd_iter_value(v: i32, i: i32): i32 {
  const p = <usize>v;
  if (tagOf(p) == TAG_OBJECT) return <i32>valueAt(p, <u32>i);
  return <i32>elementAt(p, <u32>i);
}

/** 1 unless `v` is false (or undefined). */
export function vd_truthy(v: i32): i32 {
  return v != 0 && !isFalse(<usize>v) ? 1 : 0;
}

/** The bytes of a string value (for the generated code's print and host calls). */
export function vd_string_ptr(v: i32): i32 {
  return <i32>stringPtr(<usize>v);
}

export function vd_string_len(v: i32): i32 {
  return <i32>stringLen(<usize>v);
}
