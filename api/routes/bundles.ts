/**
 * The bundle registry over HTTP: push a bundle (.tar.gz body), list bundles and versions,
 * read and download a version, activate one, and set a tenant's signing key. The admin token
 * reaches every tenant; a tenant API key with the `bundles:write` scope reaches its own
 * tenant's bundles. The signing key is the admin token's alone: a key that pushes bundles must
 * not be able to switch off the signature check on them.
 */
import { createPublicKey } from 'node:crypto';
import express, {
  Router,
  type ErrorRequestHandler,
  type Request,
  type RequestHandler,
} from 'express';
import { VerdictError } from '../errors';
import type { PlatformAccess } from '../auth/access';
import { activateBundleSchema, signingKeySchema } from '../schemas/bundles';
import { bodyValidator, fieldProblem } from '../schemas/validate';
import type { BundleRegistry } from '../services/bundles/registry';
import type { TenantService, TenantSummary } from '../services/tenants';
import { requireJsonBody } from './admin';

export interface BundlesRouterOptions {
  readonly access: PlatformAccess;
  readonly tenants: TenantService;
  readonly registry: BundleRegistry;
  /** Largest bundle accepted, in bytes (default 20 MiB). */
  readonly maxBundleBytes?: number;
}

export const defaultMaxBundleBytes = 20 * 1024 * 1024;

/** Content types a bundle may be sent with (a plain tar is read too). */
export const bundleContentTypes = [
  'application/gzip',
  'application/x-gzip',
  'application/octet-stream',
  'application/x-tar',
];

const validateActivate = bodyValidator(activateBundleSchema);
const validateSigningKey = bodyValidator(signingKeySchema);

function param(req: Request, name: string): string {
  return req.params[name] as string;
}

export async function findTenant(tenants: TenantService, ref: string): Promise<TenantSummary> {
  const tenant = await tenants.find(ref);
  if (tenant === undefined) {
    throw new VerdictError(
      'not_found',
      `No tenant "${ref}": check the slug, or list tenants with \`verdict tenants list\`.`,
    );
  }
  return tenant;
}

/** A bundle body must be declared as one, and not be empty. Runs after authentication. */
export const requireBundleBody: RequestHandler = (req, _res, next) => {
  const contentType = req.headers['content-type'];
  if (contentType === undefined || req.is(bundleContentTypes) === false) {
    const given = contentType === undefined ? 'no Content-Type' : `Content-Type ${contentType}`;
    next(
      new VerdictError(
        'unsupported_media_type',
        `Send the bundle as a .tar.gz body with \`Content-Type: application/gzip\` (got ${given}).`,
      ),
    );
    return;
  }
  next();
};

/** A query parameter given at most once, as text; undefined when absent. */
export function queryText(req: Request, name: string): string | undefined {
  const value = req.query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') {
    throw new VerdictError('bad_request', `?${name}= must be given once, as a non-empty value.`, {
      extensions: { field: `?${name}` },
    });
  }
  return value;
}

/** Who acted (pushed, activated, started a rollout): `admin-token`, `api-key:<id>`, `user:<id>`. */
export function actorOf(req: Request): string {
  const principal = req.principal;
  if (principal === undefined || principal.kind === 'bootstrap') return 'admin-token';
  return `${principal.kind}:${principal.id}`;
}

/** Checks that `pem` is an Ed25519 public key; returns it trimmed to its PEM block. */
function checkPublicKey(pem: string): string {
  let type: string | undefined;
  try {
    type = createPublicKey(pem).asymmetricKeyType;
  } catch {
    throw fieldProblem('/public_key', 'must be a PEM public key (verdict keys gen writes one)');
  }
  if (type !== 'ed25519') {
    throw fieldProblem('/public_key', `must be an Ed25519 key, not ${type ?? 'unknown'}`);
  }
  return pem.trim() + '\n';
}

/**
 * Reads a bundle body of at most `limit` bytes into `req.body` (a Buffer), and says what the
 * limit is when the body is over it.
 */
