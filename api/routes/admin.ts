/**
 * The admin API: tenants and their API keys. Each handler parses and validates, calls a
 * service, and formats; who may call it is the platform policy's answer (api/auth/access.ts).
 */
import { Router, type Request, type RequestHandler } from 'express';
import { VerdictError } from '../errors';
import { actorOf, platformTenantRef, type PlatformAccess } from '../auth/access';
import { createApiKeySchema, createTenantSchema, updateTenantSchema } from '../schemas/admin';
import { maxDurationSeconds, parseDuration } from '../schemas/duration';
import { bodyValidator, fieldProblem } from '../schemas/validate';
import type { ApiKeyService } from '../services/api-keys';
import { defaultDecisionPath, type TenantService, type TenantSummary } from '../services/tenants';

export interface AdminRouterOptions {
  readonly access: PlatformAccess;
  readonly tenants: TenantService;
  readonly apiKeys: ApiKeyService;
}

const validateCreateTenant = bodyValidator(createTenantSchema);
const validateUpdateTenant = bodyValidator(updateTenantSchema);
const validateCreateApiKey = bodyValidator(createApiKeySchema);

/**
 * Bodies must be declared JSON: anything else would reach the handler unparsed. Runs after
 * authentication, so an unauthenticated caller learns nothing from it.
 */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  const contentType = req.headers['content-type'];
  const matched = req.is('application/json');
  if (matched === null || (contentType === undefined && req.headers['content-length'] === '0')) {
    next(new VerdictError('bad_request', 'This endpoint needs a JSON request body.'));
  } else if (matched === false) {
    const given = contentType === undefined ? 'no Content-Type' : `Content-Type ${contentType}`;
    next(
      new VerdictError(
        'unsupported_media_type',
        `The request body must be JSON: send it with \`Content-Type: application/json\` (got ${given}).`,
      ),
    );
  } else {
    next();
  }
};

function tenantParam(req: Request): string {
  return req.params.tenant as string;
}

async function findTenant(tenants: TenantService, ref: string): Promise<TenantSummary> {
  const tenant = await tenants.find(ref);
  if (tenant === undefined) {
    throw new VerdictError(
      'not_found',
      `No tenant "${ref}": check the slug, or list tenants with \`verdict tenants list\`.`,
    );
  }
  return tenant;
}

/** Seconds of `expires_in`; the schema has checked its form, this checks its size. */
function expirySeconds(expiresIn: string | undefined): number | undefined {
  if (expiresIn === undefined) return undefined;
  const seconds = parseDuration(expiresIn) as number;
  if (seconds > maxDurationSeconds) {
    throw fieldProblem('/expires_in', 'must be at most 3650d (ten years)');
  }
  return seconds;
}

export function adminRouter(options: AdminRouterOptions): Router {
  const router = Router();
  const { tenants, apiKeys, access } = options;

  router.post(
    '/v1/tenants',
    access.require('tenants.create'),
    requireJsonBody,
    async (req, res) => {
      const { default_decision, ...body } = validateCreateTenant(req.body);
      if (body.slug === platformTenantRef) {
        throw fieldProblem('/slug', "is reserved: it names the platform's own decision log");
      }
      const tenant = await tenants.create({
        ...body,
        ...(default_decision == null ? {} : { default_decision }),
      });
      res.status(201).location(`/v1/tenants/${tenant.slug}`).json(tenant);
    },
  );

  router.get('/v1/tenants', access.require('tenants.list'), async (_req, res) => {
    res.json({ tenants: await tenants.list() });
  });

  router.get('/v1/tenants/:tenant', access.require('tenants.read'), async (req, res) => {
    res.json(await findTenant(tenants, tenantParam(req)));
  });

  router.patch(
    '/v1/tenants/:tenant',
    access.require('tenants.update'),
    requireJsonBody,
    async (req, res) => {
      const { name, audit_retention_days, default_decision } = validateUpdateTenant(req.body);
      // The schema lets an optional member be null; the name may not be.
      if (name === null) throw fieldProblem('/name', 'must be a string');
      const tenant = await findTenant(tenants, tenantParam(req));
      res.json(
        await tenants.update(tenant.id, {
          ...(name === undefined ? {} : { name }),
          ...(audit_retention_days === undefined ? {} : { audit_retention_days }),
          ...(default_decision === undefined
            ? {}
            : { default_decision: default_decision ?? defaultDecisionPath }),
        }),
      );
    },
  );

  router.post(
    '/v1/tenants/:tenant/keys',
    access.require('keys.create'),
    requireJsonBody,
    async (req, res) => {
      const tenant = await findTenant(tenants, tenantParam(req));
      const body = validateCreateApiKey(req.body);
      const expiresInSeconds = expirySeconds(body.expires_in);
      const { key, plainKey } = await apiKeys.create(tenant.id, {
        name: body.name,
        scopes: body.scopes,
        ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }),
      });
      res.setHeader('Cache-Control', 'no-store');
      res
        .status(201)
        .location(`/v1/tenants/${tenant.slug}/keys/${key.id}`)
        .json({ ...key, key: plainKey });
    },
  );

  router.get('/v1/tenants/:tenant/keys', access.require('keys.list'), async (req, res) => {
    const tenant = await findTenant(tenants, tenantParam(req));
    res.json({ keys: await apiKeys.list(tenant.id) });
  });

  router.delete(
    '/v1/tenants/:tenant/keys/:keyId',
    access.require('keys.revoke'),
    async (req, res) => {
      const tenant = await findTenant(tenants, tenantParam(req));
      const keyId = req.params.keyId as string;
      const revoked = await apiKeys.revoke(tenant.id, keyId);
      if (revoked === undefined) {
        throw new VerdictError(
          'not_found',
          `Tenant "${tenant.slug}" has no API key ${keyId}: list its keys with \`verdict keys list --tenant ${tenant.slug}\`.`,
        );
      }
      access.securityEvents.record({
        type: 'api_key_revoked',
        actor: req.principal === undefined ? null : actorOf(req.principal),
        tenant: tenant.id,
        ip: req.ip,
        requestId: req.id,
        details: { keyId: revoked.id, keyPrefix: revoked.prefix },
      });
      res.json(revoked);
    },
  );

  return router;
}
