/**
 * Bodies of the identity API: logins, tokens, users, passwords and MFA. The route handlers
 * validate with these; docs/api.md describes the same shapes. Unknown members are
 * refused everywhere.
 */
import type { JSONSchemaType } from 'ajv';
import { userRoles, type UserRole } from '../auth/principal';
import { maxPasswordLength } from '../services/identity/password-policy';

const email = {
  type: 'string',
  minLength: 3,
  maxLength: 254,
  pattern: '^[^\\s@]+@[^\\s@]+$',
} as const;
/** Any length up to the maximum: the policy, not the schema, judges new passwords. */
const password = { type: 'string', minLength: 1, maxLength: maxPasswordLength } as const;
const opaqueToken = { type: 'string', minLength: 1, maxLength: 200 } as const;
const tenantRef = { type: 'string', minLength: 1, maxLength: 100 } as const;
const totpCode = { type: 'string', pattern: '^[0-9]{6}$' } as const;
const recoveryCode = { type: 'string', minLength: 1, maxLength: 64 } as const;

export interface LoginBody {
  tenant?: string;
  email: string;
  password: string;
}

export const loginSchema: JSONSchemaType<LoginBody> = {
  type: 'object',
  // Any text as the e-mail: a login never says more than `invalid credentials`.
  properties: {
    tenant: { ...tenantRef, nullable: true },
    email: { type: 'string', minLength: 1, maxLength: 320 },
    password,
  },
  required: ['email', 'password'],
  additionalProperties: false,
};

export interface MfaBody {
  mfa_token: string;
  code?: string;
  recovery_code?: string;
}

export const mfaSchema: JSONSchemaType<MfaBody> = {
  type: 'object',
  properties: {
    mfa_token: opaqueToken,
    code: { ...totpCode, nullable: true },
    recovery_code: { ...recoveryCode, nullable: true },
  },
  // Exactly one of code and recovery_code: checked by the route.
  required: ['mfa_token'],
  additionalProperties: false,
};

export interface RefreshBody {
  refresh_token: string;
}

export const refreshSchema: JSONSchemaType<RefreshBody> = {
  type: 'object',
  properties: { refresh_token: opaqueToken },
  required: ['refresh_token'],
  additionalProperties: false,
};

export interface PasswordSetupBody {
  token: string;
  password: string;
}

export const passwordSetupSchema: JSONSchemaType<PasswordSetupBody> = {
  type: 'object',
  properties: { token: opaqueToken, password },
  required: ['token', 'password'],
  additionalProperties: false,
};

export interface ChangePasswordBody {
  current_password: string;
  new_password: string;
}

export const changePasswordSchema: JSONSchemaType<ChangePasswordBody> = {
  type: 'object',
  properties: { current_password: password, new_password: password },
  required: ['current_password', 'new_password'],
  additionalProperties: false,
};

export interface CreateUserBody {
  email: string;
  role: UserRole;
  display_name?: string;
  /** Absent: the user is invited and sets a password with the returned set-up token. */
  password?: string;
}

export const createUserSchema: JSONSchemaType<CreateUserBody> = {
  type: 'object',
  properties: {
    email,
    role: { type: 'string', enum: [...userRoles] },
    display_name: { type: 'string', maxLength: 200, nullable: true },
    password: { ...password, nullable: true },
  },
  required: ['email', 'role'],
  additionalProperties: false,
};

export interface MfaConfirmBody {
  code: string;
}

export const mfaConfirmSchema: JSONSchemaType<MfaConfirmBody> = {
  type: 'object',
  properties: { code: totpCode },
  required: ['code'],
  additionalProperties: false,
};

export interface PasswordConfirmBody {
  password: string;
}

export const passwordConfirmSchema: JSONSchemaType<PasswordConfirmBody> = {
  type: 'object',
  properties: { password },
  required: ['password'],
  additionalProperties: false,
};
