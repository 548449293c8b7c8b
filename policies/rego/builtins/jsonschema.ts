/**
 * JSON Schema: json.verify_schema and json.match_schema, validated by ajv (draft-07) with
 * RE2 for `pattern`, and errors reported in the shape and words OPA's validator uses:
 * `{"error": "id: Invalid type. ...", "type": "invalid_type", "field": "id", "desc": ...}`.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { RE2JS } from 're2js';
import { isValidJSON } from '../../ir/json';
import { isArray, ObjectValue, type JSONValue, type Value } from '../../ir/value';
import { marshalJSON } from './encoding';
import { operand } from './args';
import { builtin, T } from './spec';
import { BuiltinError, type BuiltinDef } from './types';

/** `pattern` keywords run on RE2 (linear time) rather than JavaScript's backtracking RegExp. */
const re2Engine = Object.assign(
  (pattern: string) => {
    const re = RE2JS.compile(pattern);
    return { test: (s: string): boolean => re.test(s) };
  },
  { code: 're2' },
);

const ajv = new Ajv({ allErrors: true, strict: false, code: { regExp: re2Engine } });
addFormats(ajv);

const CACHE_LIMIT = 100;
const validators = new Map<string, ValidateFunction>();

class SchemaInputError extends Error {}

/** A schema or document given as JSON text or as a Rego object/array. */
function loadJSON(v: Value): JSONValue {
  if (typeof v === 'string') {
    if (!isValidJSON(v)) throw new SchemaInputError('invalid JSON string');
    return JSON.parse(v) as JSONValue;
  }
  // Through JSON text, so keys such as "__proto__" stay plain properties.
  if (v instanceof ObjectValue || isArray(v)) return JSON.parse(marshalJSON(v)) as JSONValue;
  throw new SchemaInputError('wrong type, expected string or object');
}

const PRIMITIVE_TYPES = ['array', 'boolean', 'integer', 'number', 'null', 'object', 'string'];

/** Rejects unknown `type` names the way OPA's validator words it. */
function checkTypes(schema: JSONValue): void {
  const stack: JSONValue[] = [schema];
  for (let s = stack.pop(); s !== undefined; s = stack.pop()) {
    if (Array.isArray(s)) {
      stack.push(...s);
      continue;
    }
    if (s === null || typeof s !== 'object') continue;
    for (const [k, v] of Object.entries(s)) {
      if (k === 'enum' || k === 'const' || k === 'default' || k === 'examples') continue;
      if (k === 'type' && (typeof v === 'string' || Array.isArray(v))) {
        for (const t of Array.isArray(v) ? v : [v]) {
          if (typeof t === 'string' && !PRIMITIVE_TYPES.includes(t)) {
            throw new SchemaInputError(
              `has a primitive type that is NOT VALID -- given: /${t}/ Expected valid values are:[${PRIMITIVE_TYPES.join(' ')}]`,
            );
          }
        }
        continue;
      }
      stack.push(v);
    }
  }
}

/**
 * An empty `enum` accepts nothing; ajv refuses it as a schema, so it becomes an enum of one
 * value no document can hold (left out again when errors list the allowed values).
 */
const NOTHING = { 'verdict:empty-enum': 'no value is allowed' };

function emptyEnumsToSentinel(schema: JSONValue): void {
  const stack: JSONValue[] = [schema];
  for (let s = stack.pop(); s !== undefined; s = stack.pop()) {
    if (Array.isArray(s)) {
      stack.push(...s);
      continue;
    }
    if (s === null || typeof s !== 'object') continue;
    for (const [k, v] of Object.entries(s)) {
      if (k === 'enum' && Array.isArray(v) && v.length === 0) s[k] = [NOTHING];
      else if (k !== 'enum' && k !== 'const' && k !== 'default' && k !== 'examples') stack.push(v);
    }
  }
}

function compileSchema(schema: JSONValue): ValidateFunction {
  const key = JSON.stringify(schema);
  const hit = validators.get(key);
  if (hit) return hit;
  checkTypes(schema);
  emptyEnumsToSentinel(schema);
  let root = schema;
  if (root !== null && typeof root === 'object' && !Array.isArray(root) && '$schema' in root) {
    // Drafts are validated alike; ajv only knows draft-07 by name.
    const { $schema: _ignored, ...rest } = root;
    root = rest;
  }
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(typeof root === 'boolean' ? root : (root as object));
  } catch (e) {
    throw new SchemaInputError(e instanceof Error ? e.message : String(e));
  }
  if (validators.size >= CACHE_LIMIT) {
    const [oldestKey, oldest] = validators.entries().next().value ?? [];
    if (oldestKey !== undefined && oldest !== undefined) {
      validators.delete(oldestKey);
      ajv.removeSchema(oldest.schema);
    }
  }
  validators.set(key, validate);
  return validate;
}

function jsonTypeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function valueAt(doc: unknown, pointer: string): unknown {
  let cur = doc;
  for (const seg of pointer.split('/').slice(1)) {
    const key = seg.replace(/~1/g, '/').replace(/~0/g, '~');
    cur =
      cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[key] : undefined;
  }
  return cur;
}

function fieldOf(instancePath: string): string {
  if (instancePath === '') return '(root)';
  return instancePath
    .split('/')
    .slice(1)
    .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}

