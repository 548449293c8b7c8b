/**
 * The identity service: logins (password, then TOTP or a recovery code when enrolled),
 * refresh-token rotation with reuse detection, logout and session revocation, users and
 * their passwords and MFA. It is the platform's AccessTokenVerifier: the authentication
 * middleware hands it bearer tokens that look like JWTs.
 *
 * Failures that could tell an attacker something say nothing: an unknown tenant, unknown
 * e-mail, wrong password, disabled or not yet activated account all answer the same
 * `invalid credentials`, after the same scrypt work, and lock out alike.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { AccessTokenVerifier, Principal, UserRole } from '../../auth/principal';
import { VerdictError } from '../../errors';
import type { Logger } from '../../logger';
import {
  SecurityEvents,
  loggedAccountName,
  type SecurityEvent,
  type SecurityEventSink,
} from '../security/events';
import { isUuid } from '../../uuid';
import { AccessTokens } from './access-tokens';
import { normalizeEmail, type FieldCipher } from './data-keys';
import { LoginThrottle, type LoginThrottleOptions } from './login-throttle';
import { MfaService, type Enrolment } from './mfa';
import { OneTimeTokens, newOpaqueToken, tokenHash } from './one-time-tokens';
import { passwordProblems } from './password-policy';
import {
  decoyHash,
  defaultScryptParams,
  hashPassword,
  needsRehash,
  verifyPassword,
  type ScryptParams,
} from './passwords';
import type { Session, SessionStore } from './sessions';
import { SigningKeys } from './signing-keys';
import { UserDirectory, type UserRow, type UserView } from './users';

export interface IdentitySettings {
  /** Life of an access token (default 600 s). */
  readonly accessTokenTtlSeconds: number;
  /** Life of a session: its refresh tokens stop working then (default 7 days). */
  readonly sessionTtlSeconds: number;
  /** Age at which the token signing key is replaced (default 30 days). */
  readonly signingKeyRotationDays: number;
}

export const defaultIdentitySettings: IdentitySettings = {
  accessTokenTtlSeconds: 600,
  sessionTtlSeconds: 7 * 24 * 3600,
  signingKeyRotationDays: 30,
};

export interface IdentityServiceOptions {
  readonly knex: Knex;
  readonly cipher: FieldCipher;
  readonly sessions: SessionStore;
  readonly logger: Logger;
  readonly settings?: Partial<IdentitySettings>;
  /** Milliseconds since the epoch; tests pass a clock they control. */
  readonly clock?: () => number;
  /** scrypt cost of new hashes (tests lower it). */
  readonly scryptParams?: ScryptParams;
  readonly throttle?: Omit<LoginThrottleOptions, 'knex' | 'clock'>;
  /** Where failed logins, lockouts, refused second factors and token reuse are reported. */
  readonly events?: SecurityEventSink;
}

/** Where a login comes from, kept with the session for the user's session list. */
export interface ClientInfo {
  readonly userAgent?: string | undefined;
  readonly ip?: string | undefined;
  /** The request's id, for security events (not kept with the session). */
  readonly requestId?: string | undefined;
}

export interface LoginInput extends ClientInfo {
  /** Tenant slug or id; absent for a platform admin. */
  readonly tenant?: string | undefined;
  readonly email: string;
  readonly password: string;
}

export interface TokenPair {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  /** Seconds the access token lives. */
  readonly expires_in: number;
  readonly refresh_token: string;
  /** When the session (and so every refresh token of it) ends. */
  readonly refresh_expires_at: Date;
  readonly session_id: string;
}

export type LoginResult =
  | { readonly mfa_required: true; readonly mfa_token: string; readonly expires_in: number }
  | ({ readonly mfa_required: false } & TokenPair);

export interface SecondFactor extends ClientInfo {
  readonly mfaToken: string;
  readonly code?: string | undefined;
  readonly recoveryCode?: string | undefined;
}

export interface NewUserInput {
  readonly email: string;
  readonly role: UserRole;
  readonly displayName?: string | undefined;
  /** Absent: the user is invited and sets a password with the returned set-up token. */
  readonly password?: string | undefined;
}

export interface CreatedUser {
  readonly user: UserView;
  /** One-time token for POST /v1/auth/password-setup; only for invited users. */
  readonly setup_token?: string;
  readonly setup_expires_in?: number;
}

export interface SessionView {
  readonly id: string;
  readonly current: boolean;
  readonly mfa: boolean;
  readonly user_agent: string | null;
  readonly ip: string | null;
  readonly created_at: Date;
  readonly last_seen_at: Date;
  readonly expires_at: Date;
}

