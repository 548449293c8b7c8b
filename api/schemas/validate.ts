/**
 * Request bodies checked against JSON schemas at the edge. A body that does not fit becomes
 * a `bad_request` problem naming each offending field by its JSON pointer, so a client can
 * fix everything in one go.
 */
import Ajv, { type ErrorObject, type JSONSchemaType } from 'ajv';
import { VerdictError } from '../errors';
import { isStorableText } from '../services/audit/canonical';

const ajv = new Ajv({ allErrors: true, strict: true });

export interface FieldError {
  /** JSON pointer of the field, `/scopes/0`; `` for the body as a whole. */
  readonly field: string;
  readonly message: string;
}

function fieldError(error: ErrorObject): FieldError {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required' && typeof params.missingProperty === 'string') {
    return { field: `${error.instancePath}/${params.missingProperty}`, message: 'is required' };
  }
  if (error.keyword === 'additionalProperties') {
    return {
      field: `${error.instancePath}/${String(params.additionalProperty)}`,
      message: 'is not a known property',
    };
  }
  if (error.keyword === 'enum' && Array.isArray(params.allowedValues)) {
    return {
      field: error.instancePath,
      message: `must be one of ${params.allowedValues.map(String).join(', ')}`,
    };
  }
  // ajv gives every error a message unless told not to (`messages: false`).
  return { field: error.instancePath, message: error.message as string };
}

function describe(errors: readonly FieldError[]): string {
  return errors
    .map((e) => (e.field === '' ? `body ${e.message}` : `${e.field} ${e.message}`))
    .join('; ');
}

/** A `bad_request` error about one field, in the same shape schema failures have. */
export function fieldProblem(field: string, message: string): VerdictError {
  const errors = [{ field, message }];
  return new VerdictError('bad_request', `Invalid request body: ${describe(errors)}.`, {
    extensions: { field, errors },
  });
}

function pointerSegment(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * The JSON pointer of the first string in `value` that a Postgres text column cannot hold as
 * sent: one with NUL, or with an unpaired surrogate (which UTF-8 has no bytes for, so the
 * driver would store U+FFFD instead). Undefined when there is none.
 */
export function unstorableTextAt(value: unknown): string | undefined {
  const stack: { node: unknown; pointer: string }[] = [{ node: value, pointer: '' }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { node, pointer } = item;
    if (typeof node === 'string') {
      if (!isStorableText(node)) return pointer;
    } else if (typeof node === 'object' && node !== null) {
      for (const [key, child] of Object.entries(node)) {
        const at = `${pointer}/${pointerSegment(key)}`;
        if (!isStorableText(key)) return at;
        stack.push({ node: child, pointer: at });
      }
    }
  }
  return undefined;
}

/**
 * Compiles `schema` once; the returned function returns the body typed, or throws. A body
 * that fits the schema must also hold only text Postgres can store as sent.
 */
export function bodyValidator<T>(schema: JSONSchemaType<T>): (body: unknown) => T {
  const validate = ajv.compile(schema);
  return (body) => {
    if (validate(body)) {
      const at = unstorableTextAt(body);
      if (at === undefined) return body;
      throw fieldProblem(at, 'must be text without NUL characters or unpaired surrogates');
    }
    // A failed validation always leaves at least one error.
    const errors = (validate.errors as ErrorObject[]).map(fieldError);
    throw new VerdictError('bad_request', `Invalid request body: ${describe(errors)}.`, {
      extensions: { field: (errors[0] as FieldError).field, errors },
    });
  };
}
