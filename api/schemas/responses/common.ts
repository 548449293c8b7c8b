/**
 * Building blocks of the response schemas (JSON Schema 2020-12): ids, times, JSON values
 * chosen by a policy or a caller, and the shape of objects and listings. Dates leave the
 * service as ISO 8601 text (JSON.stringify).
 */
import type { JsonSchema } from '../json-schema';

export const uuid = { type: 'string', format: 'uuid' } as const;
export const timestamp = { type: 'string', format: 'date-time' } as const;
export const optionalTimestamp = { type: ['string', 'null'], format: 'date-time' } as const;
export const text = { type: 'string' } as const;
export const optionalText = { type: ['string', 'null'] } as const;
export const count = { type: 'integer', minimum: 0 } as const;
export const flag = { type: 'boolean' } as const;
/** Any JSON value: a policy's result, a recorded input. */
export const anyJson = { description: 'Any JSON value.' } as const;
export const textList = { type: 'array', items: text } as const;

/**
 * An object with exactly these members (no others), all of them present except those named
 * in `optional`.
 */
export function record(
  properties: Readonly<Record<string, JsonSchema>>,
  optional: readonly string[] = [],
  description?: string,
): JsonSchema {
  return {
    type: 'object',
    ...(description === undefined ? {} : { description }),
    properties,
    required: Object.keys(properties).filter((name) => !optional.includes(name)),
    additionalProperties: false,
  };
}

/** `{"<member>": [items...]}`: how listings answer. */
export function listOf(member: string, items: JsonSchema): JsonSchema {
  return record({ [member]: { type: 'array', items } });
}

/** An object whose members are all `values` (a map by id or name). */
export function mapOf(values: JsonSchema): JsonSchema {
  return { type: 'object', additionalProperties: values };
}
