// Set builtins (policies/rego/builtins/sets.ts): intersection and union of a set of sets, and
// the deprecated set_diff.
import { elementAt, lengthOf, newCollection, tagOf, TAG_SET } from '../value';
import { setArg, typeError } from './args';
import { setDifference, setFilter, setUnion } from './operators';

/** Checks that every member of a set-of-sets operand is a set. */
function memberSets(name: string, v: usize): bool {
  if (!setArg(name, v, 1)) return false;
  const n = lengthOf(v);
  for (let i: u32 = 0; i < n; i++) {
    const x = elementAt(v, i);
    if (tagOf(x) != TAG_SET) {
      typeError(name, 1, x, 'set');
      return false;
    }
  }
  return true;
}

export function vd_builtin_intersection(v: i32): i32 {
  if (v == 0 || !memberSets('intersection', v)) return 0;
  const n = lengthOf(v);
  if (n == 0) return <i32>newCollection(TAG_SET, 0);
  let acc = elementAt(v, 0);
  for (let i: u32 = 1; i < n; i++) acc = setFilter(acc, elementAt(v, i), true);
  return <i32>acc;
}

export function vd_builtin_union(v: i32): i32 {
  if (v == 0 || !memberSets('union', v)) return 0;
  const n = lengthOf(v);
  let acc = newCollection(TAG_SET, 0);
  for (let i: u32 = 0; i < n; i++) acc = setUnion(acc, elementAt(v, i));
  return <i32>acc;
}

export function vd_builtin_set_diff(a: i32, b: i32): i32 {
  if (a == 0 || b == 0) return 0;
  if (!setArg('set_diff', a, 1) || !setArg('set_diff', b, 2)) return 0;
  return <i32>setDifference(a, b);
}
