/**
 * The RFC 9457 problem every error answers with (`application/problem+json`; built by
 * api/middleware/problem.ts), and the problem of one HTTP status: its `status` member equal
 * to it and its `code` one of the catalogue's codes for it (api/errors.ts).
 */
import { errorCatalogue, type ErrorCode } from '../../errors';
import type { JsonSchema } from '../json-schema';
import { count, text } from './common';

const errorCodes = Object.keys(errorCatalogue) as ErrorCode[];

/** The codes whose status is `status`. */
export function codesWithStatus(status: number): ErrorCode[] {
  return errorCodes.filter((code) => errorCatalogue[code].status === status);
}

export const problemSchema: JsonSchema = {
  type: 'object',
  description:
    'An RFC 9457 problem. Match on `code`; `detail` says what to do; `requestId` is in the server log. Other members are extensions of particular errors.',
  properties: {
    type: { type: 'string', pattern: '^urn:verdict:problem:[a-z_]+$' },
    title: text,
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: text,
    instance: { type: 'string', description: 'The URL as asked.' },
    code: { type: 'string', enum: errorCodes },
    requestId: { type: 'string', description: 'The X-Request-Id of the request.' },
    message: {
      type: 'string',
      description:
        'The `detail` again, for OPA clients: present when the request accepted `application/json` but not `application/problem+json`, and the problem went out as `application/json`.',
    },
    field: {
      type: 'string',
      description: 'The first offending field: a JSON pointer (`/scopes/0`) or `?parameter`.',
    },
    errors: {
      type: 'array',
      description:
        'Every offending field (`field`, `message`), or every compile error of a refused bundle (`code`, `message`, `file`, `line`, `col`).',
      items: {
        type: 'object',
        properties: {
          field: text,
          message: text,
          code: text,
          file: text,
          line: count,
          col: count,
        },
        required: ['message'],
        additionalProperties: false,
      },
    },
    problems: {
      type: 'array',
      items: text,
      description: 'Why a bundle was refused, one line each.',
    },
    retryAfterSeconds: { type: 'integer', minimum: 0 },
    limit: { type: 'string', description: 'The rate limit that was reached.' },
    scope: { type: 'string', description: 'The API-key scope the route needs.' },
    action: { type: 'string', description: 'The platform-policy action that was refused.' },
    policyError: {
      type: 'string',
      description: 'The evaluation error (`eval_conflict_error`, `eval_budget_error`, ...).',
    },
  },
  required: ['type', 'title', 'status', 'detail', 'instance', 'code'],
};

function withStatus(status: number, extensions: Readonly<Record<string, JsonSchema>>): JsonSchema {
  return {
    type: 'object',
    allOf: [problemSchema],
    properties: {
      status: { const: status },
      code: { enum: codesWithStatus(status) },
      ...extensions,
    },
  };
}

/** The problem of each status the catalogue has, by status. */
export const problemsByStatus: ReadonlyMap<number, JsonSchema> = new Map(
  [...new Set(errorCodes.map((code) => errorCatalogue[code].status))]
    .sort((a, b) => a - b)
    .map((status) => [status, withStatus(status, {})]),
);

/**
 * A problem answered with HTTP status `status`, with the extension members `extensions` of
 * this particular error typed.
 */
export function problemWithStatus(
  status: number,
  extensions: Readonly<Record<string, JsonSchema>> = {},
): JsonSchema {
  const shared = problemsByStatus.get(status);
  if (shared === undefined) throw new Error(`no error code answers with status ${status}`);
  return Object.keys(extensions).length === 0 ? shared : withStatus(status, extensions);
}
