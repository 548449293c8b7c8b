/**
 * Access tokens: short-lived JWTs (RFC 9068 profile, `typ: at+jwt`) signed with EdDSA
 * (Ed25519) by the current signing key, named in the `kid` header. Claims: iss, aud
 * (`verdict`), sub (user id), tid (tenant id; absent for platform admins), roles, sid
 * (session id), mfa, iat, exp, jti.
 *
 * Verification accepts only EdDSA with a known, unexpired key, the right issuer, audience and
 * type, and a session that is still active, so logout and revocation end a token at once
 * rather than when it expires.
 */
import { randomUUID } from 'node:crypto';
import {
  userRoles,
  type AccessTokenVerifier,
  type Principal,
  type UserRole,
} from '../../auth/principal';
import { VerdictError } from '../../errors';
import { loadJose, type Jose, type JWTPayload } from './jose';
import { signingAlgorithm, type SigningKeys } from './signing-keys';

export const tokenIssuer = 'verdict';
export const tokenAudience = 'verdict';
const tokenType = 'at+jwt';
/** Leeway for clocks of instances that differ a little. */
const clockToleranceSeconds = 5;
const compactJws = /^[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}$/;

export interface AccessTokenClaims {
  readonly userId: string;
  readonly tenantId: string | null;
  readonly roles: readonly UserRole[];
  readonly sessionId: string;
  readonly mfa: boolean;
}

export interface IssuedToken {
  readonly token: string;
  /** Seconds until it expires. */
  readonly expiresIn: number;
}

/** Whether a session is still active; the identity service answers from its session store. */
export type SessionCheck = (sessionId: string) => Promise<boolean>;

export interface AccessTokensOptions {
  readonly keys: SigningKeys;
  readonly ttlSeconds: number;
  readonly isSessionActive: SessionCheck;
  readonly clock?: () => number;
}

interface VerdictClaims extends JWTPayload {
  tid?: unknown;
  roles?: unknown;
  sid?: unknown;
  mfa?: unknown;
}

function refused(detail: string, cause?: unknown): VerdictError {
  return new VerdictError('unauthorized', detail, cause === undefined ? {} : { cause });
}

const logInAgain = 'log in again with `verdict login`';

function describeJoseFailure(joseErrors: (typeof Jose)['errors'], err: unknown): string {
  if (err instanceof joseErrors.JWTExpired)
    return `The access token has expired: refresh it or ${logInAgain}.`;
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    return `The access token is not for this service (claim "${err.claim}" ${err.reason}).`;
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
    return 'The access token signature does not verify: it was altered or not issued by this service.';
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) {
    return 'The access token uses an algorithm this service does not accept (only EdDSA).';
  }
  return `The access token is malformed or not issued by this service; ${logInAgain}.`;
}

function isUserRole(value: unknown): value is UserRole {
  return typeof value === 'string' && (userRoles as readonly string[]).includes(value);
}

export class AccessTokens implements AccessTokenVerifier {
  private readonly keys: SigningKeys;
  private readonly ttlSeconds: number;
  private readonly isSessionActive: SessionCheck;
  private readonly clock: () => number;

  constructor(options: AccessTokensOptions) {
    this.keys = options.keys;
    this.ttlSeconds = options.ttlSeconds;
    this.isSessionActive = options.isSessionActive;
    this.clock = options.clock ?? Date.now;
  }

  async issue(claims: AccessTokenClaims): Promise<IssuedToken> {
    const { kid, privateKey } = await this.keys.signingKey();
    const { SignJWT } = await loadJose();
    const now = Math.floor(this.clock() / 1000);
    const token = await new SignJWT({
      ...(claims.tenantId === null ? {} : { tid: claims.tenantId }),
      roles: [...claims.roles],
      sid: claims.sessionId,
      mfa: claims.mfa,
    })
      .setProtectedHeader({ alg: signingAlgorithm, kid, typ: tokenType })
      .setIssuer(tokenIssuer)
      .setAudience(tokenAudience)
      .setSubject(claims.userId)
      .setIssuedAt(now)
      .setExpirationTime(now + this.ttlSeconds)
      .setJti(randomUUID())
      .sign(privateKey);
    return { token, expiresIn: this.ttlSeconds };
  }

  looksLikeAccessToken(token: string): boolean {
    return compactJws.test(token);
  }

  async verify(token: string): Promise<Principal> {
    if (!this.looksLikeAccessToken(token)) {
      throw refused(`The bearer credential is not an access token; ${logInAgain}.`);
    }
    const { jwtVerify, errors: joseErrors } = await loadJose();
    let payload: VerdictClaims;
    try {
      ({ payload } = await jwtVerify<VerdictClaims>(
        token,
        async (header) => {
          const key =
            header.kid === undefined ? undefined : await this.keys.verificationKey(header.kid);
          if (key === undefined) throw new joseErrors.JWKSNoMatchingKey();
          return key;
        },
        {
          algorithms: [signingAlgorithm],
          issuer: tokenIssuer,
          audience: tokenAudience,
          typ: tokenType,
          requiredClaims: ['sub', 'iat', 'exp', 'sid'],
          clockTolerance: clockToleranceSeconds,
          currentDate: new Date(this.clock()),
          maxTokenAge: this.ttlSeconds + clockToleranceSeconds,
        },
      ));
    } catch (err) {
      throw refused(describeJoseFailure(joseErrors, err), err);
    }
    const principal = this.principalOf(payload);
    if (!(await this.isSessionActive(principal.sessionId as string))) {
      throw refused(
        `The session of this access token was ended (logout or revocation); ${logInAgain}.`,
      );
    }
    return principal;
  }

  private principalOf(payload: VerdictClaims): Principal {
    const { sub, tid, roles, sid, mfa } = payload;
    const rolesOk = Array.isArray(roles) && roles.length > 0 && roles.every(isUserRole);
    if (
      typeof sub !== 'string' ||
      typeof sid !== 'string' ||
      !rolesOk ||
      (tid !== undefined && typeof tid !== 'string') ||
      typeof mfa !== 'boolean'
    ) {
      throw refused(`The access token's claims are incomplete; ${logInAgain}.`);
    }
    return {
      kind: 'user',
      id: sub,
      tenantId: typeof tid === 'string' ? tid : null,
      roles,
      scopes: [],
      sessionId: sid,
      mfa,
    };
  }
}
