/**
 * Query parameters of the decision-log routes (auditors). Every parameter is a string in
 * the URL; the schemas check each one's form, and a parameter given twice (an array) or not
 * known to the route is refused. A failure is a `bad_request` problem naming the parameter
 * (`field: "?allowed"`), like body failures name their JSON pointer.
 */
import Ajv, { type ErrorObject, type JSONSchemaType } from 'ajv';
import addFormats from 'ajv-formats';
import { VerdictError } from '../errors';

const ajv = new Ajv({ allErrors: true, strict: true });
addFormats(ajv, ['date-time']);

export interface DecisionFilterQuery {
  from?: string;
  to?: string;
  path?: string;
  allowed?: 'true' | 'false';
  bundle_version?: string;
  caller?: string;
  decision_id?: string;
  input?: string;
  kind?: 'decision' | 'shadow';
  rollout?: string;
}

export interface DecisionSearchQuery extends DecisionFilterQuery {
  limit?: string;
  cursor?: string;
}

export interface DecisionExportQuery extends DecisionFilterQuery {
  format?: 'ndjson' | 'csv';
}

export interface DecisionVerifyQuery {
  from?: string;
  to?: string;
}

const time = { type: 'string', format: 'date-time', nullable: true } as const;
const text = { type: 'string', minLength: 1, maxLength: 500, nullable: true } as const;

const filterProperties = {
  from: time,
  to: time,
  path: text,
  allowed: { type: 'string', enum: ['true', 'false'], nullable: true },
  bundle_version: text,
  caller: text,
  decision_id: {
    type: 'string',
    pattern: '^[0-9A-Fa-f]{8}-([0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}$',
    nullable: true,
  },
  input: { type: 'string', minLength: 1, maxLength: 1000, nullable: true },
  kind: { type: 'string', enum: ['decision', 'shadow'], nullable: true },
  rollout: {
    type: 'string',
    pattern: '^[0-9A-Fa-f]{8}-([0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}$',
    nullable: true,
  },
} as const;

export const decisionSearchSchema: JSONSchemaType<DecisionSearchQuery> = {
  type: 'object',
  properties: {
    ...filterProperties,
    limit: { type: 'string', pattern: '^[0-9]{1,4}$', nullable: true },
    cursor: { type: 'string', minLength: 1, maxLength: 200, nullable: true },
  },
  required: [],
  additionalProperties: false,
};

export const decisionExportSchema: JSONSchemaType<DecisionExportQuery> = {
  type: 'object',
  properties: {
    ...filterProperties,
    format: { type: 'string', enum: ['ndjson', 'csv'], nullable: true },
  },
  required: [],
  additionalProperties: false,
};

export const decisionVerifySchema: JSONSchemaType<DecisionVerifyQuery> = {
  type: 'object',
  properties: { from: time, to: time },
  required: [],
  additionalProperties: false,
};

interface ParameterError {
  readonly field: string;
  readonly message: string;
}

function parameterError(error: ErrorObject): ParameterError {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') {
    return { field: `?${String(params.additionalProperty)}`, message: 'is not a known parameter' };
  }
  const name = error.instancePath.split('/')[1] ?? '';
  if (error.keyword === 'type') {
    return { field: `?${name}`, message: 'must be given once' };
  }
  if (error.keyword === 'enum' && Array.isArray(params.allowedValues)) {
    return {
      field: `?${name}`,
      message: `must be one of ${params.allowedValues.map(String).join(', ')}`,
    };
  }
  if (error.keyword === 'format' && params.format === 'date-time') {
    return { field: `?${name}`, message: 'must be an ISO 8601 time, e.g. 2026-11-27T10:00:00Z' };
  }
  if (error.keyword === 'pattern' && name === 'limit') {
    return { field: '?limit', message: 'must be a whole number from 1 to 1000' };
  }
  if (error.keyword === 'pattern' && name === 'decision_id') {
    return { field: '?decision_id', message: 'must be a decision id (a UUID)' };
  }
  // ajv gives every error a message unless told not to (`messages: false`).
  return { field: `?${name}`, message: error.message as string };
}

/** A `bad_request` error about one query parameter. */
export function parameterProblem(field: string, message: string): VerdictError {
  const errors = [{ field, message }];
  return new VerdictError('bad_request', `Invalid query: ${field} ${message}.`, {
    extensions: { field, errors },
  });
}

/** Compiles `schema` once; the returned function returns the query typed, or throws. */
export function queryValidator<T>(schema: JSONSchemaType<T>): (query: unknown) => T {
  const validate = ajv.compile(schema);
  return (query) => {
    if (validate(query)) return query;
    const errors = (validate.errors as ErrorObject[]).map(parameterError);
    const first = errors[0] as ParameterError;
    throw new VerdictError(
      'bad_request',
      `Invalid query: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}.`,
      { extensions: { field: first.field, errors } },
    );
  };
}
