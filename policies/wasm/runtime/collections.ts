// Arrays, objects and sets: lookups, builders, and the structural updates the generated code
// needs (insert with conflict detection, nested inserts for ref heads, deep merge, upsert for
// `with`, and the ABI's add/remove path). Objects and sets are kept sorted in Rego order, so a
// lookup is a binary search; a string key is compared byte-wise without allocating.
import { alloc, grow } from './alloc';
import { compareBytes, compareValues, equalValues } from './compare';
import {
  capacityOf,
  dataOf,
  elementAt,
  intOf,
  keyAt,
  lengthOf,
  newCollection,
  NUM_INT,
  numberKind,
  stringLen,
  stringPtr,
  tagOf,
  TAG_ARRAY,
  TAG_NUMBER,
  TAG_OBJECT,
  TAG_SET,
  TAG_STRING,
  valueAt,
} from './value';

function widthOf(coll: usize): usize {
  return tagOf(coll) == TAG_OBJECT ? 8 : 4;
}

/** Makes room for `extra` more elements, doubling the capacity. */
function reserve(coll: usize, extra: u32): void {
  const len = lengthOf(coll);
  const cap = capacityOf(coll);
  if (len + extra <= cap) return;
  let next: u32 = cap < 4 ? 4 : cap * 2;
  if (next < len + extra) next = len + extra;
  const width = widthOf(coll);
  const data = grow(dataOf(coll), <usize>cap * width, <usize>next * width);
  store<u32>(coll, next, 8);
  store<u32>(coll, <u32>data, 12);
}

/** The i-th sort key of an object (its key) or set (its member). */
function sortKeyAt(coll: usize, i: u32): usize {
  return tagOf(coll) == TAG_OBJECT ? keyAt(coll, i) : elementAt(coll, i);
}

