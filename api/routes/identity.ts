/**
 * The identity API: logging in (password, then a second factor), refreshing and ending
 * sessions, a user's own password, MFA and sessions, and the admin routes that create, list
 * and disable users. Handlers parse and validate, call the identity service, and format.
 *
 * User administration asks the platform policy (`users.*` in a tenant, `platform-users.*`
 * for platform admins); `/v1/users/me/...` and the session routes need the signed-in user's
 * own access token.
 */
import { Router, type Request, type RequestHandler, type Response } from 'express';
import QRCode from 'qrcode';
import type { Principal } from '../auth/principal';
import { VerdictError } from '../errors';
import type { PlatformAccess } from '../auth/access';
import { bearerToken, challengeIfUnauthorized } from '../middleware/api-key';
import {
  changePasswordSchema,
  createUserSchema,
  loginSchema,
  mfaConfirmSchema,
  mfaSchema,
  passwordConfirmSchema,
  passwordSetupSchema,
  refreshSchema,
} from '../schemas/identity';
import { bodyValidator, fieldProblem } from '../schemas/validate';
import type { ClientInfo, IdentityService } from '../services/identity/service';
import type { TenantService } from '../services/tenants';
import { requireJsonBody } from './admin';

export interface IdentityRouterOptions {
  readonly access: PlatformAccess;
  readonly identity: IdentityService;
  readonly tenants: TenantService;
}

const validateLogin = bodyValidator(loginSchema);
const validateMfa = bodyValidator(mfaSchema);
const validateRefresh = bodyValidator(refreshSchema);
const validatePasswordSetup = bodyValidator(passwordSetupSchema);
const validateChangePassword = bodyValidator(changePasswordSchema);
const validateCreateUser = bodyValidator(createUserSchema);
const validateMfaConfirm = bodyValidator(mfaConfirmSchema);
const validatePasswordConfirm = bodyValidator(passwordConfirmSchema);

/** The principals of requests that passed `requireSignedInUser`. */
const signedIn = new WeakMap<Request, Principal>();

/** The user `requireSignedInUser` let through. */
export function signedInPrincipal(req: Request): Principal {
  const principal = signedIn.get(req);
  if (principal === undefined) throw new Error('requireSignedInUser did not run for this route');
  return principal;
}

/** Needs a valid access token of a user (`Authorization: Bearer <JWT>`). */
export function requireSignedInUser(identity: IdentityService): RequestHandler {
  return async (req, res, next) => {
    try {
      const token = bearerToken(req);
      if (token === undefined || !identity.looksLikeAccessToken(token)) {
        throw new VerdictError(
          'unauthorized',
          'This endpoint needs a signed-in user: send `Authorization: Bearer <access token>` (get one with `verdict login`).',
        );
      }
      signedIn.set(req, await identity.verify(token));
      next();
    } catch (err) {
      challengeIfUnauthorized(res, err);
      next(err);
    }
  };
}

/** Answers carrying tokens or secrets must never be stored by a cache. */
function noStore(res: Response): Response {
  return res.setHeader('Cache-Control', 'no-store');
}

/** A lockout answer tells the client when to try again. */
function withRetryAfter(res: Response, err: unknown): never {
  if (err instanceof VerdictError && err.code === 'too_many_requests') {
    const seconds = err.extensions.retryAfterSeconds;
    if (typeof seconds === 'number') res.setHeader('Retry-After', String(seconds));
  }
  throw err;
}

function clientInfo(req: Request): ClientInfo {
  return { userAgent: req.get('user-agent'), ip: req.ip, requestId: req.id };
}

async function tenantIdOf(tenants: TenantService, ref: string): Promise<string> {
  const tenant = await tenants.find(ref);
  if (tenant === undefined) {
    throw new VerdictError(
      'not_found',
      `No tenant "${ref}": check the slug, or list tenants with \`verdict tenants list\`.`,
    );
  }
  return tenant.id;
}

async function qrSvg(uri: string): Promise<string> {
  return QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}