const mfaTokenTtlMs = 5 * 60_000;
const passwordSetupTtlMs = 7 * 24 * 3600_000;
const refreshTokenPattern = /^vrt_[A-Za-z0-9_-]{43}$/;

export const invalidCredentials = (): VerdictError =>
  new VerdictError(
    'unauthorized',
    'Invalid credentials: check the tenant, e-mail address and password.',
  );

function locked(ms: number): VerdictError {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  return new VerdictError(
    'too_many_requests',
    `Too many failed logins for this account: try again in ${seconds} s.`,
    { extensions: { retryAfterSeconds: seconds } },
  );
}

function weakPassword(field: string, problems: readonly string[]): VerdictError {
  const errors = problems.map((message) => ({ field, message }));
  return new VerdictError(
    'bad_request',
    `The password is not accepted: it ${problems.join('; it ')}.`,
    { extensions: { field, errors } },
  );
}

function notFoundUser(id: string): VerdictError {
  return new VerdictError(
    'not_found',
    `No user ${id} here: list users with \`verdict users list\`.`,
  );
}

export class IdentityService implements AccessTokenVerifier {
  readonly users: UserDirectory;
  readonly mfa: MfaService;
  readonly signingKeys: SigningKeys;
  readonly tokens: AccessTokens;
  readonly sessions: SessionStore;
  readonly throttle: LoginThrottle;
  readonly settings: IdentitySettings;
  private readonly knex: Knex;
  private readonly cipher: FieldCipher;
  private readonly oneTime: OneTimeTokens;
  private readonly logger: Logger;
  private readonly events: SecurityEventSink;
  private readonly clock: () => number;
  private readonly scryptParams: ScryptParams;
  private decoy: Promise<string> | undefined;

  constructor(options: IdentityServiceOptions) {
    this.knex = options.knex;
    this.cipher = options.cipher;
    this.sessions = options.sessions;
    this.logger = options.logger;
    this.events = options.events ?? new SecurityEvents({ logger: options.logger });
    this.clock = options.clock ?? Date.now;
    this.settings = { ...defaultIdentitySettings, ...options.settings };
    this.scryptParams = options.scryptParams ?? defaultScryptParams;
    this.users = new UserDirectory(this.knex, this.cipher, this.clock);
    this.mfa = new MfaService(this.knex, this.cipher, this.clock);
    this.oneTime = new OneTimeTokens(this.knex, this.clock);
    this.throttle = new LoginThrottle({ knex: this.knex, clock: this.clock, ...options.throttle });
    this.signingKeys = new SigningKeys({
      knex: this.knex,
      cipher: this.cipher,
      tokenTtlMs: this.settings.accessTokenTtlSeconds * 1000,
      rotationIntervalMs: this.settings.signingKeyRotationDays * 24 * 3600_000,
      clock: this.clock,
      onRotated: (kid, trigger) => {
        this.events.record({
          type: 'signing_key_rotated',
          actor: 'system',
          details: { kid, trigger },
        });
      },
    });
    this.tokens = new AccessTokens({
      keys: this.signingKeys,
      ttlSeconds: this.settings.accessTokenTtlSeconds,
      isSessionActive: (sessionId) => this.sessions.isActive(sessionId, this.now()),
      clock: this.clock,
    });
  }

  // --- AccessTokenVerifier -------------------------------------------------------------

  looksLikeAccessToken(token: string): boolean {
    return this.tokens.looksLikeAccessToken(token);
  }

  verify(token: string): Promise<Principal> {
    return this.tokens.verify(token);
  }

  // --- Logging in ----------------------------------------------------------------------

  async login(input: LoginInput): Promise<LoginResult> {
    const tenantId = input.tenant === undefined ? null : await this.tenantId(input.tenant);
    const subject = this.throttleSubject(tenantId ?? input.tenant ?? null, input.email);
    const event = { tenant: tenantId ?? null, ip: input.ip, requestId: input.requestId };
    const wait = await this.throttle.lockedFor(subject);
    if (wait > 0) {
      this.securityEvent('login_locked', subject, { ...event, details: { step: 'login' } });
      throw locked(wait);
    }
    const user =
      tenantId === undefined ? undefined : await this.users.findByEmail(tenantId, input.email);
    const usable = user?.disabled_at === null && user.password_hash !== null;
    const stored = usable ? (user.password_hash as string) : await this.decoyHash();
    const matches = await verifyPassword(input.password, stored);
    if (!usable || !matches) {
      const delay = await this.throttle.recordFailure(subject);
      const actor = user === undefined ? null : `user:${user.id}`;
      this.securityEvent('login_failed', subject, {
        ...event,
        actor,
        details: { step: 'password' },
      });
      if (delay > 0) {
        this.securityEvent('account_locked', subject, {
          ...event,
          actor,
          details: { lockedMs: delay },
        });
      }
      throw invalidCredentials();
    }
    if (needsRehash(stored, this.scryptParams)) {
      await this.users.setPasswordHash(
        user.id,
        await hashPassword(input.password, this.scryptParams),
      );
    }
    if (await this.mfa.isEnabled(user.id)) {
      const mfaToken = await this.oneTime.issue(user.id, 'mfa', mfaTokenTtlMs);
      return { mfa_required: true, mfa_token: mfaToken, expires_in: mfaTokenTtlMs / 1000 };
    }
    await this.throttle.recordSuccess(subject);
    return { mfa_required: false, ...(await this.startSession(user, false, input)) };
  }

