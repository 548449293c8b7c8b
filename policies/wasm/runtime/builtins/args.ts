// Operand checks shared by the native builtins, with the wording of
// policies/rego/builtins/args.ts (OPA's): `plus: operand 2 must be number but got string`,
// `sum: operand 1 must be one of {set, array} but got object`, `concat: operand 2 must be array
// of strings but got array containing number`. A failed check records the error and returns
// false; the builtin then returns 0.
import { writerBegin, writerLength, writerStart } from '../alloc';
import { builtinErrorBegin, errorBytes, errorText, ERR_BUILTIN, ERR_TYPE } from '../errors';
import { isIntegral, lastInt64, toInt64, writeNumber } from '../number';
import {
  tagOf,
  TAG_ARRAY,
  TAG_BOOLEAN,
  TAG_NUMBER,
  TAG_OBJECT,
  TAG_SET,
  TAG_STRING,
} from '../value';

export function typeName(v: usize): string {
  switch (tagOf(v)) {
    case TAG_BOOLEAN:
      return 'boolean';
    case TAG_NUMBER:
      return 'number';
    case TAG_STRING:
      return 'string';
    case TAG_ARRAY:
      return 'array';
    case TAG_OBJECT:
      return 'object';
    case TAG_SET:
      return 'set';
    default:
      return 'null';
  }
}

/** `<name>: operand <pos> must be <expected> but got <type of got>` (a type error). */
export function typeError(name: string, pos: i32, got: usize, expected: string): void {
  operandErrorBegin(name, pos);
  errorText('must be ');
  errorText(expected);
  errorText(' but got ');
  errorText(typeName(got));
}

/** Starts `<name>: operand <pos> ` as a type error; the caller adds the detail. */
export function operandErrorBegin(name: string, pos: i32): void {
  builtinErrorBegin(ERR_TYPE, name);
  errorText('operand ');
  errorText(pos == 1 ? '1' : pos == 2 ? '2' : pos == 3 ? '3' : '4');
  errorText(' ');
}

export function operandError(name: string, pos: i32, detail: string): void {
  operandErrorBegin(name, pos);
  errorText(detail);
}

/** `operand <pos> must be <array|set> of <plural> but got <array|set> containing <type>`. */
export function elementError(
  name: string,
  pos: i32,
  composite: usize,
  element: usize,
  plural: string,
): void {
  const tpe = typeName(composite);
  operandErrorBegin(name, pos);
  errorText('must be ');
  errorText(tpe);
  errorText(' of ');
  errorText(plural);
  errorText(' but got ');
  errorText(tpe);
  errorText(' containing ');
  errorText(typeName(element));
}

/** A builtin error (`eval_builtin_error`) with the name prefix; detail added by the caller. */
export function failBegin(name: string): void {
  builtinErrorBegin(ERR_BUILTIN, name);
}

/** Appends a number's text to the error message (through the writer, then given back). */
export function errorNumber(v: usize): void {
  writerBegin();
  writeNumber(v, false);
  errorBytes(writerStart(), <u32>writerLength());
  // writerEnd is not called: the heap keeps its top, the text is dropped.
}

export function isString(v: usize): bool {
  return tagOf(v) == TAG_STRING;
}

export function isNumber(v: usize): bool {
  return tagOf(v) == TAG_NUMBER;
}

export function stringArg(name: string, v: usize, pos: i32): bool {
  if (tagOf(v) == TAG_STRING) return true;
  typeError(name, pos, v, 'string');
  return false;
}

export function numberArg(name: string, v: usize, pos: i32): bool {
  if (tagOf(v) == TAG_NUMBER) return true;
  typeError(name, pos, v, 'number');
  return false;
}

export function objectArg(name: string, v: usize, pos: i32): bool {
  if (tagOf(v) == TAG_OBJECT) return true;
  typeError(name, pos, v, 'object');
  return false;
}

export function arrayArg(name: string, v: usize, pos: i32): bool {
  if (tagOf(v) == TAG_ARRAY) return true;
  typeError(name, pos, v, 'array');
  return false;
}

export function setArg(name: string, v: usize, pos: i32): bool {
  if (tagOf(v) == TAG_SET) return true;
  typeError(name, pos, v, 'set');
  return false;
}

const NOT_INTEGER = 'must be integer number but got floating-point number';

let intResult: i64 = 0;

/** An integer operand within 64 bits (args.ts intArg); the value is in intArgValue(). */
export function intArg(name: string, v: usize, pos: i32): bool {
  if (!numberArg(name, v, pos)) return false;
  if (!toInt64(v)) {
    operandError(name, pos, NOT_INTEGER);
    return false;
  }
  intResult = lastInt64();
  return true;
}

export function intArgValue(): i64 {
  return intResult;
}

/** An integer operand of any size (args.ts bigIntArg). */
export function integerArg(name: string, v: usize, pos: i32): bool {
  if (tagOf(v) != TAG_NUMBER) {
    typeError(name, pos, v, 'integer');
    return false;
  }
  if (!isIntegral(v)) {
    operandError(name, pos, NOT_INTEGER);
    return false;
  }
  return true;
}

/** Arrays and sets: their elements (sets in Rego order). */
export function isCollectionOfItems(v: usize): bool {
  const tag = tagOf(v);
  return tag == TAG_ARRAY || tag == TAG_SET;
}