export function bundleBodyReader(limit: number): [RequestHandler, ErrorRequestHandler] {
  const readBundle = express.raw({ type: bundleContentTypes, limit });
  const explainTooLarge: ErrorRequestHandler = (err: unknown, _req, _res, next) => {
    if ((err as { type?: unknown } | null)?.type !== 'entity.too.large') {
      next(err);
      return;
    }
    next(
      new VerdictError(
        'payload_too_large',
        `The bundle is larger than the ${(limit / 1024 / 1024).toFixed(0)} MiB this server accepts: keep large data out of bundles.`,
        { extensions: { limit_bytes: limit } },
      ),
    );
  };
  return [readBundle, explainTooLarge];
}

export function bundlesRouter(options: BundlesRouterOptions): Router {
  const router = Router();
  const { tenants, registry } = options;
  const { access } = options;
  const [readBundle, explainTooLarge] = bundleBodyReader(
    options.maxBundleBytes ?? defaultMaxBundleBytes,
  );
  const base = '/v1/tenants/:tenant';

  const pushBundle: RequestHandler = async (req, res) => {
    const tenant = await findTenant(tenants, param(req, 'tenant'));
    const body: unknown = req.body;
    if (!Buffer.isBuffer(body) || body.length === 0) {
      throw new VerdictError('bad_request', 'The request body is empty: send the bundle .tar.gz.');
    }
    const name = queryText(req, 'name');
    const version = queryText(req, 'version');
    const result = await registry.upload(tenant.id, body, actorOf(req), { name, version });
    const { bundle, version: v } = result.version;
    res
      .status(result.created ? 201 : 200)
      .location(`/v1/tenants/${tenant.slug}/bundles/${bundle}/versions/${v}`)
      .json(result.version);
  };
  router.post(
    `${base}/bundles`,
    access.require('bundles.push'),
    requireBundleBody,
    readBundle,
    explainTooLarge,
    pushBundle,
  );

  router.get(`${base}/bundles`, access.require('bundles.read'), async (req, res) => {
    const tenant = await findTenant(tenants, param(req, 'tenant'));
    res.json({ bundles: await registry.listBundles(tenant.id) });
  });

  router.get(`${base}/bundles/:name/versions`, access.require('bundles.read'), async (req, res) => {
    const tenant = await findTenant(tenants, param(req, 'tenant'));
    res.json({ versions: await registry.listVersions(tenant.id, param(req, 'name')) });
  });

  router.get(
    `${base}/bundles/:name/versions/:version`,
    access.require('bundles.read'),
    async (req, res) => {
      const tenant = await findTenant(tenants, param(req, 'tenant'));
      res.json(await registry.getVersion(tenant.id, param(req, 'name'), param(req, 'version')));
    },
  );

  router.get(
    `${base}/bundles/:name/versions/:version/download`,
    access.require('bundles.read'),
    async (req, res) => {
      const tenant = await findTenant(tenants, param(req, 'tenant'));
      const name = param(req, 'name');
      const version = param(req, 'version');
      const tar = await registry.download(tenant.id, name, version);
      res.status(200).type('application/gzip').attachment(`${name}-${version}.tar.gz`).send(tar);
    },
  );

  router.post(
    `${base}/bundles/:name/activate`,
    access.require('bundles.activate'),
    requireJsonBody,
    async (req, res) => {
      const tenant = await findTenant(tenants, param(req, 'tenant'));
      const body = validateActivate(req.body);
      res.json(await registry.activate(tenant.id, param(req, 'name'), body.version));
    },
  );

  router.put(
    `${base}/signing-key`,
    access.require('tenants.signing-key'),
    requireJsonBody,
    async (req, res) => {
      const tenant = await findTenant(tenants, param(req, 'tenant'));
      const body = validateSigningKey(req.body);
      const publicKey =
        body.public_key === null || body.public_key === undefined
          ? null
          : checkPublicKey(body.public_key);
      if (publicKey === null && body.require_signed) {
        throw fieldProblem('/require_signed', 'needs a public_key to verify signatures with');
      }
      res.json(await registry.setSigning(tenant.id, publicKey, body.require_signed));
    },
  );

  return router;
}
