/**
 * The decision log for auditors: search with filters and keyset pages, one decision's full
 * record, a streamed export (NDJSON or CSV), and verification of the hash chain. The admin
 * token reaches every tenant; a tenant API key with the `audit:read` scope reaches its own
 * tenant's log only (another tenant's key is refused before anything is looked up).
 */
import type { Knex } from 'knex';
import { Router, type Request, type Response } from 'express';
import { VerdictError } from '../errors';
import type { Logger } from '../logger';
import { platformTenantId, platformTenantRef, type PlatformAccess } from '../auth/access';
import {
  decisionExportSchema,
  decisionSearchSchema,
  decisionVerifySchema,
  parameterProblem,
  queryValidator,
  type DecisionFilterQuery,
} from '../schemas/decisions';
import { verifyChain } from '../services/audit';
import { parseInputFilter } from '../services/audit/input-filter';
import {
  decodeCursor,
  encodeCursor,
  findDecision,
  scanDecisions,
  searchDecisions,
  type DecisionFilters,
} from '../services/audit/search';
import { csvHeader, csvLine, decisionView, ndjsonLine } from '../services/audit/views';
import type { TenantService } from '../services/tenants';

export interface DecisionsRouterOptions {
  readonly access: PlatformAccess;
  readonly tenants: TenantService;
  readonly knex: Knex;
  readonly logger: Logger;
  /** Rows read per query while exporting (default 1000). */
  readonly exportBatchSize?: number;
}

export const defaultSearchLimit = 100;
export const maxSearchLimit = 1000;

const validateSearch = queryValidator(decisionSearchSchema);
const validateExport = queryValidator(decisionExportSchema);
const validateVerify = queryValidator(decisionVerifySchema);

/**
 * The id of the chain the route's `:tenant` names: a tenant's, or the platform's own
 * (`platform`, where the platform policy's answers are logged).
 */
export async function tenantId(tenants: TenantService, req: Request): Promise<string> {
  const ref = req.params.tenant as string;
  if (ref === platformTenantRef) return platformTenantId;
  const tenant = await tenants.find(ref);
  if (tenant === undefined) {
    throw new VerdictError(
      'not_found',
      `No tenant "${ref}": check the slug, or list tenants with \`verdict tenants list\`.`,
    );
  }
  return tenant.id;
}

function timeRange(query: { from?: string; to?: string }): { from?: Date; to?: Date } {
  const range: { from?: Date; to?: Date } = {};
  if (query.from !== undefined) range.from = new Date(query.from);
  if (query.to !== undefined) range.to = new Date(query.to);
  if (range.from !== undefined && range.to !== undefined && range.from >= range.to) {
    throw parameterProblem('?to', 'must be later than ?from');
  }
  return range;
}

function filtersOf(query: DecisionFilterQuery): DecisionFilters {
  const filters: DecisionFilters = timeRange(query);
  if (query.path !== undefined) filters.path = query.path;
  if (query.allowed !== undefined) filters.allowed = query.allowed === 'true';
  if (query.bundle_version !== undefined) filters.bundleVersion = query.bundle_version;
  if (query.caller !== undefined) filters.caller = query.caller;
  if (query.decision_id !== undefined) filters.decisionId = query.decision_id.toLowerCase();
  if (query.kind !== undefined) filters.kind = query.kind;
  if (query.rollout !== undefined) filters.rolloutId = query.rollout.toLowerCase();
  if (query.input !== undefined) {
    const input = parseInputFilter(query.input);
    if (typeof input === 'string') throw parameterProblem('?input', input);
    filters.input = input;
  }
  return filters;
}

function limitOf(text: string | undefined): number {
  if (text === undefined) return defaultSearchLimit;
  const limit = Number(text);
  if (limit < 1 || limit > maxSearchLimit) {
    throw parameterProblem('?limit', `must be a whole number from 1 to ${maxSearchLimit}`);
  }
  return limit;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/iu;

/** Writes `text`, waiting while the client's socket buffer is full (or until it goes away). */
async function write(res: Response, text: string): Promise<void> {
  if (res.write(text)) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export function decisionsRouter(options: DecisionsRouterOptions): Router {
  const router = Router();
  const { tenants, knex, logger } = options;
  const { access } = options;
  const batchSize = options.exportBatchSize ?? 1000;
  const base = '/v1/tenants/:tenant/decisions';

  // The console's cookie is taken on the two reads the console makes, and nowhere else.
  const consoleRead = access.require('decisions.read', { consoleSession: true });

  router.get(base, consoleRead, async (req, res) => {
    const query = validateSearch(req.query);
    const filters = filtersOf(query);
    const limit = limitOf(query.limit);
    let after;
    if (query.cursor !== undefined) {
      after = decodeCursor(query.cursor);
      if (after === undefined) {
        throw parameterProblem('?cursor', 'is not a cursor from an earlier page: copy `next`');
      }
    }
    const page = await searchDecisions(knex, await tenantId(tenants, req), filters, {
      limit,
      after,
    });
    res.json({
      decisions: page.rows.map(decisionView),
      next: page.next === undefined ? null : encodeCursor(page.next),
    });
  });

  router.get(`${base}/export`, access.require('decisions.export'), async (req, res) => {
    const query = validateExport(req.query);
    const filters = filtersOf(query);
    const id = await tenantId(tenants, req);
    const format = query.format ?? 'ndjson';
    const line = format === 'csv' ? csvLine : ndjsonLine;
    res
      .status(200)
      // attachment() sets a type from the file name; ours goes after it.
      .attachment(`decisions-${req.params.tenant as string}.${format}`)
      .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
    try {
      if (format === 'csv') await write(res, csvHeader());
      for await (const rows of scanDecisions(knex, id, filters, batchSize)) {
        // The client went away: stop reading the log for it.
        if (res.destroyed) break;
        await write(res, rows.map(line).join(''));
      }
      res.end();
    } catch (err) {
      if (!res.headersSent) throw err;
      // The status line has gone out: all that is left is to cut the stream short, which
      // the client sees as an incomplete transfer rather than a file that looks whole.
      logger.error({ err: err instanceof Error ? err.message : String(err) }, 'export failed');
      res.destroy();
    }
  });

  router.get(`${base}/verify`, access.require('decisions.verify'), async (req, res) => {
    const query = validateVerify(req.query);
    const range = timeRange(query);
    const result = await verifyChain(knex, await tenantId(tenants, req), range);
    res.json({
      ok: result.ok,
      rows: result.rows,
      ...(result.ok
        ? {}
        : {
            first_bad: {
              decision_id: result.firstBadDecisionId,
              seq: result.firstBadSeq,
              reason: result.reason,
            },
          }),
      // Where the chain starts when its oldest rows were pruned (`verdict audit prune`).
      anchor: result.anchor ?? null,
      last_seq: result.lastSeq ?? null,
      last_hash: result.lastHash ?? null,
    });
  });

  router.get(`${base}/:id`, consoleRead, async (req, res) => {
    const decisionId = req.params.id as string;
    const id = await tenantId(tenants, req);
    const row = uuidPattern.test(decisionId)
      ? await findDecision(knex, id, decisionId.toLowerCase())
      : undefined;
    if (row === undefined) {
      throw new VerdictError(
        'not_found',
        `No decision ${JSON.stringify(decisionId)} in this tenant's log: search with \`verdict decisions search\`.`,
      );
    }
    res.json(decisionView(row));
  });

  return router;
}
