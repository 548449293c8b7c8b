// Type tests and names (policies/rego/builtins/typenames.ts): is_number, is_string,
// is_boolean, is_array, is_set, is_object, is_null, type_name, and the deprecated cast_*.
import {
  booleanValue,
  stringOfAscii,
  tagOf,
  TAG_ARRAY,
  TAG_BOOLEAN,
  TAG_NULL,
  TAG_NUMBER,
  TAG_OBJECT,
  TAG_SET,
  TAG_STRING,
} from '../value';
import { copyCollection, setOfArray } from '../collections';
import { typeError, typeName } from './args';

function isType(v: i32, tag: u8): i32 {
  if (v == 0) return 0;
  return <i32>booleanValue(tagOf(v) == tag);
}

export function vd_builtin_is_number(v: i32): i32 {
  return isType(v, TAG_NUMBER);
}

export function vd_builtin_is_string(v: i32): i32 {
  return isType(v, TAG_STRING);
}

export function vd_builtin_is_boolean(v: i32): i32 {
  return isType(v, TAG_BOOLEAN);
}

export function vd_builtin_is_array(v: i32): i32 {
  return isType(v, TAG_ARRAY);
}

export function vd_builtin_is_set(v: i32): i32 {
  return isType(v, TAG_SET);
}

export function vd_builtin_is_object(v: i32): i32 {
  return isType(v, TAG_OBJECT);
}

export function vd_builtin_is_null(v: i32): i32 {
  return isType(v, TAG_NULL);
}

export function vd_builtin_type_name(v: i32): i32 {
  if (v == 0) return 0;
  return <i32>stringOfAscii(typeName(v));
}

// ---------------------------------------------------------------------------------------------
// The deprecated cast_* builtins: the value itself when it has the type; arrays and sets convert.

function cast(name: string, v: i32, tag: u8, expected: string): i32 {
  if (v == 0) return 0;
  if (tagOf(v) != tag) {
    typeError(name, 1, v, expected);
    return 0;
  }
  return v;
}

export function vd_builtin_cast_string(v: i32): i32 {
  return cast('cast_string', v, TAG_STRING, 'string');
}

export function vd_builtin_cast_boolean(v: i32): i32 {
  return cast('cast_boolean', v, TAG_BOOLEAN, 'boolean');
}

export function vd_builtin_cast_null(v: i32): i32 {
  return cast('cast_null', v, TAG_NULL, 'null');
}

export function vd_builtin_cast_object(v: i32): i32 {
  return cast('cast_object', v, TAG_OBJECT, 'object');
}

export function vd_builtin_cast_array(v: i32): i32 {
  if (v == 0) return 0;
  const tag = tagOf(v);
  if (tag == TAG_ARRAY) return v;
  if (tag != TAG_SET) {
    typeError('cast_array', 1, v, 'one of {array, set}');
    return 0;
  }
  const out = copyCollection(v, 0);
  store<u8>(out, TAG_ARRAY);
  return <i32>out;
}

export function vd_builtin_cast_set(v: i32): i32 {
  if (v == 0) return 0;
  const tag = tagOf(v);
  if (tag == TAG_SET) return v;
  if (tag != TAG_ARRAY) {
    typeError('cast_set', 1, v, 'one of {array, set}');
    return 0;
  }
  return <i32>setOfArray(v);
}