  async completeMfa(input: SecondFactor): Promise<TokenPair> {
    const attempt = await this.oneTime.attempt(input.mfaToken, 'mfa');
    const user = attempt.ok ? await this.users.findById(attempt.userId) : undefined;
    if (user?.disabled_at !== null) {
      throw new VerdictError(
        'unauthorized',
        'The MFA token is invalid, used up or expired (it lasts 5 minutes): log in again.',
      );
    }
    const subject = this.throttleSubject(user.tenant_id, this.users.email(user));
    const event = {
      actor: `user:${user.id}`,
      tenant: user.tenant_id,
      ip: input.ip,
      requestId: input.requestId,
    };
    const wait = await this.throttle.lockedFor(subject);
    if (wait > 0) {
      this.securityEvent('login_locked', subject, { ...event, details: { step: 'mfa' } });
      throw locked(wait);
    }
    const passed =
      input.code !== undefined
        ? await this.mfa.verifyCode(user.id, input.code)
        : input.recoveryCode !== undefined &&
          (await this.mfa.useRecoveryCode(user.id, input.recoveryCode));
    if (!passed) {
      const delay = await this.throttle.recordFailure(subject);
      const factor = input.code !== undefined ? 'totp' : 'recovery_code';
      this.securityEvent('mfa_failed', subject, { ...event, details: { factor } });
      if (delay > 0) {
        this.securityEvent('account_locked', subject, { ...event, details: { lockedMs: delay } });
      }
      throw new VerdictError(
        'unauthorized',
        input.code !== undefined
          ? 'The code is not valid: type the current code of your authenticator app (each code works once).'
          : 'The recovery code is not valid or was used already.',
      );
    }
    if (!(await this.oneTime.spend(input.mfaToken))) throw invalidCredentials();
    await this.throttle.recordSuccess(subject);
    if (input.recoveryCode !== undefined) {
      this.logger.info({ event: 'recovery_code_used', userId: user.id }, 'recovery code used');
    }
    return this.startSession(user, true, input);
  }

  /** Trades a refresh token for new tokens; a reused one revokes its session. */
  async refresh(refreshToken: string, client: ClientInfo = {}): Promise<TokenPair> {
    const expired = (): VerdictError =>
      new VerdictError(
        'unauthorized',
        'The refresh token is not valid (expired, revoked or unknown): log in again.',
      );
    if (!refreshTokenPattern.test(refreshToken)) throw expired();
    const next = newOpaqueToken('vrt');
    const outcome = await this.sessions.rotate(
      tokenHash(refreshToken),
      tokenHash(next),
      this.now(),
    );
    if (outcome.status === 'reused') {
      await this.sessions.revoke(outcome.sessionId, 'refresh token reused', this.now());
      this.events.record({
        type: 'refresh_token_reused',
        ip: client.ip,
        requestId: client.requestId,
        details: { sessionId: outcome.sessionId },
      });
      throw new VerdictError(
        'unauthorized',
        'This refresh token was used before, so it may have been copied: the session is revoked; log in again.',
      );
    }
    if (outcome.status === 'invalid') throw expired();
    const user = await this.users.findById(outcome.session.userId);
    if (user?.disabled_at !== null) {
      await this.sessions.revoke(outcome.session.id, 'user disabled', this.now());
      throw expired();
    }
    return this.tokenPair(user, outcome.session, next);
  }

  /** Ends the principal's session. */
  async logout(principal: Principal): Promise<void> {
    if (principal.sessionId !== undefined) {
      await this.sessions.revoke(principal.sessionId, 'logout', this.now());
    }
  }