export function identityRouter(options: IdentityRouterOptions): Router {
  const router = Router();
  const { identity, tenants } = options;
  const { access } = options;
  const user = requireSignedInUser(identity);

  // --- Logging in and sessions ---------------------------------------------------------

  router.post('/v1/auth/login', requireJsonBody, async (req, res) => {
    const body = validateLogin(req.body);
    const result = await identity
      .login({ ...body, ...clientInfo(req) })
      .catch((err: unknown) => withRetryAfter(res, err));
    noStore(res).json(result);
  });

  router.post('/v1/auth/mfa', requireJsonBody, async (req, res) => {
    const body = validateMfa(req.body);
    if ((body.code === undefined) === (body.recovery_code === undefined)) {
      throw fieldProblem('/code', 'give exactly one of code and recovery_code');
    }
    const tokens = await identity
      .completeMfa({
        mfaToken: body.mfa_token,
        code: body.code,
        recoveryCode: body.recovery_code,
        ...clientInfo(req),
      })
      .catch((err: unknown) => withRetryAfter(res, err));
    noStore(res).json(tokens);
  });

  router.post('/v1/auth/refresh', requireJsonBody, async (req, res) => {
    const body = validateRefresh(req.body);
    noStore(res).json(await identity.refresh(body.refresh_token, clientInfo(req)));
  });

  router.post('/v1/auth/logout', user, async (req, res) => {
    await identity.logout(signedInPrincipal(req));
    res.status(204).end();
  });

  router.post('/v1/auth/password-setup', requireJsonBody, async (req, res) => {
    const body = validatePasswordSetup(req.body);
    res.json(await identity.setupPassword(body.token, body.password));
  });

  router.get('/v1/auth/sessions', user, async (req, res) => {
    res.json({ sessions: await identity.listSessions(signedInPrincipal(req)) });
  });

  router.delete('/v1/auth/sessions/:sessionId', user, async (req, res) => {
    await identity.revokeSession(signedInPrincipal(req), req.params.sessionId as string);
    res.status(204).end();
  });

  // Public keys of the access tokens, for services that verify them themselves.
  router.get('/.well-known/jwks.json', async (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=60');
    res.json(await identity.signingKeys.jwks());
  });

  // --- The signed-in user --------------------------------------------------------------

  router.get('/v1/users/me', user, async (req, res) => {
    res.json(await identity.me(signedInPrincipal(req)));
  });

  router.post('/v1/users/me/password', user, requireJsonBody, async (req, res) => {
    const body = validateChangePassword(req.body);
    await identity
      .changePassword(
        signedInPrincipal(req),
        body.current_password,
        body.new_password,
        clientInfo(req),
      )
      .catch((err: unknown) => withRetryAfter(res, err));
    res.status(204).end();
  });

  router.post('/v1/users/me/mfa', user, async (req, res) => {
    const enrolment = await identity.enrolMfa(signedInPrincipal(req));
    noStore(res)
      .status(201)
      .json({ ...enrolment, qr_svg: await qrSvg(enrolment.otpauth_uri) });
  });

  router.post('/v1/users/me/mfa/confirm', user, requireJsonBody, async (req, res) => {
    const body = validateMfaConfirm(req.body);
    const codes = await identity.confirmMfa(signedInPrincipal(req), body.code);
    noStore(res).json({ mfa_enabled: true, recovery_codes: codes });
  });

  router.post('/v1/users/me/mfa/recovery-codes', user, async (req, res) => {
    const codes = await identity.regenerateRecoveryCodes(signedInPrincipal(req));
    noStore(res).json({ recovery_codes: codes });
  });

  router.post('/v1/users/me/mfa/disable', user, requireJsonBody, async (req, res) => {
    const body = validatePasswordConfirm(req.body);
    await identity.disableMfa(signedInPrincipal(req), body.password);
    res.json({ mfa_enabled: false });
  });

  // --- User administration -------------------------------------------------------------

  const createUser = async (req: Request, res: Response, tenantId: string | null) => {
    const body = validateCreateUser(req.body);
    const created = await identity.createUser(tenantId, {
      email: body.email,
      role: body.role,
      displayName: body.display_name,
      password: body.password,
    });
    noStore(res).status(201).json(created);
  };

  router.post(
    '/v1/tenants/:tenant/users',
    access.require('users.create'),
    requireJsonBody,
    async (req, res) => {
      await createUser(req, res, await tenantIdOf(tenants, req.params.tenant as string));
    },
  );

  router.get('/v1/tenants/:tenant/users', access.require('users.list'), async (req, res) => {
    const tenantId = await tenantIdOf(tenants, req.params.tenant as string);
    res.json({ users: await identity.listUsers(tenantId) });
  });

  router.delete(
    '/v1/tenants/:tenant/users/:userId',
    access.require('users.update'),
    async (req, res) => {
      const tenantId = await tenantIdOf(tenants, req.params.tenant as string);
      res.json(await identity.disableUser(tenantId, req.params.userId as string));
    },
  );

  router.post(
    '/v1/platform/users',
    access.require('platform-users.create'),
    requireJsonBody,
    async (req, res) => {
      await createUser(req, res, null);
    },
  );

  router.get('/v1/platform/users', access.require('platform-users.list'), async (_req, res) => {
    res.json({ users: await identity.listUsers(null) });
  });

  router.delete(
    '/v1/platform/users/:userId',
    access.require('platform-users.update'),
    async (req, res) => {
      res.json(await identity.disableUser(null, req.params.userId as string));
    },
  );

  return router;
}
