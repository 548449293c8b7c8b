// `with data.<path> as <value>` over rules. The generated code keeps the active replacements
// as an array of [path, value] pairs (outermost first); a rule function asks, before computing,
// whether a replacement covers its path, and after computing, whether replacements below its
// path change parts of its value. Mirrors Run.override in policies/ir/interpret.ts.

import { elementAt, lengthOf, newCollection, TAG_ARRAY } from './value';
import { equalValues } from './compare';
import { arrayAppend, getValue, upsert } from './collections';

/** Returned when no replacement covers the path: compute the rule. */
const NONE: i32 = -1;

/** Is `a[0..n)` equal to `b[0..n)`? */
function samePrefix(a: usize, b: usize, n: u32): bool {
  for (let i: u32 = 0; i < n; i++) {
    if (!equalValues(elementAt(a, i), elementAt(b, i))) return false;
  }
  return true;
}

/**
 * The value a rule at `path` has when a replacement at or above its path is active: the
 * innermost such replacement's value, followed down the path, with later (inner) replacements
 * below the path applied; `0` if that is undefined; `-1` when no replacement covers the path.
 */
export function vd_override_replace(overrides: i32, path: i32): i32 {
  if (overrides == 0) return NONE;
  const n = lengthOf(<usize>overrides);
  const plen = lengthOf(<usize>path);
  for (let i: i32 = <i32>n - 1; i >= 0; i--) {
    const entry = elementAt(<usize>overrides, <u32>i);
    const opath = elementAt(entry, 0);
    const olen = lengthOf(opath);
    if (olen > plen || !samePrefix(opath, <usize>path, olen)) continue;
    let v = elementAt(entry, 1);
    for (let j = olen; j < plen && v != 0; j++) v = getValue(v, elementAt(<usize>path, j));
    // Replacements made after this one that reach below the rule still apply.
    for (let k: u32 = <u32>i + 1; k < n && v != 0; k++) {
      const inner = elementAt(<usize>overrides, k);
      const ipath = elementAt(inner, 0);
      if (lengthOf(ipath) > plen && samePrefix(ipath, <usize>path, plen)) {
        v = upsert(v, ipath, plen, elementAt(inner, 1));
      }
    }
    return <i32>v;
  }
  return NONE;
}

/** A rule's computed value with the replacements below its path applied (outermost first). */
export function vd_override_below(overrides: i32, path: i32, value: i32): i32 {
  if (overrides == 0 || value == 0) return value;
  const n = lengthOf(<usize>overrides);
  const plen = lengthOf(<usize>path);
  let v = <usize>value;
  for (let i: u32 = 0; i < n; i++) {
    const entry = elementAt(<usize>overrides, i);
    const opath = elementAt(entry, 0);
    if (lengthOf(opath) > plen && samePrefix(opath, <usize>path, plen))
      v = upsert(v, opath, plen, elementAt(entry, 1));
  }
  return <i32>v;
}

/** A new replacement list: `overrides` (may be 0) followed by [path, value]. */
export function vd_override_push(overrides: i32, path: i32, value: i32): i32 {
  const n: u32 = overrides == 0 ? 0 : lengthOf(<usize>overrides);
  const out = newCollection(TAG_ARRAY, n + 1);
  for (let i: u32 = 0; i < n; i++) arrayAppend(out, elementAt(<usize>overrides, i));
  const entry = newCollection(TAG_ARRAY, 2);
  arrayAppend(entry, <usize>path);
  arrayAppend(entry, <usize>value);
  arrayAppend(out, entry);
  return <i32>out;
}
