// Array builtins (policies/rego/builtins/arrays.ts): array.concat, array.slice, array.reverse,
// array.flatten.
import { arrayAppend } from '../collections';
import { dataOf, elementAt, lengthOf, newCollection, tagOf, TAG_ARRAY } from '../value';
import { arrayArg, intArg, intArgValue } from './args';

/** Elements [from, to) of an array as a new array. */
function sliceOf(xs: usize, from: u32, to: u32): usize {
  const n = to - from;
  const out = newCollection(TAG_ARRAY, n);
  memory.copy(dataOf(out), dataOf(xs) + ((<usize>from) << 2), (<usize>n) << 2);
  store<u32>(out, n, 4);
  return out;
}

export function vd_builtin_array_concat(a: i32, b: i32): i32 {
  if (a == 0 || b == 0) return 0;
  if (!arrayArg('array.concat', a, 1) || !arrayArg('array.concat', b, 2)) return 0;
  const la = lengthOf(a);
  const lb = lengthOf(b);
  const out = newCollection(TAG_ARRAY, la + lb);
  memory.copy(dataOf(out), dataOf(a), (<usize>la) << 2);
  memory.copy(dataOf(out) + ((<usize>la) << 2), dataOf(b), (<usize>lb) << 2);
  store<u32>(out, la + lb, 4);
  return <i32>out;
}

/** Elements [start, stop), both bounds clamped to the array (never an error). */
export function vd_builtin_array_slice(xs: i32, start: i32, stop: i32): i32 {
  if (xs == 0 || start == 0 || stop == 0) return 0;
  const name = 'array.slice';
  if (!arrayArg(name, xs, 1) || !intArg(name, start, 2)) return 0;
  let from = intArgValue();
  if (!intArg(name, stop, 3)) return 0;
  let to = intArgValue();
  const len = <i64>lengthOf(xs);
  to = to < 0 ? 0 : to > len ? len : to;
  from = from < 0 ? 0 : from > to ? to : from;
  return <i32>sliceOf(xs, <u32>from, <u32>to);
}

export function vd_builtin_array_reverse(xs: i32): i32 {
  if (xs == 0 || !arrayArg('array.reverse', xs, 1)) return 0;
  const n = lengthOf(xs);
  const out = newCollection(TAG_ARRAY, n);
  for (let i: u32 = 0; i < n; i++) arrayAppend(out, elementAt(xs, n - 1 - i));
  return <i32>out;
}

/** Flattens one level: nested arrays are spliced in, other elements kept. */
export function vd_builtin_array_flatten(xs: i32): i32 {
  if (xs == 0 || !arrayArg('array.flatten', xs, 1)) return 0;
  const n = lengthOf(xs);
  const out = newCollection(TAG_ARRAY, n);
  for (let i: u32 = 0; i < n; i++) {
    const x = elementAt(xs, i);
    if (tagOf(x) == TAG_ARRAY) {
      const m = lengthOf(x);
      for (let j: u32 = 0; j < m; j++) arrayAppend(out, elementAt(x, j));
    } else {
      arrayAppend(out, x);
    }
  }
  return <i32>out;
}
