// Object builtins (policies/rego/builtins/objects.ts): object.get (with key paths),
// object.remove, object.filter, object.union, object.union_n, object.keys, object.subset.
import { compareValues, equalValues } from '../compare';
import {
  arrayAppend,
  copyCollection,
  find,
  getValue,
  objectGet,
  objectInsert,
  setHas,
} from '../collections';
import { builtinErrorBegin, errorText, ERR_TYPE } from '../errors';
import {
  booleanValue,
  elementAt,
  keyAt,
  lengthOf,
  newCollection,
  tagOf,
  TAG_ARRAY,
  TAG_OBJECT,
  TAG_SET,
  valueAt,
} from '../value';
import { arrayArg, elementError, objectArg, typeError } from './args';

/** The value at `path` (an array of keys) inside v, or 0 when a step is missing. */
export function valueAtPath(v: usize, path: usize): usize {
  let cur = v;
  const n = lengthOf(path);
  for (let i: u32 = 0; i < n; i++) {
    const tag = tagOf(cur);
    if (tag != TAG_OBJECT && tag != TAG_ARRAY && tag != TAG_SET) return 0;
    cur = getValue(cur, elementAt(path, i));
    if (cur == 0) return 0;
  }
  return cur;
}

export function vd_builtin_object_get(obj: i32, key: i32, fallback: i32): i32 {
  if (obj == 0 || key == 0 || fallback == 0) return 0;
  if (!objectArg('object.get', obj, 1)) return 0;
  const found = tagOf(key) == TAG_ARRAY ? valueAtPath(obj, key) : objectGet(obj, key);
  return found != 0 ? <i32>found : fallback;
}

/** Whether k is among the keys named by an array, a set, or an object's keys. */
function inKeys(keys: usize, k: usize): bool {
  const tag = tagOf(keys);
  if (tag == TAG_SET) return setHas(keys, k);
  if (tag == TAG_OBJECT) return find(keys, k) >= 0;
  const n = lengthOf(keys);
  for (let i: u32 = 0; i < n; i++) if (equalValues(elementAt(keys, i), k)) return true;
  return false;
}

function filterKeys(name: string, obj: usize, keys: usize, keep: bool): usize {
  if (!objectArg(name, obj, 1)) return 0;
  const tag = tagOf(keys);
  if (tag != TAG_ARRAY && tag != TAG_SET && tag != TAG_OBJECT) {
    typeError(name, 2, keys, 'one of {object, set, array}');
    return 0;
  }
  const n = lengthOf(obj);
  const out = newCollection(TAG_OBJECT, n);
  for (let i: u32 = 0; i < n; i++) {
    const k = keyAt(obj, i);
    if (inKeys(keys, k) == keep) {
      // Entries stay in order: append.
      const len = lengthOf(out);
      store<u32>(load<u32>(out, 12) + (len << 3), <u32>k);
      store<u32>(load<u32>(out, 12) + (len << 3), <u32>valueAt(obj, i), 4);
      store<u32>(out, len + 1, 4);
    }
  }
  return out;
}

export function vd_builtin_object_remove(obj: i32, keys: i32): i32 {
  if (obj == 0 || keys == 0) return 0;
  return <i32>filterKeys('object.remove', obj, keys, false);
}

export function vd_builtin_object_filter(obj: i32, keys: i32): i32 {
  if (obj == 0 || keys == 0) return 0;
  return <i32>filterKeys('object.filter', obj, keys, true);
}

/** Deep merge where b wins, except that two objects under one key are merged in turn. */
export function mergeObjects(a: usize, b: usize): usize {
  const out = copyCollection(a, lengthOf(b));
  const n = lengthOf(b);
  for (let i: u32 = 0; i < n; i++) {
    const k = keyAt(b, i);
    const bv = valueAt(b, i);
    const av = objectGet(a, k);
    if (av != 0 && tagOf(av) == TAG_OBJECT && tagOf(bv) == TAG_OBJECT)
      objectInsert(out, k, mergeObjects(av, bv));
    else objectInsert(out, k, bv);
  }
  return out;
}

