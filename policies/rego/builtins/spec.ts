/**
 * Shorthands for declaring builtins: static types as OPA declares them, and `builtin(...)`.
 */
import type { BuiltinContext, BuiltinDef, BuiltinImpl, TypeSpec } from './types';
import type { Value } from '../../ir/value';

const ANY: TypeSpec = { kind: 'any' };

export const T = {
  any: ANY,
  null: { kind: 'null' } as TypeSpec,
  boolean: { kind: 'boolean' } as TypeSpec,
  number: { kind: 'number' } as TypeSpec,
  string: { kind: 'string' } as TypeSpec,
  array: (of: TypeSpec = ANY): TypeSpec => ({ kind: 'array', of }),
  set: (of: TypeSpec = ANY): TypeSpec => ({ kind: 'set', of }),
  object: (key: TypeSpec = ANY, value: TypeSpec = ANY): TypeSpec => ({
    kind: 'object',
    key,
    value,
  }),
  anyOf: (...of: TypeSpec[]): TypeSpec => ({ kind: 'anyOf', of }),
  /**
   * OPA's fixed-length arrays (`[number, string]`) have no TypeSpec of their own; they are
   * declared as arrays of the union of their element types.
   */
  tuple: (...of: TypeSpec[]): TypeSpec => ({
    kind: 'array',
    of: of.length === 1 ? (of[0] ?? ANY) : { kind: 'anyOf', of },
  }),
} as const;

/** An array or a set of `of` (OPA's common "collection" argument). */
export function collectionOf(of: TypeSpec = ANY): TypeSpec {
  return T.anyOf(T.array(of), T.set(of));
}

/** The optional parts of a builtin's declaration (see BuiltinDef). */
export interface BuiltinOptions {
  readonly nondeterministic?: boolean;
  readonly relation?: (args: readonly Value[], ctx: BuiltinContext) => Iterable<Value>;
}

/** Declares a builtin: its name, argument and result types, implementation and options. */
export function builtin(
  name: string,
  args: readonly TypeSpec[],
  result: TypeSpec,
  impl: BuiltinImpl,
  options: BuiltinOptions = {},
): BuiltinDef {
  return { name, args, result, impl, ...options };
}
