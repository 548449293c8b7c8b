/**
 * Verdict's builtins catalogue: every builtin Rego function the compiler knows, with its
 * signature and its implementation for the reference interpreter. One file per group.
 */
import { AGGREGATE_BUILTINS } from './aggregates';
import { CRYPTO_BUILTINS } from './crypto';
import { ENCODING_BUILTINS } from './encoding';
import { ARRAY_BUILTINS } from './arrays';
import { GLOB_BUILTINS } from './glob';
import { GRAPH_BUILTINS } from './graph';
import { JSON_PATH_BUILTINS } from './jsonpatch';
import { JSON_SCHEMA_BUILTINS } from './jsonschema';
import { JWT_BUILTINS } from './jwt';
import { NET_BUILTINS } from './net';
import { NUMBER_BUILTINS } from './numbers';
import { OBJECT_BUILTINS } from './objects';
import { OPERATOR_BUILTINS } from './operators';
import { RAND_BUILTINS } from './rand';
import { REGEX_BUILTINS } from './regex';
import { RUNTIME_BUILTINS } from './runtime';
import { SEMVER_BUILTINS } from './semver';
import { SET_BUILTINS } from './sets';
import { STRING_BUILTINS } from './strings';
import { TIME_BUILTINS } from './time';
import { TYPE_BUILTINS } from './typenames';
import { UNITS_BUILTINS } from './units';
import { UUID_BUILTINS } from './uuid';
import type { BuiltinDef } from './types';

const GROUPS: readonly (readonly BuiltinDef[])[] = [
  OPERATOR_BUILTINS,
  NUMBER_BUILTINS,
  AGGREGATE_BUILTINS,
  STRING_BUILTINS,
  REGEX_BUILTINS,
  GLOB_BUILTINS,
  OBJECT_BUILTINS,
  ARRAY_BUILTINS,
  SET_BUILTINS,
  TYPE_BUILTINS,
  GRAPH_BUILTINS,
  ENCODING_BUILTINS,
  JSON_PATH_BUILTINS,
  JSON_SCHEMA_BUILTINS,
  NET_BUILTINS,
  SEMVER_BUILTINS,
  UNITS_BUILTINS,
  TIME_BUILTINS,
  UUID_BUILTINS,
  RAND_BUILTINS,
  CRYPTO_BUILTINS,
  JWT_BUILTINS,
  RUNTIME_BUILTINS,
];

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
