/** Logins, tokens, sessions, the signed-in user, and user administration. */
import type { Operation } from '../route-table';
import { jsonAnswer, jsonBody, noStore, tenantNotFound } from './shared';

const userAnswer = (description: string) => jsonAnswer(description, 'User');

export const identityOperations: readonly Operation[] = [
  {
    method: 'post',
    path: '/v1/auth/login',
    operationId: 'login',
    tag: 'Identity',
    summary: 'Log in with e-mail and password',
    description:
      'Without MFA the answer is the token pair; with MFA an `mfa_token` for `POST /v1/auth/mfa`.',
    access: { kind: 'public' },
    body: jsonBody('LoginRequest', 'Platform admins leave out `tenant`.'),
    answers: { 200: jsonAnswer('Tokens, or the second step.', 'LoginResult', noStore) },
    problems: {
      401: 'Invalid credentials (unknown tenant or e-mail, wrong password, disabled or invited account).',
      429: 'Too many failures: the account name is locked for `Retry-After` seconds, or a rate limit was reached.',
    },
  },
  {
    method: 'post',
    path: '/v1/auth/mfa',
    operationId: 'completeMfa',
    tag: 'Identity',
    summary: 'The second factor: a TOTP code or a recovery code',
    access: { kind: 'public' },
    body: jsonBody('MfaRequest', 'Exactly one of `code` and `recovery_code`.'),
    answers: { 200: jsonAnswer('The token pair.', 'TokenPair', noStore) },
    problems: {
      401: 'A wrong code, or an MFA token that is used up or expired.',
      429: 'Too many failures: locked for `Retry-After` seconds, or a rate limit was reached.',
    },
  },
  {
    method: 'post',
    path: '/v1/auth/refresh',
    operationId: 'refresh',
    tag: 'Identity',
    summary: 'Trade a refresh token for a new token pair',
    description: 'A refresh token presented a second time revokes its whole session.',
    access: { kind: 'public' },
    body: jsonBody('RefreshRequest'),
    answers: { 200: jsonAnswer('The new token pair.', 'TokenPair', noStore) },
    problems: { 401: 'The refresh token is expired, revoked, unknown or used before.' },
  },
  {
    method: 'post',
    path: '/v1/auth/logout',
    operationId: 'logout',
    tag: 'Identity',
    summary: 'End this session',
    access: { kind: 'user' },
    answers: { 204: { description: 'The session ended.' } },
  },
  {
    method: 'post',
    path: '/v1/auth/password-setup',
    operationId: 'setUpPassword',
    tag: 'Identity',
    summary: "An invited user's first password",
    access: { kind: 'public' },
    body: jsonBody('PasswordSetupRequest', 'The `setup_token` of the invitation.'),
    answers: { 200: userAnswer('The user, now active (no login yet).') },
    problems: {
      400: 'The password fails the policy (each reason named).',
      401: 'The set-up token is used, expired or unknown.',
    },
  },
  {
    method: 'get',
    path: '/v1/auth/sessions',
    operationId: 'listSessions',
    tag: 'Identity',
    summary: "The signed-in user's sessions",
    access: { kind: 'user' },
    answers: { 200: jsonAnswer('The sessions.', 'SessionList') },
  },
  {
    method: 'delete',
    path: '/v1/auth/sessions/{sessionId}',
    operationId: 'revokeSession',
    tag: 'Identity',
    summary: 'End one of your sessions',
    access: { kind: 'user' },
    answers: { 204: { description: 'The session ended.' } },
    problems: { 404: 'Not one of your active sessions.' },
  },
  {
    method: 'get',
    path: '/.well-known/jwks.json',
    operationId: 'jwks',
    tag: 'Identity',
    summary: 'Public keys of the access tokens',
    access: { kind: 'public' },
    answers: {
      200: jsonAnswer('The JWK set.', 'Jwks', {
        'Cache-Control': { description: '`public, max-age=60`.', required: true },
      }),
    },
  },
  {
    method: 'get',
    path: '/v1/users/me',
    operationId: 'me',
    tag: 'Identity',
    summary: 'The signed-in user',
    access: { kind: 'user' },
    answers: { 200: userAnswer('The user.') },
  },
  {
    method: 'post',
    path: '/v1/users/me/password',
    operationId: 'changePassword',
    tag: 'Identity',
    summary: 'Change your password',
    description: 'Every other session of yours ends.',
    access: { kind: 'user' },
    body: jsonBody('ChangePasswordRequest'),
    answers: { 204: { description: 'Changed.' } },
    problems: {
      400: 'The new password fails the policy (each reason named).',
      403: 'The current password is not right.',
      429: 'Too many failures: locked for `Retry-After` seconds, or a rate limit was reached.',
    },
  },
  {
    method: 'post',
    path: '/v1/users/me/mfa',
    operationId: 'enrolMfa',
    tag: 'Identity',
    summary: 'Start MFA enrolment',
    access: { kind: 'user' },
    answers: {
      201: jsonAnswer('The secret to add to an authenticator app.', 'MfaEnrolment', noStore),
    },
    problems: { 409: 'MFA is on already.' },
  },
  {
    method: 'post',
    path: '/v1/users/me/mfa/confirm',
    operationId: 'confirmMfa',
    tag: 'Identity',
    summary: 'Turn MFA on with a first code',
    access: { kind: 'user' },
    body: jsonBody('MfaConfirmRequest'),
    answers: { 200: jsonAnswer('MFA is on; the recovery codes.', 'MfaConfirmed', noStore) },
    problems: {
      400: 'The code is not valid.',
      409: 'No enrolment was started, or MFA is on already.',
    },
  },
  {
    method: 'post',
    path: '/v1/users/me/mfa/recovery-codes',
    operationId: 'regenerateRecoveryCodes',
    tag: 'Identity',
    summary: 'New recovery codes (the old ones stop working)',
    access: { kind: 'user' },
    answers: { 200: jsonAnswer('The new codes.', 'RecoveryCodes', noStore) },
    problems: { 409: 'MFA is off.' },
  },
  {
    method: 'post',
    path: '/v1/users/me/mfa/disable',
    operationId: 'disableMfa',
    tag: 'Identity',
    summary: 'Turn MFA off',
    access: { kind: 'user' },
    body: jsonBody('PasswordConfirmRequest'),
    answers: { 200: jsonAnswer('MFA is off.', 'MfaDisabled') },
    problems: { 403: 'The password is not right.' },
  },

  // Users
  ...(['tenant', 'platform'] as const).flatMap((scope): Operation[] => {
    const base = scope === 'tenant' ? '/v1/tenants/{tenant}/users' : '/v1/platform/users';
    const actions = scope === 'tenant' ? 'users' : 'platform-users';
    const who = scope === 'tenant' ? "a tenant's users" : 'platform admins';
    const notFound: Record<number, string> = scope === 'tenant' ? { 404: tenantNotFound } : {};
    return [
      {
        method: 'post',
        path: base,
        operationId: scope === 'tenant' ? 'createUser' : 'createPlatformAdmin',
        tag: 'Users',
        summary: `Create or invite one of ${who}`,
        description:
          'Without `password` the user is invited: `setup_token` (shown once, valid 7 days) sets one with `POST /v1/auth/password-setup`.',
        access: { kind: 'policy', action: `${actions}.create` },
        body: jsonBody(
          'CreateUserRequest',
          scope === 'tenant'
            ? '`role`: `tenant-admin`, `policy-author` or `auditor`.'
            : '`role`: `platform-admin`.',
        ),
        answers: { 201: jsonAnswer('The user, and an invitation token.', 'CreatedUser', noStore) },
        problems: { ...notFound, 409: 'The e-mail address is used in this tenant already.' },
      },
      {
        method: 'get',
        path: base,
        operationId: scope === 'tenant' ? 'listUsers' : 'listPlatformAdmins',
        tag: 'Users',
        summary: `List ${who}, oldest first`,
        access: { kind: 'policy', action: `${actions}.list` },
        answers: { 200: jsonAnswer('The users.', 'UserList') },
        problems: notFound,
      },
      {
        method: 'delete',
        path: `${base}/{userId}`,
        operationId: scope === 'tenant' ? 'disableUser' : 'disablePlatformAdmin',
        tag: 'Users',
        summary: `Disable one of ${who}`,
        description: 'Their sessions end at once.',
        access: { kind: 'policy', action: `${actions}.update` },
        answers: { 200: userAnswer('The user, `status: disabled`.') },
        problems: { 404: scope === 'tenant' ? 'No such tenant or user.' : 'No such user.' },
      },
    ];
  }),
];