/** Index of `key` in a sorted object or set, or -(insertion point) - 1. */
export function find(coll: usize, key: usize): i32 {
  const n = lengthOf(coll);
  if (n == 0) return -1;
  if (tagOf(key) == TAG_STRING) return findString(coll, stringPtr(key), stringLen(key));
  let lo: i32 = 0;
  let hi: i32 = <i32>n - 1;
  // Appending in order is the common way builders grow: check the end first.
  const last = compareValues(sortKeyAt(coll, n - 1), key);
  if (last < 0) return -(<i32>n) - 1;
  if (last == 0) return <i32>n - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareValues(sortKeyAt(coll, <u32>mid), key);
    if (c == 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}

/** find() for a string key given as bytes. */
export function findString(coll: usize, ptr: usize, len: u32): i32 {
  let lo: i32 = 0;
  let hi: i32 = <i32>lengthOf(coll) - 1;
  const isObject = tagOf(coll) == TAG_OBJECT;
  const data = dataOf(coll);
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const k = <usize>load<u32>(data + (isObject ? (<usize>mid) << 3 : (<usize>mid) << 2));
    const tag = tagOf(k);
    let c: i32;
    if (tag == TAG_STRING) c = compareBytes(stringPtr(k), stringLen(k), ptr, len);
    else c = tag < TAG_STRING ? -1 : 1;
    if (c == 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}

/** Opens a gap at index `at` (length grows by one). */
function insertGap(coll: usize, at: u32): usize {
  reserve(coll, 1);
  const len = lengthOf(coll);
  const width = widthOf(coll);
  const p = dataOf(coll) + <usize>at * width;
  if (at < len) memory.copy(p + width, p, <usize>(len - at) * width);
  store<u32>(coll, len + 1, 4);
  return p;
}

export function arrayAppend(arr: usize, v: usize): void {
  reserve(arr, 1);
  const len = lengthOf(arr);
  store<u32>(dataOf(arr) + ((<usize>len) << 2), <u32>v);
  store<u32>(arr, len + 1, 4);
}

/** Adds a member to a set builder (no-op when an equal member is there). */
export function setAdd(set: usize, v: usize): void {
  const i = find(set, v);
  if (i >= 0) return;
  store<u32>(insertGap(set, <u32>(-i - 1)), <u32>v);
}

/** Sets or replaces a key of an object builder. */
export function objectInsert(obj: usize, k: usize, v: usize): void {
  const i = find(obj, k);
  if (i >= 0) {
    store<u32>(dataOf(obj) + ((<usize>i) << 3), <u32>v, 4);
    return;
  }
  const p = insertGap(obj, <u32>(-i - 1));
  store<u32>(p, <u32>k);
  store<u32>(p, <u32>v, 4);
}

/** The value under `k`, or 0. */
export function objectGet(obj: usize, k: usize): usize {
  const i = find(obj, k);
  return i >= 0 ? valueAt(obj, <u32>i) : 0;
}

/** The value under a string key given as bytes, or 0. */
export function objectGetString(obj: usize, ptr: usize, len: u32): usize {
  const i = findString(obj, ptr, len);
  return i >= 0 ? valueAt(obj, <u32>i) : 0;
}

export function setHas(set: usize, v: usize): bool {
  return find(set, v) >= 0;
}

/** Removes entry or member i. */
export function removeAt(coll: usize, i: u32): void {
  const len = lengthOf(coll);
  const width = widthOf(coll);
  const p = dataOf(coll) + <usize>i * width;
  memory.copy(p, p + width, <usize>(len - i - 1) * width);
  store<u32>(coll, len - 1, 4);
}

/** A shallow copy (a builder with the same elements). */
export function copyCollection(coll: usize, extra: u32): usize {
  const len = lengthOf(coll);
  const out = newCollection(tagOf(coll), len + extra);
  memory.copy(dataOf(out), dataOf(coll), <usize>len * widthOf(coll));
  store<u32>(out, len, 4);
  return out;
}

/** `src[key]`: array element at an integer index, object value, set member; 0 if absent. */
export function getValue(src: usize, key: usize): usize {
  const tag = tagOf(src);
  if (tag == TAG_OBJECT) return objectGet(src, key);
  if (tag == TAG_ARRAY) {
    if (tagOf(key) != TAG_NUMBER || numberKind(key) != NUM_INT) return 0;
    const i = intOf(key);
    if (i < 0 || i >= <i64>lengthOf(src)) return 0;
    return elementAt(src, <u32>i);
  }
  if (tag == TAG_SET) return setHas(src, key) ? key : 0;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Building objects from unsorted entries (JSON parsing): append, then sort once.

/** Appends an entry without keeping the order; call finishObject when done. */
export function objectAppendUnsorted(obj: usize, k: usize, v: usize): void {
  reserve(obj, 1);
  const len = lengthOf(obj);
  const p = dataOf(obj) + ((<usize>len) << 3);
  store<u32>(p, <u32>k);
  store<u32>(p, <u32>v, 4);
  store<u32>(obj, len + 1, 4);
}

/** Sorts the entries by key (stable) and keeps the last of equal keys. */
export function finishObject(obj: usize): void {
  const n = lengthOf(obj);
  if (n < 2) return;
  const data = dataOf(obj);
  let sorted = true;
  for (let i: u32 = 1; i < n && sorted; i++) {
    if (compareValues(keyAt(obj, i - 1), keyAt(obj, i)) >= 0) sorted = false;
  }
  if (sorted) return;
  if (n <= 16) insertionSortPairs(data, n);
  else sortPairs(data, n);
  // Drop all but the last of each run of equal keys.
  let w: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    if (i + 1 < n && equalValues(keyAt(obj, i), keyAt(obj, i + 1))) continue;
    store<u64>(data + ((<usize>w) << 3), load<u64>(data + ((<usize>i) << 3)));
    w++;
  }
  store<u32>(obj, w, 4);
}

/**
 * Stable binary insertion sort of (key, value) pairs by key: for small objects, few comparisons
 * and no scratch memory.
 */
function insertionSortPairs(data: usize, n: u32): void {
  for (let i: u32 = 1; i < n; i++) {
    const entry = load<u64>(data + ((<usize>i) << 3));
    const key = <usize>(<u32>entry);
    // The first position whose key is greater (after equal keys, to stay stable).
    let lo: u32 = 0;
    let hi: u32 = i;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareValues(<usize>load<u32>(data + ((<usize>mid) << 3)), key) > 0) hi = mid;
      else lo = mid + 1;
    }
    if (lo == i) continue;
    const at = data + ((<usize>lo) << 3);
    memory.copy(at + 8, at, (<usize>(i - lo)) << 3);
    store<u64>(at, entry);
  }
}

/** Stable merge sort of (key, value) pairs by key. */
function sortPairs(data: usize, n: u32): void {
  const tmp = alloc((<usize>n) << 3);
  for (let width: u32 = 1; width < n; width <<= 1) {
    for (let lo: u32 = 0; lo < n; lo += width << 1) {
      const mid = lo + width < n ? lo + width : n;
      const hi = lo + (width << 1) < n ? lo + (width << 1) : n;
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        const a = <usize>load<u32>(data + ((<usize>i) << 3));
        const b = <usize>load<u32>(data + ((<usize>j) << 3));
        if (compareValues(b, a) < 0) {
          store<u64>(tmp + ((<usize>k) << 3), load<u64>(data + ((<usize>j) << 3)));
          j++;
        } else {
          store<u64>(tmp + ((<usize>k) << 3), load<u64>(data + ((<usize>i) << 3)));
          i++;
        }
        k++;
      }
      while (i < mid) {
        store<u64>(tmp + ((<usize>k) << 3), load<u64>(data + ((<usize>i) << 3)));
        i++;
        k++;
      }
      while (j < hi) {
        store<u64>(tmp + ((<usize>k) << 3), load<u64>(data + ((<usize>j) << 3)));
        j++;
        k++;
      }
    }
    memory.copy(data, tmp, (<usize>n) << 3);
  }
}