  /** Sets the first password of an invited user with the set-up token they were given. */
  async setupPassword(token: string, password: string): Promise<UserView> {
    const attempt = await this.oneTime.attempt(token, 'password-setup');
    const user = attempt.ok ? await this.users.findById(attempt.userId) : undefined;
    if (user?.disabled_at !== null) {
      throw new VerdictError(
        'unauthorized',
        'The set-up token is invalid, used or expired: ask an admin for a new invitation.',
      );
    }
    this.checkPassword('/password', password, user);
    await this.users.setPasswordHash(user.id, await hashPassword(password, this.scryptParams));
    await this.oneTime.spend(token);
    return this.users.describe({ ...user, password_hash: 'set' });
  }

  // --- Users ---------------------------------------------------------------------------

  async createUser(tenantId: string | null, input: NewUserInput): Promise<CreatedUser> {
    if ((tenantId === null) !== (input.role === 'platform-admin')) {
      throw new VerdictError(
        'bad_request',
        tenantId === null
          ? 'Users without a tenant are platform admins: use role platform-admin.'
          : 'A tenant user cannot be a platform admin: choose tenant-admin, policy-author or auditor.',
        { extensions: { field: '/role' } },
      );
    }
    const context = { email: input.email, displayName: input.displayName ?? '' };
    if (input.password !== undefined) {
      const problems = passwordProblems(input.password, context);
      if (problems.length > 0) throw weakPassword('/password', problems);
    }
    const row = await this.users.create(tenantId, {
      email: input.email,
      role: input.role,
      ...(input.displayName === undefined ? {} : { displayName: input.displayName }),
      passwordHash:
        input.password === undefined ? null : await hashPassword(input.password, this.scryptParams),
    });
    const user = this.users.view(row, false);
    if (input.password !== undefined) return { user };
    const setupToken = await this.oneTime.issue(row.id, 'password-setup', passwordSetupTtlMs);
    return { user, setup_token: setupToken, setup_expires_in: passwordSetupTtlMs / 1000 };
  }

  listUsers(tenantId: string | null): Promise<UserView[]> {
    return this.users.list(tenantId);
  }

  /** Disables a user of the tenant (null: a platform admin) and ends all their sessions. */
  async disableUser(tenantId: string | null, userId: string): Promise<UserView> {
    const row = await this.users.disable(tenantId, userId);
    if (row === undefined) throw notFoundUser(userId);
    await this.sessions.revokeForUser(row.id, 'user disabled', this.now());
    return this.users.describe(row);
  }

  async me(principal: Principal): Promise<UserView> {
    return this.users.describe(await this.signedInUser(principal));
  }

  /** Changes the user's password; every other session of theirs ends. */
  async changePassword(
    principal: Principal,
    current: string,
    next: string,
    client: ClientInfo = {},
  ): Promise<void> {
    const user = await this.signedInUser(principal);
    const subject = this.throttleSubject(user.tenant_id, this.users.email(user));
    const event = {
      actor: `user:${user.id}`,
      tenant: user.tenant_id,
      ip: client.ip,
      requestId: client.requestId,
    };
    const wait = await this.throttle.lockedFor(subject);
    if (wait > 0) {
      this.securityEvent('login_locked', subject, {
        ...event,
        details: { step: 'password_change' },
      });
      throw locked(wait);
    }
    if (user.password_hash === null || !(await verifyPassword(current, user.password_hash))) {
      const delay = await this.throttle.recordFailure(subject);
      this.securityEvent('login_failed', subject, {
        ...event,
        details: { step: 'password_change' },
      });
      if (delay > 0) {
        this.securityEvent('account_locked', subject, { ...event, details: { lockedMs: delay } });
      }
      throw new VerdictError('forbidden', 'The current password is not right.', {
        extensions: { field: '/current_password' },
      });
    }
    this.checkPassword('/new_password', next, user);
    await this.users.setPasswordHash(user.id, await hashPassword(next, this.scryptParams));
    await this.sessions.revokeForUser(user.id, 'password changed', this.now(), principal.sessionId);
  }

  // --- MFA -----------------------------------------------------------------------------

  async enrolMfa(principal: Principal): Promise<Enrolment> {
    const user = await this.signedInUser(principal);
    return this.mfa.enrol(user.id, this.users.email(user));
  }

  async confirmMfa(principal: Principal, code: string): Promise<string[]> {
    const user = await this.signedInUser(principal);
    return this.mfa.confirm(user.id, code);
  }

  /** Turns MFA off after the password is typed again. */
  async disableMfa(principal: Principal, password: string): Promise<void> {
    const user = await this.signedInUser(principal);
    if (user.password_hash === null || !(await verifyPassword(password, user.password_hash))) {
      throw new VerdictError('forbidden', 'The password is not right.', {
        extensions: { field: '/password' },
      });
    }
    await this.mfa.disable(user.id);
  }

