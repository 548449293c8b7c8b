/**
 * The decision API, shaped like OPA's data API so OPA clients work unchanged:
 *
 *   POST /v1/data/{path}        {"input": ...}            -> {"result": ..., "decision_id": "..."}
 *   GET  /v1/data/{path}                                   -> the same, without input
 *   POST /v1/batch/data/{path}  {"inputs": {"id": ...}}   -> {"responses": {"id": {...}}}
 *   POST /                      <the input>               -> <the default decision's value>
 *
 * An undefined decision (unknown path included) answers 200 without a `result` key, as OPA
 * does. The tenant is the API key's (scope `decide`). `?metrics=true` adds timings,
 * `?provenance=true` names the bundle version that answered (under a canary rollout, stable
 * or canary), `?pretty=true` indents; `?explain=` other than `off` is refused (no trace is
 * kept).
 */
import { Router, type Request, type Response } from 'express';
import { VerdictError } from '../errors';
import { requireApiKey } from '../middleware/api-key';
import type { ApiKeyService } from '../services/api-keys';
import { defaultMaxInputDepth, exceedsDepth } from '../services/decisions/input';
import type { Decision, DecisionService } from '../services/decisions/service';
import { decisionTraceId } from '../services/tracing/propagation';

export interface DataRouterOptions {
  readonly apiKeys: ApiKeyService;
  readonly decisions: DecisionService;
  /** Deepest nesting accepted in an input (default 64). */
  readonly maxInputDepth?: number;
  /** Most inputs in one batch (default 1000). */
  readonly maxBatchInputs?: number;
}

export interface Flags {
  readonly metrics: boolean;
  readonly pretty: boolean;
  readonly provenance: boolean;
}

/** `?name`, `?name=true` and `?name=1` turn a flag on, as OPA reads them. */
function flag(req: Request, name: string): boolean {
  const value = req.query[name];
  const text = Array.isArray(value) ? value[value.length - 1] : value;
  return text === '' || text === 'true' || text === '1';
}

function flagsOf(req: Request): Flags {
  const explain = req.query.explain;
  if (explain !== undefined && explain !== 'off') {
    throw new VerdictError(
      'bad_request',
      `explain=${JSON.stringify(explain)} is not supported: Verdict evaluates compiled WebAssembly and keeps no trace; drop the explain parameter (or use \`verdict eval\` locally).`,
      { extensions: { parameter: 'explain' } },
    );
  }
  return {
    metrics: flag(req, 'metrics'),
    pretty: flag(req, 'pretty'),
    provenance: flag(req, 'provenance'),
  };
}

/** The data path as segments (`rbac/allow` -> ["rbac", "allow"]), empty ones dropped. */
function pathOf(req: Request): string[] {
  const raw = (req.params as { path?: string[] | string }).path;
  const parts = raw === undefined ? [] : Array.isArray(raw) ? raw : raw.split('/');
  return parts.filter((segment) => segment !== '');
}

/** Flags of a request without a query string: all off. */
export const noFlags: Flags = { metrics: false, pretty: false, provenance: false };

/** The error for a body that is JSON but not an object. */
export function notAnObject(example: string): VerdictError {
  return new VerdictError('bad_request', `The request body must be a JSON object like ${example}.`);
}

/** The example body of a single decision request, as error messages show it. */
export const decisionExample = '{"input": {...}}';

/**
 * The parsed JSON body, or undefined when the request has none (OPA accepts a POST with no
 * body: no input). Other content types are a 415.
 */
function jsonBody(req: Request): unknown {
  const matched = req.is('application/json');
  // An empty body (no body, or Content-Length: 0) is no input, whatever its declared type.
  if (matched === null || req.headers['content-length'] === '0') return undefined;
  if (matched === false) {
    const given = req.headers['content-type'];
    throw new VerdictError(
      'unsupported_media_type',
      `The request body must be JSON: send it with \`Content-Type: application/json\` (got ${given === undefined ? 'no Content-Type' : `Content-Type ${given}`}).`,
    );
  }
  return req.body as unknown;
}

