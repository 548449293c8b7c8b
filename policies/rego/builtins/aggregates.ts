/**
 * Aggregates over collections: count, sum, product, max, min, sort, all, any.
 */
import { compare, equal, ObjectValue, SetValue, type RegoNumber, type Value } from '../../ir/value';
import { collectionItems, elementError, operand, typeError } from './args';
import { add, multiply } from './numeric';
import { builtin, collectionOf, T } from './spec';
import type { BuiltinDef } from './types';

const count = builtin(
  'count',
  [T.anyOf(T.string, T.array(), T.object(), T.set())],
  T.number,
  (args) => {
    const v = operand('count', args, 1);
    if (typeof v === 'string') {
      let n = 0;
      for (const _ of v) n++;
      return n;
    }
    if (Array.isArray(v)) return v.length;
    if (v instanceof SetValue || v instanceof ObjectValue) return v.size;
    typeError('count', 1, v, 'array', 'object', 'set', 'string');
  },
);

/** The items of an array or set operand, or a type error naming {set, array}. */
function items(name: string, args: readonly Value[]): readonly Value[] {
  const v = operand(name, args, 1);
  const xs = collectionItems(v);
  if (xs === undefined) typeError(name, 1, v, 'set', 'array');
  return xs;
}

function fold(name: string, initial: RegoNumber, op: typeof add): BuiltinDef {
  return builtin(name, [collectionOf(T.number)], T.number, (args) => {
    const xs = items(name, args);
    const collection = operand(name, args, 1);
    let acc = initial;
    for (const x of xs) {
      if (typeof x !== 'number' && typeof x !== 'bigint') {
        elementError(name, 1, collection, x, 'number');
      }
      acc = op(name, acc, x);
    }
    return acc;
  });
}

function extreme(name: string, better: (c: number) => boolean): BuiltinDef {
  return builtin(name, [collectionOf()], T.any, (args) => {
    const xs = items(name, args);
    let best: Value | undefined;
    for (const x of xs) if (best === undefined || better(compare(x, best))) best = x;
    return best;
  });
}

const sort = builtin('sort', [collectionOf()], T.array(), (args) => {
  const v = operand('sort', args, 1);
  if (v instanceof SetValue) return v.sorted();
  if (Array.isArray(v)) return [...(v as readonly Value[])].sort(compare);
  typeError('sort', 1, v, 'set', 'array');
});

function truthAggregate(name: string, test: (xs: readonly Value[]) => boolean): BuiltinDef {
  return builtin(name, [collectionOf()], T.boolean, (args) => {
    const v = operand(name, args, 1);
    const xs = collectionItems(v);
    if (xs === undefined) typeError(name, 1, v, 'array', 'set');
    return test(xs);
  });
}

export const AGGREGATE_BUILTINS: readonly BuiltinDef[] = [
  count,
  fold('sum', 0, add),
  fold('product', 1, multiply),
  extreme('max', (c) => c > 0),
  extreme('min', (c) => c < 0),
  sort,
  truthAggregate('all', (xs) => xs.every((x) => equal(x, true))),
  truthAggregate('any', (xs) => xs.some((x) => equal(x, true))),
];
