/**
 * The shape of a CASL decision request, checked before evaluation so that a malformed request
 * gets a clear error instead of a silent deny.
 */
import Ajv from 'ajv';
import type { CaslRequest } from './index';

const requestSchema = {
  type: 'object',
  required: ['action', 'subject'],
  additionalProperties: false,
  properties: {
    user: { type: 'object' },
    action: { type: 'string', minLength: 1 },
    subject: { type: 'string', minLength: 1 },
    resource: { type: 'object' },
    field: { type: 'string' },
  },
};

const ajv = new Ajv({ allErrors: true, strict: true });
const check = ajv.compile(requestSchema);

/** Problems with a request (`/action: must be string`); empty when it is well formed. */
export function requestProblems(input: unknown): string[] {
  if (check(input)) return [];
  return (check.errors ?? []).map((e) => {
    const extra = (e.params as { additionalProperty?: string }).additionalProperty;
    return extra === undefined
      ? `${e.instancePath || '/'}: ${e.message ?? 'is invalid'}`
      : `/${extra}: unknown property; a CASL request has user, action, subject, resource and field`;
  });
}

/** Whether `input` is a well-formed request; `requestProblems` says what is wrong when not. */
export function isCaslRequest(input: unknown): input is CaslRequest {
  return check(input);
}