/** Stable merge sort of values (4 bytes each) in Rego order. */
export function sortValues(data: usize, n: u32): void {
  if (n < 2) return;
  const tmp = alloc((<usize>n) << 2);
  for (let width: u32 = 1; width < n; width <<= 1) {
    for (let lo: u32 = 0; lo < n; lo += width << 1) {
      const mid = lo + width < n ? lo + width : n;
      const hi = lo + (width << 1) < n ? lo + (width << 1) : n;
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        const a = load<u32>(data + ((<usize>i) << 2));
        const b = load<u32>(data + ((<usize>j) << 2));
        if (compareValues(<usize>b, <usize>a) < 0) {
          store<u32>(tmp + ((<usize>k) << 2), b);
          j++;
        } else {
          store<u32>(tmp + ((<usize>k) << 2), a);
          i++;
        }
        k++;
      }
      while (i < mid) {
        store<u32>(tmp + ((<usize>k) << 2), load<u32>(data + ((<usize>i) << 2)));
        i++;
        k++;
      }
      while (j < hi) {
        store<u32>(tmp + ((<usize>k) << 2), load<u32>(data + ((<usize>j) << 2)));
        j++;
        k++;
      }
    }
    memory.copy(data, tmp, (<usize>n) << 2);
  }
}

/** A set of the given values (sorted, duplicates dropped); `data` is reordered. */
export function setOfValues(data: usize, n: u32): usize {
  sortValues(data, n);
  const out = newCollection(TAG_SET, n);
  let w: u32 = 0;
  const outData = dataOf(out);
  for (let i: u32 = 0; i < n; i++) {
    const v = load<u32>(data + ((<usize>i) << 2));
    if (w > 0 && equalValues(<usize>load<u32>(outData + ((<usize>(w - 1)) << 2)), <usize>v))
      continue;
    store<u32>(outData + ((<usize>w) << 2), v);
    w++;
  }
  store<u32>(out, w, 4);
  return out;
}

/** A set of an array's elements (a copy; the array is not reordered). */
export function setOfArray(arr: usize): usize {
  const n = lengthOf(arr);
  const data = alloc((<usize>n) << 2);
  memory.copy(data, dataOf(arr), (<usize>n) << 2);
  return setOfValues(data, n);
}

// ---------------------------------------------------------------------------------------------
// Structural updates

/** 0, or 1 when `k` holds a value different from `v` (nothing is changed then). */
export function objectInsertOnce(obj: usize, k: usize, v: usize): i32 {
  const i = find(obj, k);
  if (i >= 0) return equalValues(valueAt(obj, <u32>i), v) ? 0 : 1;
  const p = insertGap(obj, <u32>(-i - 1));
  store<u32>(p, <u32>k);
  store<u32>(p, <u32>v, 4);
  return 0;
}

/**
 * Inserts `v` at `path` (an array of keys) inside the object builder `obj`, creating objects on
 * the way; with `leafSet` the value is added to a set at the path. Nested objects may be shared,
 * so they are copied before being written. Returns 1 on conflict (a non-object on the way, a
 * different value at the leaf, or a non-set under `leafSet`).
 */
export function objectInsertPath(obj: usize, path: usize, v: usize, leafSet: bool): i32 {
  const n = lengthOf(path);
  if (n == 0) return 1;
  let cur = obj;
  for (let i: u32 = 0; i + 1 < n; i++) {
    const key = elementAt(path, i);
    const at = find(cur, key);
    let next: usize;
    if (at < 0) {
      next = newCollection(TAG_OBJECT, 0);
    } else {
      const prev = valueAt(cur, <u32>at);
      if (tagOf(prev) != TAG_OBJECT) return 1;
      next = copyCollection(prev, 1);
    }
    objectInsert(cur, key, next);
    cur = next;
  }
  const last = elementAt(path, n - 1);
  const prev = objectGet(cur, last);
  if (leafSet) {
    if (prev != 0 && tagOf(prev) != TAG_SET) return 1;
    const set = prev != 0 ? copyCollection(prev, 1) : newCollection(TAG_SET, 1);
    setAdd(set, v);
    objectInsert(cur, last, set);
    return 0;
  }
  if (prev != 0 && !equalValues(prev, v)) return 1;
  objectInsert(cur, last, v);
  return 0;
}