/** The JSON object body, or undefined when the request has none; a 400 when not an object. */
function objectBody(req: Request, example: string): Record<string, unknown> | undefined {
  const body = jsonBody(req);
  if (body === undefined) return undefined;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw notAnObject(example);
  }
  return body as Record<string, unknown>;
}

export function checkDepth(input: unknown, max: number, where: string): void {
  if (exceedsDepth(input, max)) {
    throw new VerdictError(
      'bad_request',
      `${where} nests arrays and objects deeper than ${max} levels; flatten it.`,
      { extensions: { maxInputDepth: max } },
    );
  }
}

function decisionMetrics(decision: Decision, handlerNs: number): Record<string, number> {
  return {
    timer_server_handler_ns: handlerNs,
    timer_rego_query_eval_ns: decision.evalNs,
    timer_verdict_decision_ns: decision.totalNs,
    counter_server_query_cache_hit: decision.cache === 'hit' ? 1 : 0,
  };
}

/** OPA's provenance shape: the bundles that answered, by name, with their revision. */
function provenanceOf(decision: Decision): Record<string, unknown> {
  const { bundle } = decision;
  return {
    bundles:
      bundle === undefined
        ? {}
        : { [bundle.name]: { revision: bundle.revision, version: bundle.version } },
  };
}

export function decisionBody(
  decision: Decision,
  flags: Flags,
  metrics?: Record<string, number>,
): Record<string, unknown> {
  return {
    ...(decision.defined ? { result: decision.result } : {}),
    decision_id: decision.decisionId,
    ...(metrics === undefined ? {} : { metrics }),
    ...(flags.provenance ? { provenance: provenanceOf(decision) } : {}),
  };
}

/**
 * A batch's status, as Enterprise OPA answers: 200 when every input was decided, 500 when
 * every input failed, else 207 Multi-Status with each response's own `http_status_code`.
 */
export function batchStatus(inputs: number, failures: number): 200 | 207 | 500 {
  if (failures === 0) return 200;
  return failures === inputs ? 500 : 207;
}

function send(res: Response, status: number, body: unknown, flags: Flags): void {
  res.status(status);
  if (flags.pretty) res.type('application/json').send(JSON.stringify(body, null, 2));
  else res.json(body);
}

function callerOf(req: Request): {
  tenantId: string;
  caller: string;
  traceId: string | undefined;
} {
  // requireApiKey ran first, so the key is there.
  const key = req.apiKey as NonNullable<Request['apiKey']>;
  return { tenantId: key.tenantId, caller: key.keyId, traceId: decisionTraceId(req.headers) };
}

/** The header `POST /` names its decision's audit row in (its body is the bare result). */
export const decisionIdHeader = 'X-Decision-Id';

/**
 * OPA answers an undefined default decision 404 `undefined_document`, telling a path no bundle
 * holds ("missing") from one that is undefined for this input.
 */
function undefinedDefaultDecision(path: readonly string[], decision: Decision): VerdictError {
  const where = `data.${path.join('.')}`;
  const reason =
    decision.bundle === undefined
      ? `no active bundle of this tenant holds ${where}`
      : `${where} is undefined for this input (bundle ${decision.bundle.name} ${decision.bundle.version})`;
  return new VerdictError(
    'undefined_document',
    `The default decision is undefined: ${reason}. Define it in a bundle, or name another rule with \`verdict tenants update <tenant> --default-decision pkg/rule\`.`,
    { extensions: { path: path.join('/'), decision_id: decision.decisionId } },
  );
}

