/**
 * Operand checks shared by the builtins, with OPA's wording: `operand 2 must be string but got
 * number`, `operand 1 must be one of {set, array} but got object`, `operand 1 must be array of
 * strings but got array containing number`.
 */
import {
  isInteger,
  ObjectValue,
  SetValue,
  typeName,
  type RegoNumber,
  type Value,
} from '../../ir/value';
import { BuiltinTypeError } from './types';

/** Throws `<builtin>: operand <pos> must be <expected> but got <type>`. */
export function typeError(name: string, pos: number, got: Value, ...expected: string[]): never {
  const want = expected.length === 1 ? (expected[0] ?? '') : `one of {${expected.join(', ')}}`;
  throw new BuiltinTypeError(name, `operand ${pos} must be ${want} but got ${typeName(got)}`);
}

/** Throws `<builtin>: operand <pos> <detail>` as a type error. */
export function operandError(name: string, pos: number, detail: string): never {
  throw new BuiltinTypeError(name, `operand ${pos} ${detail}`);
}

/** Throws `operand <pos> must be array of strings but got array containing number`. */
export function elementError(
  name: string,
  pos: number,
  composite: Value,
  element: Value,
  ...expected: string[]
): never {
  const tpe = typeName(composite);
  const want =
    expected.length === 1 ? `${expected[0] ?? ''}s` : `(any of) {${expected.join(', ')}}`;
  operandError(
    name,
    pos,
    `must be ${tpe} of ${want} but got ${tpe} containing ${typeName(element)}`,
  );
}

/** The operand at 1-based position `pos`. */
export function operand(name: string, args: readonly Value[], pos: number): Value {
  const v = args[pos - 1];
  if (v === undefined) operandError(name, pos, 'is missing');
  return v;
}

/** The string operand at 1-based `pos`; a BuiltinTypeError when it is missing or not a string. */
export function stringArg(name: string, args: readonly Value[], pos: number): string {
  const v = operand(name, args, pos);
  if (typeof v !== 'string') typeError(name, pos, v, 'string');
  return v;
}

/** The number operand at 1-based `pos`; a BuiltinTypeError when it is missing or not a number. */
export function numberArg(name: string, args: readonly Value[], pos: number): RegoNumber {
  const v = operand(name, args, pos);
  if (typeof v !== 'number' && typeof v !== 'bigint') typeError(name, pos, v, 'number');
  return v;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const NOT_INTEGER = 'must be integer number but got floating-point number';

/**
 * An integer operand that fits Go's int (64 bits), as a JS number (exact up to 2^53, which
 * covers every index, count and length a policy can use).
 */
export function intArg(name: string, args: readonly Value[], pos: number): number {
  const n = numberArg(name, args, pos);
  if (!isInteger(n)) operandError(name, pos, NOT_INTEGER);
  const b = BigInt(n);
  if (b < INT64_MIN || b > INT64_MAX) operandError(name, pos, NOT_INTEGER);
  return Number(n);
}

/** An integer operand of any size. */
export function bigIntArg(name: string, args: readonly Value[], pos: number): bigint {
  const v = operand(name, args, pos);
  if (typeof v !== 'number' && typeof v !== 'bigint') typeError(name, pos, v, 'integer');
  if (!isInteger(v)) operandError(name, pos, NOT_INTEGER);
  return BigInt(v);
}

/** The array operand at 1-based `pos`; a BuiltinTypeError when it is missing or not an array. */
export function arrayArg(name: string, args: readonly Value[], pos: number): readonly Value[] {
  const v = operand(name, args, pos);
  if (!Array.isArray(v)) typeError(name, pos, v, 'array');
  return v as readonly Value[];
}

/**
 * The object operand at 1-based `pos`; a BuiltinTypeError when it is missing or not an
 * object.
 */
export function objectArg(name: string, args: readonly Value[], pos: number): ObjectValue {
  const v = operand(name, args, pos);
  if (!(v instanceof ObjectValue)) typeError(name, pos, v, 'object');
  return v;
}

/** The set operand at 1-based `pos`; a BuiltinTypeError when it is missing or not a set. */
export function setArg(name: string, args: readonly Value[], pos: number): SetValue {
  const v = operand(name, args, pos);
  if (!(v instanceof SetValue)) typeError(name, pos, v, 'set');
  return v;
}

/** Members of an array or set (in Rego order for sets), or undefined for other values. */
export function collectionItems(v: Value): readonly Value[] | undefined {
  if (Array.isArray(v)) return v as readonly Value[];
  if (v instanceof SetValue) return v.sorted();
  return undefined;
}

/** An array or set of strings (OPA's StringSliceOperand). */
export function stringsArg(name: string, args: readonly Value[], pos: number): string[] {
  const v = operand(name, args, pos);
  const items = collectionItems(v);
  if (items === undefined) typeError(name, pos, v, 'array', 'set');
  return items.map((x) => {
    if (typeof x !== 'string') elementError(name, pos, v, x, 'string');
    return x;
  });
}