export function vd_builtin_object_union(a: i32, b: i32): i32 {
  if (a == 0 || b == 0) return 0;
  if (!objectArg('object.union', a, 1) || !objectArg('object.union', b, 2)) return 0;
  return <i32>mergeObjects(a, b);
}

export function vd_builtin_object_union_n(xs: i32): i32 {
  if (xs == 0 || !arrayArg('object.union_n', xs, 1)) return 0;
  let acc = newCollection(TAG_OBJECT, 0);
  const n = lengthOf(xs);
  for (let i: u32 = 0; i < n; i++) {
    const x = elementAt(xs, i);
    if (tagOf(x) != TAG_OBJECT) {
      elementError('object.union_n', 1, xs, x, 'objects');
      return 0;
    }
    acc = mergeObjects(acc, x);
  }
  return <i32>acc;
}

export function vd_builtin_object_keys(obj: i32): i32 {
  if (obj == 0 || !objectArg('object.keys', obj, 1)) return 0;
  const n = lengthOf(obj);
  const out = newCollection(TAG_SET, n);
  for (let i: u32 = 0; i < n; i++) arrayAppend(out, keyAt(obj, i));
  return <i32>out;
}

// ---------------------------------------------------------------------------------------------
// object.subset

function objectSubset(sup: usize, sub: usize): bool {
  const n = lengthOf(sub);
  for (let i: u32 = 0; i < n; i++) {
    const subV = valueAt(sub, i);
    const supV = objectGet(sup, keyAt(sub, i));
    if (supV == 0) return false;
    if (equalValues(supV, subV)) continue;
    const ts = tagOf(supV);
    if (ts != tagOf(subV)) return false;
    if (ts == TAG_OBJECT) {
      if (!objectSubset(supV, subV)) return false;
    } else if (ts == TAG_SET) {
      if (!setSubset(supV, subV)) return false;
    } else if (ts == TAG_ARRAY) {
      if (!arraySubset(supV, subV)) return false;
    } else {
      return false;
    }
  }
  return true;
}

function setSubset(sup: usize, sub: usize): bool {
  const n = lengthOf(sub);
  for (let i: u32 = 0; i < n; i++) if (!setHas(sup, elementAt(sub, i))) return false;
  return true;
}

/** Whether sub appears as a contiguous run inside sup. */
function arraySubset(sup: usize, sub: usize): bool {
  const n = lengthOf(sup);
  const m = lengthOf(sub);
  if (m > n) return false;
  for (let i: u32 = 0; i + m <= n; i++) {
    let all = true;
    for (let j: u32 = 0; j < m; j++) {
      if (compareValues(elementAt(sup, i + j), elementAt(sub, j)) != 0) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

/** Members of set `sub` that all equal some element of array `sup`. */
function arrayHasAll(sup: usize, sub: usize): bool {
  const n = lengthOf(sub);
  const m = lengthOf(sup);
  for (let i: u32 = 0; i < n; i++) {
    const x = elementAt(sub, i);
    let found = false;
    for (let j: u32 = 0; j < m && !found; j++) found = equalValues(elementAt(sup, j), x);
    if (!found) return false;
  }
  return true;
}

export function vd_builtin_object_subset(sup: i32, sub: i32): i32 {
  if (sup == 0 || sub == 0) return 0;
  const a = tagOf(sup);
  const b = tagOf(sub);
  let result = false;
  if (a == TAG_OBJECT && b == TAG_OBJECT) result = objectSubset(sup, sub);
  else if (a == TAG_SET && b == TAG_SET) result = setSubset(sup, sub);
  else if (a == TAG_ARRAY && b == TAG_ARRAY) result = arraySubset(sup, sub);
  else if (a == TAG_ARRAY && b == TAG_SET) result = arrayHasAll(sup, sub);
  else {
    builtinErrorBegin(ERR_TYPE, 'object.subset');
    errorText('both arguments object.subset must be of the same type or array and set');
    return 0;
  }
  return <i32>booleanValue(result);
}
