/**
 * Replay over HTTP: `POST /v1/tenants/{tenant}/replay` with a candidate bundle (.tar.gz) as
 * the body asks the tenant's recorded decisions of a time window again of the candidate and
 * answers the report (see api/services/replay). Same access, content types and size limit as
 * a bundle push; the candidate is checked like an upload (422 with positions when it is
 * refused) but never stored.
 *
 * Query: `since` (a duration back from now: 90m, 24h, 7d) or `from`/`to` (ISO 8601 times;
 * `to` defaults to now); 24h when neither is given. `limit` (decisions replayed), `path`
 * (only decisions at this path or below it), `samples` (changed decisions returned in full),
 * `name`/`version` (for a manifest without them, as on upload).
 */
import { Router, type Request, type RequestHandler } from 'express';
import { VerdictError } from '../errors';
import type { PlatformAccess } from '../auth/access';
import { parseDuration } from '../schemas/duration';
import {
  ReplayService,
  defaultSampleCount,
  maxReplayLimit,
  maxSampleCount,
} from '../services/replay';
import type { TenantService } from '../services/tenants';
import {
  bundleBodyReader,
  defaultMaxBundleBytes,
  findTenant,
  queryText,
  requireBundleBody,
} from './bundles';

export interface ReplayRouterOptions {
  readonly access: PlatformAccess;
  readonly tenants: TenantService;
  readonly replay: ReplayService;
  /** Largest candidate accepted, in bytes (default: the bundle push limit). */
  readonly maxBundleBytes?: number;
  /** The clock `since` counts back from. */
  readonly now?: () => Date;
}

const defaultWindowSeconds = 24 * 3600;

function badParam(name: string, message: string): VerdictError {
  return new VerdictError('bad_request', message, { extensions: { field: `?${name}` } });
}

function timeParam(req: Request, name: string): Date | undefined {
  const text = queryText(req, name);
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/u.test(text) || Number.isNaN(ms)) {
    throw badParam(
      name,
      `?${name}= must be an ISO 8601 time like 2026-11-27T10:00:00Z (got ${JSON.stringify(text)}).`,
    );
  }
  return new Date(ms);
}

function countParam(req: Request, name: string, min: number, max: number): number | undefined {
  const text = queryText(req, name);
  if (text === undefined) return undefined;
  const n = /^[0-9]{1,9}$/u.test(text) ? Number(text) : Number.NaN;
  if (!(n >= min && n <= max)) {
    throw badParam(
      name,
      `?${name}= must be a whole number from ${String(min)} to ${String(max)} (got ${JSON.stringify(text)}).`,
    );
  }
  return n;
}

/** The window `[from, to)` the query asks for. */
function windowOf(req: Request, now: Date): { from: Date; to: Date } {
  const since = queryText(req, 'since');
  const from = timeParam(req, 'from');
  const to = timeParam(req, 'to');
  if (since !== undefined && (from !== undefined || to !== undefined)) {
    throw badParam('since', 'Give either ?since= or ?from=/?to=, not both.');
  }
  if (from !== undefined || to !== undefined) {
    if (from === undefined) throw badParam('from', '?to= needs a ?from= as well.');
    const end = to ?? now;
    if (!(from < end)) throw badParam('from', '?from= must be before ?to= (or before now).');
    return { from, to: end };
  }
  let seconds = defaultWindowSeconds;
  if (since !== undefined) {
    const parsed = parseDuration(since);
    if (parsed === undefined) {
      throw badParam(
        'since',
        `?since= must be a duration like 90m, 24h or 7d (got ${JSON.stringify(since)}).`,
      );
    }
    seconds = parsed;
  }
  return { from: new Date(now.getTime() - seconds * 1000), to: now };
}

function pathParam(req: Request): string | undefined {
  const text = queryText(req, 'path');
  if (text === undefined) return undefined;
  const path = text.replace(/^\/+|\/+$/gu, '');
  if (path === '' || path.includes('//')) {
    throw badParam(
      'path',
      `?path= must be a data path like rbac/allow (got ${JSON.stringify(text)}).`,
    );
  }
  return path;
}

export function replayRouter(options: ReplayRouterOptions): Router {
  const router = Router();
  const access = options.access.require('replay.run');
  const [readBundle, explainTooLarge] = bundleBodyReader(
    options.maxBundleBytes ?? defaultMaxBundleBytes,
  );
  const now = options.now ?? (() => new Date());

  const replay: RequestHandler = async (req, res) => {
    const tenant = await findTenant(options.tenants, req.params.tenant as string);
    const { from, to } = windowOf(req, now());
    const limit = countParam(req, 'limit', 1, maxReplayLimit);
    const samples = countParam(req, 'samples', 0, maxSampleCount) ?? defaultSampleCount;
    const path = pathParam(req);
    const name = queryText(req, 'name');
    const version = queryText(req, 'version');
    const body: unknown = req.body;
    if (!Buffer.isBuffer(body) || body.length === 0) {
      throw new VerdictError(
        'bad_request',
        'The request body is empty: send the candidate bundle .tar.gz.',
      );
    }
    const report = await options.replay.replay({
      tenantId: tenant.id,
      candidate: body,
      overrides: { name, version },
      from,
      to,
      samples,
      ...(limit === undefined ? {} : { limit }),
      ...(path === undefined ? {} : { path }),
    });
    res.json({ tenant: tenant.slug, ...report });
  };

  router.post(
    '/v1/tenants/:tenant/replay',
    access,
    requireBundleBody,
    readBundle,
    explainTooLarge,
    replay,
  );
  return router;
}