type Params = Record<string, unknown>;

/** OPA's (gojsonschema's) error type and description for one ajv error. */
function describe(e: ErrorObject, doc: unknown, field: string): [string, string] {
  const p = e.params as Params;
  const str = (k: string): string => {
    const v = p[k];
    return typeof v === 'string' || typeof v === 'number' ? String(v) : JSON.stringify(v);
  };
  switch (e.keyword) {
    case 'type':
      return [
        'invalid_type',
        `Invalid type. Expected: ${str('type')}, given: ${jsonTypeOf(valueAt(doc, e.instancePath))}`,
      ];
    case 'required':
      return ['required', `${str('missingProperty')} is required`];
    case 'enum': {
      const allowed = Array.isArray(p.allowedValues)
        ? p.allowedValues
            .filter((v) => v !== NOTHING && JSON.stringify(v) !== JSON.stringify(NOTHING))
            .map((v) => JSON.stringify(v))
            .join(', ')
        : '';
      return ['enum', `${field} must be one of the following: ${allowed}`];
    }
    case 'const':
      return ['const', `${field} does not match: ${JSON.stringify(p.allowedValue)}`];
    case 'minimum':
      return ['number_gte', `Must be greater than or equal to ${str('limit')}`];
    case 'exclusiveMinimum':
      return ['number_gt', `Must be greater than ${str('limit')}`];
    case 'maximum':
      return ['number_lte', `Must be less than or equal to ${str('limit')}`];
    case 'exclusiveMaximum':
      return ['number_lt', `Must be less than ${str('limit')}`];
    case 'minLength':
      return ['string_gte', `String length must be greater than or equal to ${str('limit')}`];
    case 'maxLength':
      return ['string_lte', `String length must be less than or equal to ${str('limit')}`];
    case 'pattern':
      return ['pattern', `Does not match pattern '${str('pattern')}'`];
    case 'format':
      return ['format', `Does not match format '${str('format')}'`];
    case 'multipleOf':
      return ['multiple_of', `Must be a multiple of ${str('multipleOf')}`];
    case 'minItems':
      return ['array_min_items', `Array must have at least ${str('limit')} items`];
    case 'maxItems':
      return ['array_max_items', `Array must have at most ${str('limit')} items`];
    case 'uniqueItems':
      return ['unique', `array items[${str('j')},${str('i')}] must be unique`];
    case 'contains':
      return ['contains', 'At least one of the items must match'];
    case 'minProperties':
      return ['array_min_properties', `Must have at least ${str('limit')} properties`];
    case 'maxProperties':
      return ['array_max_properties', `Must have at most ${str('limit')} properties`];
    case 'additionalProperties':
      return [
        'additional_property_not_allowed',
        `Additional property ${str('additionalProperty')} is not allowed`,
      ];
    case 'additionalItems':
      return ['array_no_additional_items', 'No additional items allowed on array'];
    case 'dependencies':
    case 'dependentRequired':
      return ['missing_dependency', `Has a dependency on ${str('deps')}`];
    case 'anyOf':
      return ['number_any_of', 'Must validate at least one schema (anyOf)'];
    case 'oneOf':
      return ['number_one_of', 'Must validate one and only one schema (oneOf)'];
    case 'allOf':
      return ['number_all_of', 'Must validate all the schemas (allOf)'];
    case 'not':
      return ['number_not', 'Must not validate the schema (not)'];
    case 'if':
      return [
        `condition_${str('failingKeyword')}`,
        `Must validate "${str('failingKeyword')}" as "if" was ${str('failingKeyword') === 'then' ? 'valid' : 'not valid'}`,
      ];
    default:
      return [e.keyword, e.message ?? e.keyword];
  }
}

function matchSchema(args: readonly Value[]): Value {
  const name = 'json.match_schema';
  let doc: JSONValue;
  let validate: ValidateFunction;
  try {
    doc = loadJSON(operand(name, args, 1));
    validate = compileSchema(loadJSON(operand(name, args, 2)));
  } catch (e) {
    if (e instanceof SchemaInputError) throw new BuiltinError(name, e.message);
    throw e;
  }
  const valid = validate(doc);
  const errors = (validate.errors ?? []).map((e) => {
    const field = fieldOf(e.instancePath);
    const [type, desc] = describe(e, doc, field);
    return ObjectValue.fromRecord({ error: `${field}: ${desc}`, type, field, desc });
  });
  return [valid, errors];
}

function verifySchema(args: readonly Value[]): Value {
  try {
    compileSchema(loadJSON(operand('json.verify_schema', args, 1)));
    return [true, null];
  } catch (e) {
    if (e instanceof SchemaInputError) return [false, `jsonschema: ${e.message}`];
    throw e;
  }
}

const docOrSchema = T.anyOf(T.string, T.object());

export const JSON_SCHEMA_BUILTINS: readonly BuiltinDef[] = [
  builtin(
    'json.match_schema',
    [docOrSchema, docOrSchema],
    T.tuple(T.boolean, T.array(T.object(T.string, T.string))),
    matchSchema,
  ),
  builtin(
    'json.verify_schema',
    [docOrSchema],
    T.tuple(T.boolean, T.anyOf(T.null, T.string)),
    verifySchema,
  ),
];
