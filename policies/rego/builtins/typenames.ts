/**
 * Type tests and names: is_number, is_string, is_boolean, is_array, is_set, is_object,
 * is_null, type_name, and the deprecated cast_* checks. (Named typenames.ts because types.ts
 * is the catalogue's contract.)
 */
import { isArray, SetValue, typeName, type TypeName, type Value } from '../../ir/value';
import { collectionItems, operand, typeError } from './args';
import { builtin, T } from './spec';
import type { BuiltinDef, TypeSpec } from './types';

function isType(name: string, type: TypeName): BuiltinDef {
  return builtin(name, [T.any], T.boolean, (args) => typeName(operand(name, args, 1)) === type);
}

/** Deprecated casts: the value itself when it has the type (arrays and sets convert). */
function cast(name: string, type: TypeName, result: TypeSpec): BuiltinDef {
  return builtin(name, [T.any], result, (args) => {
    const v = operand(name, args, 1);
    if (typeName(v) !== type) typeError(name, 1, v, type);
    return v;
  });
}

function castCollection(name: string, toSet: boolean): BuiltinDef {
  return builtin(name, [T.any], toSet ? T.set() : T.array(), (args) => {
    const v = operand(name, args, 1);
    const items = collectionItems(v);
    if (items === undefined) typeError(name, 1, v, 'array', 'set');
    return toSet
      ? v instanceof SetValue
        ? v
        : new SetValue(items)
      : isArray(v)
        ? v
        : ([...items] as Value[]);
  });
}

export const TYPE_BUILTINS: readonly BuiltinDef[] = [
  isType('is_number', 'number'),
  isType('is_string', 'string'),
  isType('is_boolean', 'boolean'),
  isType('is_array', 'array'),
  isType('is_set', 'set'),
  isType('is_object', 'object'),
  isType('is_null', 'null'),
  builtin('type_name', [T.any], T.string, (args) => typeName(operand('type_name', args, 1))),
  castCollection('cast_array', false),
  castCollection('cast_set', true),
  cast('cast_string', 'string', T.string),
  cast('cast_boolean', 'boolean', T.boolean),
  cast('cast_null', 'null', T.null),
  cast('cast_object', 'object', T.object()),
];
