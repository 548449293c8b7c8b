// Rego's infix operators as builtins (policies/rego/builtins/operators.ts): comparison,
// arithmetic, set intersection, union and difference, and membership (`x in xs`).
import { equalValues, compareValues } from '../compare';
import { arrayAppend, setHas, objectGet } from '../collections';
import {
  numberAdd,
  numberDivide,
  numberMultiply,
  numberRemainder,
  numberSubtract,
} from '../number';
import {
  booleanValue,
  elementAt,
  intOf,
  lengthOf,
  newCollection,
  NUM_INT,
  numberKind,
  tagOf,
  TAG_ARRAY,
  TAG_NUMBER,
  TAG_OBJECT,
  TAG_SET,
  valueAt,
} from '../value';
import { numberArg, setArg, typeError } from './args';

export function vd_builtin_equal(a: i32, b: i32): i32 {
  if (a == 0 || b == 0) return 0;
  return <i32>booleanValue(equalValues(<usize>a, <usize>b));
}

export function vd_builtin_neq(a: i32, b: i32): i32 {
  if (a == 0 || b == 0) return 0;
  return <i32>booleanValue(!equalValues(<usize>a, <usize>b));
}

export function vd_builtin_lt(a: i32, b: i32): i32 {
  if (a == 0 || b == 0) return 0;
  return <i32>booleanValue(compareValues(<usize>a, <usize>b) < 0);
}

export function vd_builtin_lte(a: i32, b: i32): i32 {
  if (a == 0 || b == 0) return 0;
  return <i32>booleanValue(compareValues(<usize>a, <usize>b) <= 0);
}

export function vd_builtin_gt(a: i32, b: i32): i32 {
  if (a == 0 || b == 0) return 0;
  return <i32>booleanValue(compareValues(<usize>a, <usize>b) > 0);
}

export function vd_builtin_gte(a: i32, b: i32): i32 {
  if (a == 0 || b == 0) return 0;
  return <i32>booleanValue(compareValues(<usize>a, <usize>b) >= 0);
}

function numbers(name: string, a: usize, b: usize): bool {
  return numberArg(name, a, 1) && numberArg(name, b, 2);
}

export function vd_builtin_plus(a: i32, b: i32): i32 {
  if (a == 0 || b == 0 || !numbers('plus', a, b)) return 0;
  return <i32>numberAdd('plus', a, b);
}

/** `a - b`: numeric difference, or set difference. */
export function vd_builtin_minus(a: i32, b: i32): i32 {
  if (a == 0 || b == 0) return 0;
  const aNum = tagOf(a) == TAG_NUMBER;
  const bNum = tagOf(b) == TAG_NUMBER;
  if (aNum && bNum) return <i32>numberSubtract('minus', a, b);
  if (tagOf(a) == TAG_SET && tagOf(b) == TAG_SET) return <i32>setDifference(a, b);
  // The same checks, in the same order, as the interpreter.
  if (!aNum && tagOf(a) != TAG_SET) typeError('minus', 1, a, 'one of {number, set}');
  else if (bNum) typeError('minus', 2, b, 'set');
  else typeError('minus', 2, b, 'number');
  return 0;
}

export function vd_builtin_mul(a: i32, b: i32): i32 {
  if (a == 0 || b == 0 || !numbers('mul', a, b)) return 0;
  return <i32>numberMultiply('mul', a, b);
}

export function vd_builtin_div(a: i32, b: i32): i32 {
  if (a == 0 || b == 0 || !numbers('div', a, b)) return 0;
  return <i32>numberDivide('div', a, b);
}

export function vd_builtin_rem(a: i32, b: i32): i32 {
  if (a == 0 || b == 0 || !numbers('rem', a, b)) return 0;
  return <i32>numberRemainder('rem', a, b);
}

/** Members of set a that are (keep) or are not (!keep) in set b; both sorted, so one pass. */
export function setFilter(a: usize, b: usize, keep: bool): usize {
  const n = lengthOf(a);
  const out = newCollection(TAG_SET, n);
  const m = lengthOf(b);
  let j: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const x = elementAt(a, i);
    let c: i32 = 1;
    while (j < m) {
      c = compareValues(elementAt(b, j), x);
      if (c >= 0) break;
      j++;
    }
    const inB = j < m && c == 0;
    if (inB == keep) arrayAppend(out, x);
  }
  return out;
}

export function setDifference(a: usize, b: usize): usize {
  return setFilter(a, b, false);
}

/** The union of two sorted sets, merged in one pass. */
export function setUnion(a: usize, b: usize): usize {
  const n = lengthOf(a);
  const m = lengthOf(b);
  const out = newCollection(TAG_SET, n + m);
  let i: u32 = 0;
  let j: u32 = 0;
  while (i < n || j < m) {
    if (j >= m) {
      arrayAppend(out, elementAt(a, i++));
      continue;
    }
    if (i >= n) {
      arrayAppend(out, elementAt(b, j++));
      continue;
    }
    const c = compareValues(elementAt(a, i), elementAt(b, j));
    if (c <= 0) {
      arrayAppend(out, elementAt(a, i++));
      if (c == 0) j++;
    } else {
      arrayAppend(out, elementAt(b, j++));
    }
  }
  return out;
}

export function vd_builtin_and(a: i32, b: i32): i32 {
  if (a == 0 || b == 0) return 0;
  if (!setArg('and', a, 1) || !setArg('and', b, 2)) return 0;
  return <i32>setFilter(a, b, true);
}

export function vd_builtin_or(a: i32, b: i32): i32 {
  if (a == 0 || b == 0) return 0;
  if (!setArg('or', a, 1) || !setArg('or', b, 2)) return 0;
  return <i32>setUnion(a, b);
}

/** `x in xs`: a member of a set, an element of an array, or a value of an object. */
export function isMember(x: usize, xs: usize): bool {
  const tag = tagOf(xs);
  if (tag == TAG_SET) return setHas(xs, x);
  if (tag == TAG_ARRAY) {
    const n = lengthOf(xs);
    for (let i: u32 = 0; i < n; i++) if (equalValues(elementAt(xs, i), x)) return true;
    return false;
  }
  if (tag == TAG_OBJECT) {
    const n = lengthOf(xs);
    for (let i: u32 = 0; i < n; i++) if (equalValues(valueAt(xs, i), x)) return true;
  }
  return false;
}

/** `k, v in xs`: index/element of an array, key/value of an object, or k == v of a set. */
export function isMemberWithKey(k: usize, v: usize, xs: usize): bool {
  const tag = tagOf(xs);
  if (tag == TAG_SET) return setHas(xs, k) && equalValues(k, v);
  if (tag == TAG_ARRAY) {
    if (tagOf(k) != TAG_NUMBER || numberKind(k) != NUM_INT) return false;
    const i = intOf(k);
    if (i < 0 || i >= <i64>lengthOf(xs)) return false;
    return equalValues(elementAt(xs, <u32>i), v);
  }
  if (tag == TAG_OBJECT) {
    const e = objectGet(xs, k);
    return e != 0 && equalValues(e, v);
  }
  return false;
}

export function vd_builtin_internal_member_2(x: i32, xs: i32): i32 {
  if (x == 0 || xs == 0) return 0;
  return <i32>booleanValue(isMember(x, xs));
}

export function vd_builtin_internal_member_3(k: i32, v: i32, xs: i32): i32 {
  if (k == 0 || v == 0 || xs == 0) return 0;
  return <i32>booleanValue(isMemberWithKey(k, v, xs));
}
