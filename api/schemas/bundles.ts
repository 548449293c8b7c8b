/**
 * Bodies of the bundle registry routes: activating a version, and a tenant's signing key.
 * The route handlers validate with these; docs/api.md describes the same shapes.
 */
import type { JSONSchemaType } from 'ajv';
import { SEMVER } from '../../policies/bundle/manifest';

export interface ActivateBundleBody {
  version: string;
}

export const activateBundleSchema: JSONSchemaType<ActivateBundleBody> = {
  type: 'object',
  properties: {
    version: { type: 'string', maxLength: 128, pattern: SEMVER },
  },
  required: ['version'],
  additionalProperties: false,
};

export interface SigningKeyBody {
  /** PEM (SPKI) Ed25519 public key; null (or absent) removes the key. */
  public_key?: string | null;
  require_signed: boolean;
}

export const signingKeySchema: JSONSchemaType<SigningKeyBody> = {
  type: 'object',
  properties: {
    public_key: { type: 'string', maxLength: 4096, nullable: true },
    require_signed: { type: 'boolean' },
  },
  required: ['require_signed'],
  additionalProperties: false,
};
