// Aggregates over collections (policies/rego/builtins/aggregates.ts): count, sum, product, max,
// min, sort, all, any.
import { compareValues } from '../compare';
import { copyCollection, sortValues } from '../collections';
import { numberAdd, numberMultiply } from '../number';
import {
  dataOf,
  elementAt,
  intValue,
  isTrue,
  lengthOf,
  stringLen,
  stringPtr,
  tagOf,
  TAG_ARRAY,
  TAG_NUMBER,
  TAG_OBJECT,
  TAG_SET,
  TAG_STRING,
  booleanValue,
} from '../value';
import { elementError, isCollectionOfItems, typeError } from './args';

/** Code points in UTF-8 bytes (bytes that do not continue a sequence). */
export function countRunes(ptr: usize, len: u32): u32 {
  let n: u32 = 0;
  for (let i: u32 = 0; i < len; i++) if ((load<u8>(ptr + i) & 0xc0) != 0x80) n++;
  return n;
}

export function vd_builtin_count(v: i32): i32 {
  if (v == 0) return 0;
  const tag = tagOf(v);
  if (tag == TAG_STRING) return <i32>intValue(<i64>countRunes(stringPtr(v), stringLen(v)));
  if (tag == TAG_ARRAY || tag == TAG_OBJECT || tag == TAG_SET)
    return <i32>intValue(<i64>lengthOf(v));
  typeError('count', 1, v, 'one of {array, object, set, string}');
  return 0;
}

function items(name: string, v: usize): bool {
  if (isCollectionOfItems(v)) return true;
  typeError(name, 1, v, 'one of {set, array}');
  return false;
}

export function vd_builtin_sum(v: i32): i32 {
  if (v == 0 || !items('sum', v)) return 0;
  let acc = intValue(0);
  const n = lengthOf(v);
  for (let i: u32 = 0; i < n; i++) {
    const x = elementAt(v, i);
    if (tagOf(x) != TAG_NUMBER) {
      elementError('sum', 1, v, x, 'numbers');
      return 0;
    }
    acc = numberAdd('sum', acc, x);
    if (acc == 0) return 0;
  }
  return <i32>acc;
}

export function vd_builtin_product(v: i32): i32 {
  if (v == 0 || !items('product', v)) return 0;
  let acc = intValue(1);
  const n = lengthOf(v);
  for (let i: u32 = 0; i < n; i++) {
    const x = elementAt(v, i);
    if (tagOf(x) != TAG_NUMBER) {
      elementError('product', 1, v, x, 'numbers');
      return 0;
    }
    acc = numberMultiply('product', acc, x);
    if (acc == 0) return 0;
  }
  return <i32>acc;
}

/** The greatest (sign 1) or least (sign -1) element; the first of equal ones; 0 when empty. */
function extreme(name: string, v: usize, sign: i32): usize {
  if (!items(name, v)) return 0;
  const n = lengthOf(v);
  if (n == 0) return 0;
  // A set is sorted: its ends are the answers.
  if (tagOf(v) == TAG_SET) return sign > 0 ? elementAt(v, n - 1) : elementAt(v, 0);
  let best = elementAt(v, 0);
  for (let i: u32 = 1; i < n; i++) {
    const x = elementAt(v, i);
    if (compareValues(x, best) * sign > 0) best = x;
  }
  return best;
}

export function vd_builtin_max(v: i32): i32 {
  if (v == 0) return 0;
  return <i32>extreme('max', v, 1);
}

export function vd_builtin_min(v: i32): i32 {
  if (v == 0) return 0;
  return <i32>extreme('min', v, -1);
}

export function vd_builtin_sort(v: i32): i32 {
  if (v == 0) return 0;
  const tag = tagOf(v);
  if (tag != TAG_ARRAY && tag != TAG_SET) {
    typeError('sort', 1, v, 'one of {set, array}');
    return 0;
  }
  const out = copyCollection(v, 0);
  store<u8>(out, TAG_ARRAY);
  if (tag == TAG_ARRAY) sortValues(dataOf(out), lengthOf(out));
  return <i32>out;
}

function truthAggregate(name: string, v: usize, every: bool): usize {
  if (!isCollectionOfItems(v)) {
    typeError(name, 1, v, 'one of {array, set}');
    return 0;
  }
  const n = lengthOf(v);
  for (let i: u32 = 0; i < n; i++) {
    const t = isTrue(elementAt(v, i));
    if (every && !t) return booleanValue(false);
    if (!every && t) return booleanValue(true);
  }
  return booleanValue(every);
}

export function vd_builtin_all(v: i32): i32 {
  if (v == 0) return 0;
  return <i32>truthAggregate('all', v, true);
}

export function vd_builtin_any(v: i32): i32 {
  if (v == 0) return 0;
  return <i32>truthAggregate('any', v, false);
}
