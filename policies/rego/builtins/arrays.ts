/**
 * Array builtins: array.concat, array.slice, array.reverse, array.flatten.
 */
import { isArray, type Value } from '../../ir/value';
import { arrayArg, intArg } from './args';
import { builtin, T } from './spec';
import type { BuiltinDef } from './types';

const concat = builtin('array.concat', [T.array(), T.array()], T.array(), (args) => [
  ...arrayArg('array.concat', args, 1),
  ...arrayArg('array.concat', args, 2),
]);

/** Elements [start, stop), with both bounds clamped to the array (never an error). */
const slice = builtin('array.slice', [T.array(), T.number, T.number], T.array(), (args) => {
  const xs = arrayArg('array.slice', args, 1);
  let start = intArg('array.slice', args, 2);
  let stop = intArg('array.slice', args, 3);
  stop = Math.min(Math.max(stop, 0), xs.length);
  start = Math.min(Math.max(start, 0), stop);
  return xs.slice(start, stop);
});

const reverse = builtin('array.reverse', [T.array()], T.array(), (args) =>
  [...arrayArg('array.reverse', args, 1)].reverse(),
);

/** Flattens one level: nested arrays are spliced in, other elements kept. */
const flatten = builtin('array.flatten', [T.array()], T.array(), (args) => {
  const out: Value[] = [];
  for (const x of arrayArg('array.flatten', args, 1)) {
    if (isArray(x)) out.push(...x);
    else out.push(x);
  }
  return out;
});

export const ARRAY_BUILTINS: readonly BuiltinDef[] = [concat, slice, reverse, flatten];
