/** The auditor console's sign-in body (`POST /console/session`); unknown members are refused. */
import type { JSONSchemaType } from 'ajv';

export interface ConsoleSignInBody {
  /** The tenant's slug or id, or `platform`. */
  tenant: string;
  /** A tenant API key with `audit:read`, a user's access token, or the admin token. */
  token: string;
}

export const consoleSignInSchema: JSONSchemaType<ConsoleSignInBody> = {
  type: 'object',
  properties: {
    tenant: { type: 'string', minLength: 1, maxLength: 100 },
    token: { type: 'string', minLength: 1, maxLength: 4096 },
  },
  required: ['tenant', 'token'],
  additionalProperties: false,
};