export function dataRouter(options: DataRouterOptions): Router {
  const router = Router();
  const { decisions } = options;
  const maxDepth = options.maxInputDepth ?? defaultMaxInputDepth;
  const maxBatch = options.maxBatchInputs ?? 1000;
  const authenticate = requireApiKey(options.apiKeys, 'decide');

  const decideOne = async (req: Request, res: Response, readInput: boolean): Promise<void> => {
    const started = process.hrtime.bigint();
    const flags = flagsOf(req);
    const body = readInput ? objectBody(req, decisionExample) : undefined;
    const hasInput = body !== undefined && Object.hasOwn(body, 'input');
    const input = hasInput ? body.input : undefined;
    if (hasInput) checkDepth(input, maxDepth, 'The input');
    const decision = await decisions.decide({
      ...callerOf(req),
      path: pathOf(req),
      hasInput,
      input,
    });
    const handlerNs = Number(process.hrtime.bigint() - started);
    send(
      res,
      200,
      decisionBody(
        decision,
        flags,
        flags.metrics ? decisionMetrics(decision, handlerNs) : undefined,
      ),
      flags,
    );
  };

  router.post('/v1/data{/*path}', authenticate, (req, res) => decideOne(req, res, true));
  router.get('/v1/data{/*path}', authenticate, (req, res) => decideOne(req, res, false));

  // OPA's default decision: the whole body is the input, the answer the bare value.
  router.post('/', authenticate, async (req, res) => {
    const flags = flagsOf(req);
    const input = jsonBody(req);
    const hasInput = input !== undefined;
    if (hasInput) checkDepth(input, maxDepth, 'The input');
    const { path, decision } = await decisions.decideDefault({
      ...callerOf(req),
      hasInput,
      input,
    });
    if (!decision.defined) throw undefinedDefaultDecision(path, decision);
    res.setHeader(decisionIdHeader, decision.decisionId);
    send(res, 200, decision.result, flags);
  });

  router.post('/v1/batch/data{/*path}', authenticate, async (req, res) => {
    const started = process.hrtime.bigint();
    const flags = flagsOf(req);
    const example = '{"inputs": {"id-1": {...}, "id-2": {...}}}';
    const body = objectBody(req, example);
    const inputs: unknown = body?.inputs;
    if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs)) {
      throw new VerdictError(
        'bad_request',
        `A batch needs an object of inputs by id: ${example}.`,
        { extensions: { field: '/inputs' } },
      );
    }
    const entries = Object.entries(inputs as Record<string, unknown>);
    if (entries.length > maxBatch) {
      throw new VerdictError(
        'bad_request',
        `A batch holds at most ${maxBatch} inputs (got ${entries.length}); split it.`,
        { extensions: { maxBatchInputs: maxBatch } },
      );
    }
    for (const [id, input] of entries) checkDepth(input, maxDepth, `The input "${id}"`);
    const outcomes = await decisions.decideBatch(
      { ...callerOf(req), path: pathOf(req) },
      new Map(entries),
    );
    const failures = [...outcomes.values()].filter((outcome) => !outcome.ok).length;
    const status = batchStatus(outcomes.size, failures);
    // A Map, not `{}`: an input id such as `__proto__` stays an answer of its own.
    const responses = new Map<string, unknown>();
    for (const [id, outcome] of outcomes) {
      if (outcome.ok) {
        const handlerNs = Number(process.hrtime.bigint() - started);
        const body = decisionBody(
          outcome.decision,
          flags,
          flags.metrics ? decisionMetrics(outcome.decision, handlerNs) : undefined,
        );
        responses.set(id, status === 207 ? { ...body, http_status_code: '200' } : body);
      } else {
        responses.set(id, {
          code: outcome.error.code,
          message: outcome.error.detail,
          http_status_code: String(outcome.error.status),
        });
      }
    }
    const metrics = flags.metrics
      ? { metrics: { timer_server_handler_ns: Number(process.hrtime.bigint() - started) } }
      : {};
    send(res, status, { responses: Object.fromEntries(responses), ...metrics }, flags);
  });

  return router;
}
