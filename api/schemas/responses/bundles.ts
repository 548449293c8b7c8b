/** Answers of the bundle registry (api/routes/bundles.ts). */
import { bundleEngines, signatureStatuses } from '../../models/bundle-version';
import type { JsonSchema } from '../json-schema';
import { count, flag, listOf, optionalText, record, text, timestamp, uuid } from './common';

export const bundleVersionSchema: JsonSchema = record({
  id: uuid,
  bundle: text,
  version: { type: 'string', description: 'Semantic version.' },
  revision: { type: 'string', description: "The manifest's revision, or a hash of the files." },
  engine: { type: 'string', enum: [...bundleEngines] },
  signature_status: { type: 'string', enum: [...signatureStatuses] },
  size_bytes: { type: ['integer', 'null'], minimum: 0 },
  uploaded_by: {
    type: 'string',
    description: '`admin-token`, `api-key:<key id>` or `user:<user id>`.',
  },
  created_at: timestamp,
  stable: { type: 'boolean', description: "Whether this is the tenant's stable version." },
  manifest: {
    type: 'object',
    description:
      "The bundle's `.manifest` as stored (`name`, `version`, `revision`, `roots`, ...).",
  },
});

export const bundleSchema: JsonSchema = record({
  id: uuid,
  name: text,
  created_at: timestamp,
  versions: count,
  latest_version: optionalText,
  stable_version: optionalText,
});

export const bundleListSchema = listOf('bundles', bundleSchema);
export const bundleVersionListSchema = listOf('versions', bundleVersionSchema);

export const signingSettingsSchema: JsonSchema = record({
  public_key: { type: ['string', 'null'], description: 'PEM Ed25519 public key.' },
  require_signed: flag,
});
