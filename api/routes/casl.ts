/**
 * Per-user CASL rules for front ends (tenant API key, scope `decide`):
 *
 *   GET  /v1/casl/{bundle}/rules?user={"id":"u1","roles":["editor"]}   -> {"rules": [...], "bundle": {...}}
 *   POST /v1/casl/{bundle}/rules  {"user": {...}}                       -> the same
 *
 * Rules are packed (CASL's `packRules`; read them with `unpackRules`) unless `?packed=false`.
 */
import { Router, type Request, type Response } from 'express';
import { VerdictError } from '../errors';
import { requireApiKey } from '../middleware/api-key';
import type { ApiKeyService } from '../services/api-keys';
import type { CaslRulesService } from '../services/casl/user-rules';

export interface CaslRouterOptions {
  readonly apiKeys: ApiKeyService;
  readonly rules: CaslRulesService;
}

const USER_EXAMPLE = '{"id": "u1", "roles": ["editor"]}';

function userOf(req: Request): unknown {
  let user: unknown;
  if (req.method === 'GET') {
    const raw = req.query.user;
    if (typeof raw !== 'string')
      throw new VerdictError(
        'bad_request',
        `Give the principal as ?user=${USER_EXAMPLE} (URL-encoded JSON).`,
      );
    try {
      user = JSON.parse(raw);
    } catch {
      throw new VerdictError(
        'bad_request',
        `?user is not JSON: give it like ?user=${USER_EXAMPLE} (URL-encoded).`,
      );
    }
  } else {
    if (req.is('application/json') === false)
      throw new VerdictError(
        'unsupported_media_type',
        'Send the body as JSON with `Content-Type: application/json`.',
      );
    user = (req.body as { user?: unknown } | undefined)?.user;
  }
  if (typeof user !== 'object' || user === null || Array.isArray(user))
    throw new VerdictError(
      'bad_request',
      `The principal must be a JSON object like ${USER_EXAMPLE}.`,
    );
  return user;
}

export function caslRouter(options: CaslRouterOptions): Router {
  const router = Router();
  // Express 5 passes a rejected promise to the error handler (problem+json).
  const handle = async (req: Request, res: Response): Promise<void> => {
    // requireApiKey ran first, so the key is there.
    const key = req.apiKey as NonNullable<Request['apiKey']>;
    const { bundle } = req.params as { bundle: string };
    const packed = req.query.packed !== 'false';
    res.json(await options.rules.rulesFor(key.tenantId, bundle, userOf(req), packed));
  };
  const auth = requireApiKey(options.apiKeys, 'decide');
  router.get('/v1/casl/:bundle/rules', auth, handle);
  router.post('/v1/casl/:bundle/rules', auth, handle);
  return router;
}
