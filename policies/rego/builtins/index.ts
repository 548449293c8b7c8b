/**
 * Verdict's builtins catalogue: every builtin Rego function the compiler knows, with its
 * signature and its implementation for the reference interpreter. One file per group.
 */
import { OPERATOR_BUILTINS } from './operators';
import type { BuiltinDef } from './types';

const GROUPS: readonly (readonly BuiltinDef[])[] = [OPERATOR_BUILTINS];

function catalogue(): ReadonlyMap<string, BuiltinDef> {
  const map = new Map<string, BuiltinDef>();
  for (const group of GROUPS) {
    for (const def of group) {
      if (map.has(def.name)) throw new Error(`builtin ${def.name} is declared twice`);
      map.set(def.name, def);
    }
  }
  return map;
}

export const BUILTINS: ReadonlyMap<string, BuiltinDef> = catalogue();

/** The builtin called `name` (`count`, `object.get`, `internal.member_2`), if there is one. */
export function lookupBuiltin(name: string): BuiltinDef | undefined {
  return BUILTINS.get(name);
}
