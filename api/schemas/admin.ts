/**
 * Bodies of the admin API (bootstrap token): creating tenants and tenant API keys. The
 * route handlers validate with these; docs/http-api.md describes the same shapes.
 */
import type { JSONSchemaType } from 'ajv';
import { apiKeyScopes, type ApiKeyScope } from '../models/api-key';
import { durationPattern } from './duration';

export interface CreateTenantBody {
  slug: string;
  name: string;
}

export const createTenantSchema: JSONSchemaType<CreateTenantBody> = {
  type: 'object',
  properties: {
    slug: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
    name: { type: 'string', minLength: 1, maxLength: 200 },
  },
  required: ['slug', 'name'],
  additionalProperties: false,
};

export interface CreateApiKeyBody {
  name: string;
  scopes: ApiKeyScope[];
  expires_in?: string;
}

export const createApiKeySchema: JSONSchemaType<CreateApiKeyBody> = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    scopes: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { type: 'string', enum: [...apiKeyScopes] },
    },
    expires_in: { type: 'string', pattern: durationPattern, nullable: true },
  },
  required: ['name', 'scopes'],
  additionalProperties: false,
};
