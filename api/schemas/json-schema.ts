/**
 * JSON Schema as plain data, and the conversion of Verdict's ajv request schemas to the
 * JSON Schema 2020-12 an OpenAPI 3.1 document holds. The request schemas are written for
 * ajv's draft-07 `JSONSchemaType`, whose one non-standard keyword is `nullable`; every other
 * keyword they use means the same in 2020-12.
 */

/** A JSON Schema object: keywords to values. */
export type JsonSchema = Readonly<Record<string, unknown>>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A deep copy of `schema` in JSON Schema 2020-12: `nullable: true` becomes `null` among the
 * `type`s, which is what ajv accepts for it (an `enum` beside it still decides, as in ajv).
 */
export function fromAjvSchema(schema: unknown): JsonSchema {
  return convert(schema) as JsonSchema;
}

function convert(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(convert);
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [keyword, child] of Object.entries(value)) {
    if (keyword === 'nullable') continue;
    out[keyword] = convert(child);
  }
  if (value.nullable === true) {
    const types = Array.isArray(value.type) ? (value.type as unknown[]) : [value.type];
    out.type = [...types.filter((type) => type !== 'null'), 'null'];
  }
  return out;
}

/** `schema` without `null` among its types: a query parameter's value is always text. */
export function withoutNull(schema: JsonSchema): JsonSchema {
  if (!Array.isArray(schema.type)) return schema;
  const types = (schema.type as unknown[]).filter((type) => type !== 'null');
  return { ...schema, type: types.length === 1 ? types[0] : types };
}
