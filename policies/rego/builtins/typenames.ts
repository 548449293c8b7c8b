/**
 * Type tests and names: is_number, is_string, is_boolean, is_array, is_set, is_object,
 * is_null, type_name. (Named typenames.ts because types.ts is the catalogue's contract.)
 */
import { typeName, type TypeName } from '../../ir/value';
import { operand } from './args';
import { builtin, T } from './spec';
import type { BuiltinDef } from './types';

function isType(name: string, type: TypeName): BuiltinDef {
  return builtin(name, [T.any], T.boolean, (args) => typeName(operand(name, args, 1)) === type);
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
];
