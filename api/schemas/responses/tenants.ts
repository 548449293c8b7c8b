/** Answers of the admin API: tenants and their API keys (api/routes/admin.ts). */
import { apiKeyScopes } from '../../models/api-key';
import { maxAuditRetentionDays } from '../admin';
import type { JsonSchema } from '../json-schema';
import { flag, listOf, optionalTimestamp, record, text, timestamp, uuid } from './common';

export const tenantSchema: JsonSchema = record({
  id: uuid,
  slug: text,
  name: text,
  require_signed_bundles: flag,
  audit_strict: flag,
  audit_retention_days: {
    type: ['integer', 'null'],
    minimum: 1,
    maximum: maxAuditRetentionDays,
    description: 'Days decisions are kept; null: forever.',
  },
  default_decision: {
    type: 'string',
    description: 'The data path `POST /` evaluates (`system/main` unless set).',
  },
  created_at: timestamp,
  updated_at: timestamp,
});

export const tenantListSchema = listOf('tenants', tenantSchema);

const apiKeyProperties = {
  id: uuid,
  tenant_id: uuid,
  name: text,
  prefix: { type: 'string', description: 'The public part of the key, after `vdk_`.' },
  scopes: { type: 'array', items: { type: 'string', enum: [...apiKeyScopes] } },
  status: { type: 'string', enum: ['active', 'revoked', 'expired'] },
  expires_at: optionalTimestamp,
  last_used_at: optionalTimestamp,
  revoked_at: optionalTimestamp,
  created_at: timestamp,
};

/** A key as listings show it: everything but the secret. */
export const apiKeySchema: JsonSchema = record(apiKeyProperties);

/** A key just created: with the key itself, shown this once. */
export const newApiKeySchema: JsonSchema = record({
  ...apiKeyProperties,
  key: { type: 'string', pattern: '^vdk_', description: 'The key, `vdk_<prefix>_<secret>`.' },
});

export const apiKeyListSchema = listOf('keys', apiKeySchema);
