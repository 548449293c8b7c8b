/**
 * Set builtins: intersection and union of a set of sets (and the deprecated set_diff).
 */
import { SetValue, type Value } from '../../ir/value';
import { setArg, typeError } from './args';
import { builtin, T } from './spec';
import type { BuiltinDef } from './types';

/** The member sets of a set-of-sets operand; a member that is not a set is a type error. */
function memberSets(name: string, args: readonly Value[]): SetValue[] {
  return setArg(name, args, 1)
    .sorted()
    .map((x) => {
      if (!(x instanceof SetValue)) typeError(name, 1, x, 'set');
      return x;
    });
}

const intersection = builtin('intersection', [T.set(T.set())], T.set(), (args) => {
  const sets = memberSets('intersection', args);
  const [first, ...rest] = sets;
  if (first === undefined) return new SetValue();
  return new SetValue(first.sorted().filter((x) => rest.every((s) => s.has(x))));
});

const union = builtin('union', [T.set(T.set())], T.set(), (args) => {
  const out = new SetValue();
  for (const s of memberSets('union', args)) for (const x of s.sorted()) out.add(x);
  return out;
});

const setDiff = builtin('set_diff', [T.set(), T.set()], T.set(), (args) => {
  const a = setArg('set_diff', args, 1);
  const b = setArg('set_diff', args, 2);
  return new SetValue(a.sorted().filter((x) => !b.has(x)));
});

export const SET_BUILTINS: readonly BuiltinDef[] = [intersection, union, setDiff];
