// Type tests and names (policies/rego/builtins/typenames.ts): is_number, is_string,
// is_boolean, is_array, is_set, is_object, is_null, type_name.
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
import { typeName } from './args';

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
