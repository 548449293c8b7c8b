/**
 * Who is calling the platform's own API, once authenticated: the bootstrap admin token, a
 * human user (through a short-lived access token), or a tenant API key. Routes never look at
 * credentials themselves; they ask the platform policy (api/auth/policy) whether this
 * principal may take an action on a tenant.
 */

/** The platform's roles, as the platform policy names them. */
export const platformRoles = [
  'platform-admin',
  'tenant-admin',
  'policy-author',
  'auditor',
  'app',
] as const;
export type PlatformRole = (typeof platformRoles)[number];

/** Roles a human user may hold; `app` is an API key's. */
export const userRoles = ['platform-admin', 'tenant-admin', 'policy-author', 'auditor'] as const;
export type UserRole = (typeof userRoles)[number];

export interface Principal {
  readonly kind: 'bootstrap' | 'user' | 'api-key';
  /** The user's id, the API key's id, or `admin-token`. */
  readonly id: string;
  /** The tenant the principal belongs to; null for platform admins and the bootstrap token. */
  readonly tenantId: string | null;
  readonly roles: readonly PlatformRole[];
  /** An API key's scopes (`decide`, `bundles:write`, `audit:read`); empty for others. */
  readonly scopes: readonly string[];
  /** A user's session (what logout and revocation end). */
  readonly sessionId?: string;
  /** Whether a user passed a second factor in this session. */
  readonly mfa?: boolean;
}

/** Verifies the platform's access tokens (JWTs); implemented by the identity service. */
export interface AccessTokenVerifier {
  /** Whether `token` has the form of an access token (a compact JWS), before any check. */
  looksLikeAccessToken(token: string): boolean;
  /**
   * The principal a valid access token stands for. Throws a VerdictError `unauthorized` for a
   * token that is malformed, expired, wrongly signed, for another audience, or whose session
   * was revoked.
   */
  verify(token: string): Promise<Principal>;
}

/** The principal of the bootstrap admin token (VERDICT_ADMIN_TOKEN). */
export const bootstrapPrincipal: Principal = {
  kind: 'bootstrap',
  id: 'admin-token',
  tenantId: null,
  roles: ['platform-admin'],
  scopes: [],
};