  async regenerateRecoveryCodes(principal: Principal): Promise<string[]> {
    const user = await this.signedInUser(principal);
    return this.mfa.regenerateRecoveryCodes(user.id);
  }

  // --- Sessions ------------------------------------------------------------------------

  async listSessions(principal: Principal): Promise<SessionView[]> {
    const sessions = await this.sessions.listForUser(principal.id, this.now());
    return sessions.map((session) => ({
      id: session.id,
      current: session.id === principal.sessionId,
      mfa: session.mfa,
      user_agent: session.userAgent,
      ip: session.ip,
      created_at: session.createdAt,
      last_seen_at: session.lastSeenAt,
      expires_at: session.expiresAt,
    }));
  }

  /** Revokes one of the principal's own sessions. */
  async revokeSession(principal: Principal, sessionId: string): Promise<void> {
    const own = await this.sessions.listForUser(principal.id, this.now());
    if (!own.some((session) => session.id === sessionId)) {
      throw new VerdictError(
        'not_found',
        `You have no active session ${sessionId}: list them with GET /v1/auth/sessions.`,
      );
    }
    await this.sessions.revoke(sessionId, 'revoked by user', this.now());
  }

  async close(): Promise<void> {
    await this.sessions.close();
  }

  // --- Internals -----------------------------------------------------------------------

  private now(): Date {
    return new Date(this.clock());
  }

  private decoyHash(): Promise<string> {
    this.decoy ??= decoyHash(this.scryptParams);
    return this.decoy;
  }

  /** The tenant's id for a slug or id; undefined when there is none. */
  private async tenantId(ref: string): Promise<string | undefined> {
    const query = this.knex('tenants').where({ slug: ref });
    if (isUuid(ref)) void query.orWhere({ id: ref });
    const row = await query.first<{ id: string } | undefined>('id');
    return row?.id;
  }

  /** The name failures are counted under: tenant (id, or as typed when unknown) and e-mail. */
  private throttleSubject(tenant: string | null, email: string): string {
    return this.cipher.blindIndex(
      'login',
      `${tenant ?? '(platform)'}\u0000${normalizeEmail(email)}`,
    );
  }

  /** Reports an event about the account name `subject` (logged shortened, never the e-mail). */
  private securityEvent(
    type: SecurityEvent['type'],
    subject: string,
    event: Omit<SecurityEvent, 'type'>,
  ): void {
    this.events.record({
      ...event,
      type,
      details: { ...event.details, account: loggedAccountName(subject) },
    });
  }

  private checkPassword(field: string, password: string, user: UserRow): void {
    const problems = passwordProblems(password, {
      email: this.users.email(user),
      displayName: user.display_name,
    });
    if (problems.length > 0) throw weakPassword(field, problems);
  }

  private async signedInUser(principal: Principal): Promise<UserRow> {
    const user = principal.kind === 'user' ? await this.users.findById(principal.id) : undefined;
    if (user?.disabled_at !== null) {
      throw new VerdictError(
        'unauthorized',
        'This needs a signed-in user: log in with `verdict login`.',
      );
    }
    return user;
  }

  private async startSession(user: UserRow, mfa: boolean, client: ClientInfo): Promise<TokenPair> {
    const now = this.now();
    const session: Session = {
      id: randomUUID(),
      userId: user.id,
      tenantId: user.tenant_id,
      mfa,
      userAgent: client.userAgent?.slice(0, 300) ?? null,
      ip: client.ip ?? null,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: new Date(now.getTime() + this.settings.sessionTtlSeconds * 1000),
    };
    const refreshToken = newOpaqueToken('vrt');
    await this.sessions.create(session, tokenHash(refreshToken));
    await this.users.recordLogin(user.id);
    this.logger.info({ event: 'login', userId: user.id, sessionId: session.id, mfa }, 'logged in');
    return this.tokenPair(user, session, refreshToken);
  }

  private async tokenPair(
    user: UserRow,
    session: Session,
    refreshToken: string,
  ): Promise<TokenPair> {
    const access = await this.tokens.issue({
      userId: user.id,
      tenantId: user.tenant_id,
      roles: [user.role],
      sessionId: session.id,
      mfa: session.mfa,
    });
    return {
      access_token: access.token,
      token_type: 'Bearer',
      expires_in: access.expiresIn,
      refresh_token: refreshToken,
      refresh_expires_at: session.expiresAt,
      session_id: session.id,
    };
  }
}
