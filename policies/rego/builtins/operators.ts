/**
 * Rego's infix operators as builtins: comparison, arithmetic, set intersection and union, and
 * membership (`x in xs`, `k, v in xs`).
 */
import { compare, equal, ObjectValue, SetValue, type Value } from '../../ir/value';
import { numberArg, setArg, typeError } from './args';
import { add, divide, multiply, remainder, subtract } from './numeric';
import { builtin, T } from './spec';
import type { BuiltinDef } from './types';

function comparison(name: string, test: (c: number) => boolean): BuiltinDef {
  return builtin(name, [T.any, T.any], T.boolean, ([a, b]) => {
    if (a === undefined || b === undefined) return undefined;
    return test(compare(a, b));
  });
}

function arithmetic(name: string, op: typeof add): BuiltinDef {
  return builtin(name, [T.number, T.number], T.number, (args) =>
    op(name, numberArg(name, args, 1), numberArg(name, args, 2)),
  );
}

const numberOrSet = T.anyOf(T.number, T.set());

/** `a - b`: numeric difference, or set difference. */
const minus = builtin('minus', [numberOrSet, numberOrSet], numberOrSet, ([a = null, b = null]) => {
  const aNum = typeof a === 'number' || typeof a === 'bigint';
  const bNum = typeof b === 'number' || typeof b === 'bigint';
  if (aNum && bNum) return subtract('minus', a, b);
  if (a instanceof SetValue && b instanceof SetValue) {
    return new SetValue(a.sorted().filter((x) => !b.has(x)));
  }
  if (!aNum && !(a instanceof SetValue)) typeError('minus', 1, a, 'number', 'set');
  if (bNum) typeError('minus', 2, b, 'set');
  typeError('minus', 2, b, 'number');
});

const and = builtin('and', [T.set(), T.set()], T.set(), (args) => {
  const a = setArg('and', args, 1);
  const b = setArg('and', args, 2);
  return new SetValue(a.sorted().filter((x) => b.has(x)));
});

const or = builtin('or', [T.set(), T.set()], T.set(), (args) => {
  const a = setArg('or', args, 1);
  const b = setArg('or', args, 2);
  return new SetValue([...a.sorted(), ...b.sorted()]);
});

/** `x in xs`: a member of a set, an element of an array, or a value of an object. */
export function isMember(x: Value, collection: Value): boolean {
  if (collection instanceof SetValue) return collection.has(x);
  if (Array.isArray(collection)) return (collection as readonly Value[]).some((e) => equal(e, x));
  if (collection instanceof ObjectValue) return collection.values().some((e) => equal(e, x));
  return false;
}

/** `k, v in xs`: index/element of an array, key/value of an object, or v == k of a set. */
export function isMemberWithKey(key: Value, value: Value, collection: Value): boolean {
  if (collection instanceof SetValue) return collection.has(key) && equal(key, value);
  if (Array.isArray(collection)) {
    if (typeof key !== 'number' || !Number.isInteger(key)) return false;
    const e = (collection as readonly Value[])[key];
    return e !== undefined && equal(e, value);
  }
  if (collection instanceof ObjectValue) {
    const e = collection.get(key);
    return e !== undefined && equal(e, value);
  }
  return false;
}

export const OPERATOR_BUILTINS: readonly BuiltinDef[] = [
  builtin('equal', [T.any, T.any], T.boolean, ([a, b]) =>
    a === undefined || b === undefined ? undefined : equal(a, b),
  ),
  builtin('neq', [T.any, T.any], T.boolean, ([a, b]) =>
    a === undefined || b === undefined ? undefined : !equal(a, b),
  ),
  comparison('lt', (c) => c < 0),
  comparison('lte', (c) => c <= 0),
  comparison('gt', (c) => c > 0),
  comparison('gte', (c) => c >= 0),
  arithmetic('plus', add),
  minus,
  arithmetic('mul', multiply),
  arithmetic('div', divide),
  arithmetic('rem', remainder),
  and,
  or,
  builtin('internal.member_2', [T.any, T.any], T.boolean, ([x, xs]) =>
    x === undefined || xs === undefined ? undefined : isMember(x, xs),
  ),
  builtin('internal.member_3', [T.any, T.any, T.any], T.boolean, ([k, v, xs]) =>
    k === undefined || v === undefined || xs === undefined ? undefined : isMemberWithKey(k, v, xs),
  ),
];
