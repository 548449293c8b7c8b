/**
 * Rollouts over HTTP: start a canary or shadow of a bundle version, read how the tenant's
 * rollouts are doing, and promote, roll back or abort one. Actions `rollouts.read` and
 * `rollouts.write` of the platform policy.
 */
import { Router, type Request } from 'express';
import type { PlatformAccess } from '../auth/access';
import { startRolloutSchema } from '../schemas/rollouts';
import { bodyValidator } from '../schemas/validate';
import type { RolloutService } from '../services/rollouts/service';
import type { TenantService } from '../services/tenants';
import { requireJsonBody } from './admin';
import { actorOf, findTenant } from './bundles';

export interface RolloutsRouterOptions {
  readonly access: PlatformAccess;
  readonly tenants: TenantService;
  readonly rollouts: RolloutService;
}

const validateStart = bodyValidator(startRolloutSchema);

function param(req: Request, name: string): string {
  return req.params[name] as string;
}

export function rolloutsRouter(options: RolloutsRouterOptions): Router {
  const router = Router();
  const { tenants, rollouts } = options;
  const read = options.access.require('rollouts.read');
  const write = options.access.require('rollouts.write');
  const bundleBase = '/v1/tenants/:tenant/bundles/:name/rollouts';

  router.get('/v1/tenants/:tenant/rollouts', read, async (req, res) => {
    const tenant = await findTenant(tenants, param(req, 'tenant'));
    res.json({ rollouts: await rollouts.status(tenant.id) });
  });

  router.get(bundleBase, read, async (req, res) => {
    const tenant = await findTenant(tenants, param(req, 'tenant'));
    const name = param(req, 'name');
    const [latest] = await rollouts.status(tenant.id, name);
    res.json({ latest: latest ?? null, history: await rollouts.history(tenant.id, name) });
  });

  router.post(bundleBase, write, requireJsonBody, async (req, res) => {
    const tenant = await findTenant(tenants, param(req, 'tenant'));
    const body = validateStart(req.body);
    const name = param(req, 'name');
    const started = await rollouts.start(tenant.id, name, body, actorOf(req));
    res.status(201).location(`/v1/tenants/${tenant.slug}/bundles/${name}/rollouts`).json(started);
  });

  const endings = {
    promote: (tenantId: string, name: string, by: string) => rollouts.promote(tenantId, name, by),
    rollback: (tenantId: string, name: string, by: string) => rollouts.rollback(tenantId, name, by),
    abort: (tenantId: string, name: string, by: string) => rollouts.abort(tenantId, name, by),
  };
  for (const [action, run] of Object.entries(endings)) {
    router.post(`${bundleBase}/${action}`, write, async (req, res) => {
      const tenant = await findTenant(tenants, param(req, 'tenant'));
      res.json(await run(tenant.id, param(req, 'name'), actorOf(req)));
    });
  }

  return router;
}
