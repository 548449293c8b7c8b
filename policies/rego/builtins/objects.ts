/**
 * Object builtins: object.get (with key paths), object.remove, object.filter, object.union,
 * object.union_n, object.keys, object.subset.
 */
import { compare, equal, isArray, ObjectValue, SetValue, type Value } from '../../ir/value';
import { arrayArg, elementError, objectArg, operand, typeError } from './args';
import { builtin, T } from './spec';
import { BuiltinTypeError, type BuiltinDef } from './types';

/** The value at `path` inside `v`, or undefined when any step is missing. */
export function valueAtPath(v: Value, path: readonly Value[]): Value | undefined {
  let cur: Value = v;
  for (const step of path) {
    if (cur instanceof ObjectValue) {
      const next = cur.get(step);
      if (next === undefined) return undefined;
      cur = next;
    } else if (isArray(cur)) {
      if (typeof step !== 'number' || !Number.isInteger(step)) return undefined;
      const next = cur[step];
      if (next === undefined) return undefined;
      cur = next;
    } else if (cur instanceof SetValue) {
      if (!cur.has(step)) return undefined;
      cur = step;
    } else {
      return undefined;
    }
  }
  return cur;
}

const objectGet = builtin('object.get', [T.object(), T.any, T.any], T.any, (args) => {
  const obj = objectArg('object.get', args, 1);
  const key = operand('object.get', args, 2);
  const fallback = operand('object.get', args, 3);
  if (isArray(key)) return valueAtPath(obj, key) ?? fallback;
  return obj.get(key) ?? fallback;
});

/** The keys named by an array, a set, or an object's keys (object.remove / object.filter). */
function keySet(name: string, args: readonly Value[]): SetValue {
  const v = operand(name, args, 2);
  if (isArray(v)) return new SetValue(v);
  if (v instanceof SetValue) return v;
  if (v instanceof ObjectValue) return new SetValue(v.keys());
  typeError(name, 2, v, 'object', 'set', 'array');
}

const keyCollection = T.anyOf(T.array(), T.object(), T.set());

const objectRemove = builtin('object.remove', [T.object(), keyCollection], T.object(), (args) => {
  const obj = objectArg('object.remove', args, 1);
  const keys = keySet('object.remove', args);
  return new ObjectValue(obj.sortedEntries().filter(([k]) => !keys.has(k)));
});

const objectFilter = builtin('object.filter', [T.object(), keyCollection], T.object(), (args) => {
  const obj = objectArg('object.filter', args, 1);
  const keys = keySet('object.filter', args);
  return new ObjectValue(obj.sortedEntries().filter(([k]) => keys.has(k)));
});

/** Deep merge where `b` wins, except that two objects under one key are merged in turn. */
export function mergeObjects(a: ObjectValue, b: ObjectValue): ObjectValue {
  const out = new ObjectValue(a.sortedEntries());
  for (const [k, bv] of b) {
    const av = a.get(k);
    out.set(k, av instanceof ObjectValue && bv instanceof ObjectValue ? mergeObjects(av, bv) : bv);
  }
  return out;
}

const objectUnion = builtin('object.union', [T.object(), T.object()], T.object(), (args) => {
  const a = objectArg('object.union', args, 1);
  const b = objectArg('object.union', args, 2);
  return mergeObjects(a, b);
});

const objectUnionN = builtin('object.union_n', [T.array(T.object())], T.object(), (args) => {
  const xs = arrayArg('object.union_n', args, 1);
  let acc = new ObjectValue();
  for (const x of xs) {
    if (!(x instanceof ObjectValue)) elementError('object.union_n', 1, xs, x, 'object');
    acc = mergeObjects(acc, x);
  }
  return acc;
});

const objectKeys = builtin('object.keys', [T.object()], T.set(), (args) => {
  return new SetValue(objectArg('object.keys', args, 1).keys());
});

// ---------------------------------------------------------------------------------------------
// object.subset

function objectSubset(sup: ObjectValue, sub: ObjectValue): boolean {
  for (const [k, subV] of sub) {
    const supV = sup.get(k);
    if (supV === undefined) return false;
    if (equal(supV, subV)) continue;
    if (supV instanceof ObjectValue && subV instanceof ObjectValue) {
      if (!objectSubset(supV, subV)) return false;
    } else if (supV instanceof SetValue && subV instanceof SetValue) {
      if (!setSubset(supV, subV)) return false;
    } else if (isArray(supV) && isArray(subV)) {
      if (!arraySubset(supV, subV)) return false;
    } else {
      return false;
    }
  }
  return true;
}

function setSubset(sup: SetValue, sub: SetValue): boolean {
  return sub.sorted().every((x) => sup.has(x));
}

/** Whether `sub` appears as a contiguous run inside `sup`. */
function arraySubset(sup: readonly Value[], sub: readonly Value[]): boolean {
  if (sub.length > sup.length) return false;
  outer: for (let i = 0; i + sub.length <= sup.length; i++) {
    for (let j = 0; j < sub.length; j++) {
      if (compare(sup[i + j] as Value, sub[j] as Value) !== 0) continue outer;
    }
    return true;
  }
  return false;
}

const objectSubsetDef = builtin(
  'object.subset',
  [T.anyOf(T.array(), T.object(), T.set()), T.anyOf(T.array(), T.object(), T.set())],
  T.boolean,
  (args) => {
    const sup = operand('object.subset', args, 1);
    const sub = operand('object.subset', args, 2);
    if (sup instanceof ObjectValue && sub instanceof ObjectValue) return objectSubset(sup, sub);
    if (sup instanceof SetValue && sub instanceof SetValue) return setSubset(sup, sub);
    if (isArray(sup) && isArray(sub)) return arraySubset(sup, sub);
    if (isArray(sup) && sub instanceof SetValue) {
      const members = new SetValue(sup);
      return setSubset(members, sub);
    }
    throw new BuiltinTypeError(
      'object.subset',
      'both arguments object.subset must be of the same type or array and set',
    );
  },
);

export const OBJECT_BUILTINS: readonly BuiltinDef[] = [
  objectGet,
  objectRemove,
  objectFilter,
  objectUnion,
  objectUnionN,
  objectKeys,
  objectSubsetDef,
];
