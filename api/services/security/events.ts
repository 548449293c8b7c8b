/**
 * Security events: failed and refused logins, lockouts, refused second factors, refresh-token
 * reuse, revoked API keys, rotated keys and requests the platform policy denied. Each is one
 * log line of a stable shape (`event: "security"`, `type`, `actor`, `tenant`, `ip`,
 * `requestId`, then the type's own fields) and one count in `verdict_security_events_total`,
 * so a SIEM can read the lines and Prometheus can alert on the counts.
 *
 * Nothing secret goes in: no password, code or token; a login name appears only as the
 * lockout's account name (an HMAC of tenant and e-mail under the blind-index key), shortened.
 */
import type { Logger } from '../../logger';

export const securityEventTypes = [
  /** Wrong password, unknown account, disabled or not yet activated account. */
  'login_failed',
  /** A failure that locked the account name (the lock's length in `lockedMs`). */
  'account_locked',
  /** A login, second factor or password change refused because the name is locked. */
  'login_locked',
  /** A wrong TOTP code or recovery code. */
  'mfa_failed',
  /** A refresh token presented again after it was traded in: its session is revoked. */
  'refresh_token_reused',
  /** A tenant API key revoked through the admin API. */
  'api_key_revoked',
  /** A new token signing key (automatic or `verdict keys rotate-signing-key`). */
  'signing_key_rotated',
  /** Encrypted fields re-encrypted under a new data key (`verdict keys rotate-data-key`). */
  'data_key_rotated',
  /** An admin request the platform policy denied, within the caller's own tenant. */
  'access_denied',
  /** An admin request for a tenant other than the caller's own (or for the platform's). */
  'cross_tenant_denied',
] as const;
export type SecurityEventType = (typeof securityEventTypes)[number];

/** Values a security event's own fields may take (never objects: the shape stays flat). */
export type SecurityDetail = string | number | boolean | null;

export interface SecurityEvent {
  readonly type: SecurityEventType;
  /** Who: `user:<id>`, `api-key:<id>`, `bootstrap:admin-token`; null when nobody is known. */
  readonly actor?: string | null | undefined;
  /** The actor's tenant id (the one the login named); null for none or an unknown one. */
  readonly tenant?: string | null | undefined;
  readonly ip?: string | null | undefined;
  readonly requestId?: string | null | undefined;
  /** Fields of this type (`action`, `keyId`, `sessionId`, `account` ...). */
  readonly details?: Readonly<Record<string, SecurityDetail>>;
}

/** Where security events go; the identity service, the admin access check and routes use it. */
export interface SecurityEventSink {
  record(event: SecurityEvent): void;
}

/** What counts the events (api/services/metrics/security.ts). */
export interface SecurityEventCounter {
  count(type: SecurityEventType): void;
}

const messages: Readonly<Record<SecurityEventType, string>> = {
  login_failed: 'security: login failed',
  account_locked: 'security: account name locked after failed logins',
  login_locked: 'security: refused while the account name is locked',
  mfa_failed: 'security: second factor refused',
  refresh_token_reused: 'security: refresh token reused, session revoked',
  api_key_revoked: 'security: API key revoked',
  signing_key_rotated: 'security: token signing key rotated',
  data_key_rotated: 'security: data re-encrypted under a new data key',
  access_denied: 'security: admin request denied',
  cross_tenant_denied: "security: request for another tenant's resources denied",
};

/** Changes made on purpose by an operator are `info`; failures and refusals are `warn`. */
const infoTypes: ReadonlySet<SecurityEventType> = new Set([
  'api_key_revoked',
  'signing_key_rotated',
  'data_key_rotated',
]);

/** Characters of the account-name HMAC kept in the log: enough to match lines up. */
export const accountNameLength = 16;

/** The account name as logged: the start of the lockout HMAC (never the e-mail). */
export function loggedAccountName(throttleSubject: string): string {
  return throttleSubject.slice(0, accountNameLength);
}

export interface SecurityEventsOptions {
  readonly logger: Logger;
  /** Counts each event; without it, events are only logged (the CLI, tests of one router). */
  readonly counter?: SecurityEventCounter | undefined;
}

export class SecurityEvents implements SecurityEventSink {
  private readonly logger: Logger;
  private readonly counter: SecurityEventCounter | undefined;

  constructor(options: SecurityEventsOptions) {
    this.logger = options.logger;
    this.counter = options.counter;
  }

  record(event: SecurityEvent): void {
    this.counter?.count(event.type);
    const line = {
      ...event.details,
      event: 'security',
      type: event.type,
      actor: event.actor ?? null,
      tenant: event.tenant ?? null,
      ip: event.ip ?? null,
      requestId: event.requestId ?? null,
    };
    const message = messages[event.type];
    if (infoTypes.has(event.type)) this.logger.info(line, message);
    else this.logger.warn(line, message);
  }
}
