/**
 * Test helpers: call a builtin by name the way the interpreter does, and show values as Rego
 * text so that expectations read like policies.
 */
import { parseJSONValue } from '../../../../../policies/ir/json';
import { SetValue, type Value } from '../../../../../policies/ir/value';
import { valueToRego } from '../../../../../policies/ir/value-text';
import { lookupBuiltin } from '../../../../../policies/rego/builtins';
import {
  BuiltinError,
  BuiltinTypeError,
  type BuiltinContext,
} from '../../../../../policies/rego/builtins/types';

export function context(nowNs = 1_700_000_000_000_000_000n): BuiltinContext {
  return { nowNs, memo: new Map() };
}

/** Calls a builtin and returns its result (undefined when it is undefined). */
export function call(name: string, args: readonly Value[], ctx = context()): Value | undefined {
  const def = lookupBuiltin(name);
  if (def === undefined) throw new Error(`no builtin ${name}`);
  return def.impl(args, ctx);
}

/** The result as Rego text ("undefined" when undefined). */
export function show(name: string, ...args: Value[]): string {
  const out = call(name, args);
  return out === undefined ? 'undefined' : valueToRego(out);
}

/** The error a call raises: "type: message" or "builtin: message"; fails if it succeeds. */
export function failure(name: string, ...args: Value[]): string {
  try {
    call(name, args);
  } catch (e) {
    if (e instanceof BuiltinTypeError) return `type: ${e.message}`;
    if (e instanceof BuiltinError) return `builtin: ${e.message}`;
    throw e;
  }
  throw new Error(`${name} did not fail`);
}

/** A value from JSON text (big integers stay exact). */
export function json(text: string): Value {
  return parseJSONValue(text);
}

export function set(...items: Value[]): SetValue {
  return new SetValue(items);
}
