/** Answers of the identity API: logins, tokens, users, sessions, MFA (api/routes/identity.ts). */
import { userRoles } from '../../auth/principal';
import type { JsonSchema } from '../json-schema';
import {
  count,
  flag,
  listOf,
  optionalText,
  optionalTimestamp,
  record,
  text,
  textList,
  timestamp,
  uuid,
} from './common';

export const userSchema: JsonSchema = record({
  id: uuid,
  tenant_id: { anyOf: [uuid, { type: 'null' }], description: 'null for platform admins.' },
  email: text,
  display_name: text,
  role: { type: 'string', enum: [...userRoles] },
  status: {
    type: 'string',
    enum: ['active', 'invited', 'disabled'],
    description: '`invited` until a first password is set.',
  },
  mfa_enabled: flag,
  last_login_at: optionalTimestamp,
  disabled_at: optionalTimestamp,
  created_at: timestamp,
});

export const userListSchema = listOf('users', userSchema);

export const createdUserSchema: JsonSchema = record(
  {
    user: userSchema,
    setup_token: {
      type: 'string',
      pattern: '^vst_',
      description: 'For an invited user: the one-time token of POST /v1/auth/password-setup.',
    },
    setup_expires_in: { ...count, description: 'Seconds the set-up token lasts.' },
  },
  ['setup_token', 'setup_expires_in'],
);

const tokenPairProperties = {
  access_token: { type: 'string', description: 'A JWT (EdDSA), sent as `Bearer`.' },
  token_type: { const: 'Bearer' },
  expires_in: { ...count, description: 'Seconds the access token lives.' },
  refresh_token: { type: 'string', pattern: '^vrt_' },
  refresh_expires_at: { ...timestamp, description: 'When the session ends.' },
  session_id: uuid,
};

export const tokenPairSchema: JsonSchema = record(tokenPairProperties);

export const loginResultSchema: JsonSchema = {
  oneOf: [
    record({ mfa_required: { const: false }, ...tokenPairProperties }),
    record({
      mfa_required: { const: true },
      mfa_token: { type: 'string', pattern: '^vmt_', description: 'For POST /v1/auth/mfa.' },
      expires_in: { ...count, description: 'Seconds the MFA token lasts.' },
    }),
  ],
};

export const sessionListSchema = listOf(
  'sessions',
  record({
    id: uuid,
    current: { type: 'boolean', description: 'Whether this request came with it.' },
    mfa: { type: 'boolean', description: 'Whether it passed a second factor.' },
    user_agent: optionalText,
    ip: optionalText,
    created_at: timestamp,
    last_seen_at: timestamp,
    expires_at: timestamp,
  }),
);

export const mfaEnrolmentSchema: JsonSchema = record({
  secret: { type: 'string', description: 'The TOTP secret in base32, to type in by hand.' },
  otpauth_uri: { type: 'string', pattern: '^otpauth://totp/' },
  qr_svg: { type: 'string', description: 'The URI as a QR code (SVG).' },
});

const recoveryCodes = { ...textList, minItems: 1, description: 'Each works once.' };

export const mfaConfirmedSchema: JsonSchema = record({
  mfa_enabled: { const: true },
  recovery_codes: recoveryCodes,
});

export const recoveryCodesSchema: JsonSchema = record({ recovery_codes: recoveryCodes });

export const mfaDisabledSchema: JsonSchema = record({ mfa_enabled: { const: false } });

export const jwksSchema: JsonSchema = record({
  keys: {
    type: 'array',
    items: {
      type: 'object',
      properties: {
        kty: text,
        crv: text,
        x: text,
        kid: text,
        alg: { const: 'EdDSA' },
        use: { const: 'sig' },
      },
      required: ['kty', 'kid', 'alg', 'use'],
    },
    description: 'Public keys that still verify access tokens (RFC 7517).',
  },
});