/** Deep-merges object `src` into builder `dst`: objects under one key merge (as copies). */
export function objectMerge(dst: usize, src: usize): void {
  const n = lengthOf(src);
  for (let i: u32 = 0; i < n; i++) {
    const k = keyAt(src, i);
    const v = valueAt(src, i);
    const prev = objectGet(dst, k);
    if (prev != 0 && tagOf(prev) == TAG_OBJECT && tagOf(v) == TAG_OBJECT) {
      const merged = copyCollection(prev, lengthOf(v));
      objectMerge(merged, v);
      objectInsert(dst, k, merged);
    } else {
      objectInsert(dst, k, v);
    }
  }
}

/** A copy of `doc` with `v` at `path[from..]` (objects created or copied on the way). */
export function upsert(doc: usize, path: usize, from: u32, v: usize): usize {
  if (from >= lengthOf(path)) return v;
  const head = elementAt(path, from);
  const isObject = doc != 0 && tagOf(doc) == TAG_OBJECT;
  const copy = isObject ? copyCollection(doc, 1) : newCollection(TAG_OBJECT, 1);
  const below = isObject ? objectGet(doc, head) : 0;
  objectInsert(copy, head, upsert(below, path, from + 1, v));
  return copy;
}

/** OPA's error codes for the path exports. */
const ERR_OK: i32 = 0;
const ERR_INVALID_TYPE: i32 = 2;
const ERR_INVALID_PATH: i32 = 3;

/** In place: sets `value` at `path` in `base`, creating objects on the way (SDK data updates). */
export function addPath(base: usize, path: usize, value: usize): i32 {
  if (path == 0 || tagOf(path) != TAG_ARRAY || lengthOf(path) == 0) return ERR_INVALID_PATH;
  if (base == 0 || tagOf(base) != TAG_OBJECT) return ERR_INVALID_TYPE;
  const n = lengthOf(path);
  let cur = base;
  for (let i: u32 = 0; i + 1 < n; i++) {
    const key = elementAt(path, i);
    let next = objectGet(cur, key);
    if (next == 0) {
      next = newCollection(TAG_OBJECT, 0);
      objectInsert(cur, key, next);
    } else if (tagOf(next) != TAG_OBJECT) {
      return ERR_INVALID_TYPE;
    }
    cur = next;
  }
  objectInsert(cur, elementAt(path, n - 1), value);
  return ERR_OK;
}

/** In place: deletes the entry at `path` (a missing path counts as deleted). */
export function removePath(base: usize, path: usize): i32 {
  if (path == 0 || tagOf(path) != TAG_ARRAY || lengthOf(path) == 0) return ERR_INVALID_PATH;
  if (base == 0 || tagOf(base) != TAG_OBJECT) return ERR_INVALID_TYPE;
  const n = lengthOf(path);
  let cur = base;
  for (let i: u32 = 0; i + 1 < n; i++) {
    const next = objectGet(cur, elementAt(path, i));
    if (next == 0) return ERR_OK;
    if (tagOf(next) != TAG_OBJECT) return ERR_INVALID_TYPE;
    cur = next;
  }
  const at = find(cur, elementAt(path, n - 1));
  if (at >= 0) removeAt(cur, <u32>at);
  return ERR_OK;
}

// ---------------------------------------------------------------------------------------------
// Exports

export function vd_array_append(arr: i32, v: i32): void {
  arrayAppend(<usize>arr, <usize>v);
}

export function vd_set_add(set: i32, v: i32): void {
  setAdd(<usize>set, <usize>v);
}

export function vd_object_insert(obj: i32, k: i32, v: i32): void {
  objectInsert(<usize>obj, <usize>k, <usize>v);
}

export function vd_object_insert_once(obj: i32, k: i32, v: i32): i32 {
  return objectInsertOnce(<usize>obj, <usize>k, <usize>v);
}

export function vd_object_insert_path(obj: i32, path: i32, v: i32, leafSet: i32): i32 {
  return objectInsertPath(<usize>obj, <usize>path, <usize>v, leafSet != 0);
}

export function vd_object_merge(dst: i32, src: i32): void {
  objectMerge(<usize>dst, <usize>src);
}

export function vd_upsert(doc: i32, path: i32, v: i32): i32 {
  return <i32>upsert(<usize>doc, <usize>path, 0, <usize>v);
}

/**
 * A set of an array's elements; other values as they are. For results of host builtins whose
 * declared type is a set: the SDK hands them over as JSON, where sets are arrays.
 */
export function vd_set_of(v: i32): i32 {
  if (v == 0 || tagOf(<usize>v) != TAG_ARRAY) return v;
  return <i32>setOfArray(<usize>v);
}

/** `src[key]`; 0 when absent (or `src` is not a collection). */
export function vd_get(src: i32, key: i32): i32 {
  if (src == 0 || key == 0) return 0;
  return <i32>getValue(<usize>src, <usize>key);
}
