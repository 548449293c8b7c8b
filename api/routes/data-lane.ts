/**
 * The decision lane: `POST /v1/data/{path}` answered straight from Node's HTTP server,
 * before Express. Nearly all of Verdict's traffic is this one request, and Express's own
 * dispatch (the request/response prototypes, a dozen middleware layers, the router) cost more
 * CPU than the decision itself (docs/benchmarks.md, "Where the time goes").
 *
 * The lane takes only the plain form of the request: exact-case path without `%`, no query
 * string, no `Origin` (CORS), JSON in UTF-8 without a content encoding. Anything else goes to
 * Express, whose data router (routes/data.ts) answers every form. What the lane does, it does
 * with the same parts as the Express path, in the same order, so both answer alike: security
 * headers (read off helmet), request id and log line, the decision rate limits (the same
 * counters), body size and shape limits, API-key authentication, the decision service, and
 * problem+json for every error (test/integration/data-lane.test.ts compares the two).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, type Tracer } from '@opentelemetry/api';
import proxyAddr from 'proxy-addr';
import type { VerdictError } from '../errors';
import type { Logger } from '../logger';
import {
  authenticateApiKey,
  bearerToken,
  challengeIfUnauthorized,
  missingScope,
} from '../middleware/api-key';
import { shapeError } from '../middleware/json-limits';
import {
  bodyTooLarge,
  bodyUnreadable,
  invalidJsonBody,
  negotiateProblem,
  problemBodyFor,
  problemFor,
} from '../middleware/problem';
import { trackRequest } from '../middleware/request-log';
import type { DecisionLimitCheck } from '../middleware/route-limits';
import { securityHeaderValues } from '../middleware/security-headers';
import type { ApiKeyService } from '../services/api-keys';
import type { JsonShapeLimits } from '../services/decisions/input';
import type { DecisionService } from '../services/decisions/service';
import { decisionRoute, type HttpMetrics } from '../services/metrics';
import { startRequestSpan } from '../services/tracing/http';
import { decisionTraceId } from '../services/tracing/propagation';
import { checkDepth, decisionBody, decisionExample, noFlags, notAnObject } from './data';

/** Express's compiled `trust proxy` setting: whether the hop at `index` may name the client. */
export type TrustProxy = (address: string, index: number) => boolean;

export interface DataLaneOptions {
  readonly logger: Logger;
  readonly apiKeys: ApiKeyService;
  readonly decisions: DecisionService;
  readonly maxInputDepth: number;
  /** Largest body in bytes (express.json's limit). */
  readonly bodyLimitBytes: number;
  readonly bodyLimits: JsonShapeLimits;
  /** With an allowlist, every response varies by Origin (middleware/cors.ts). */
  readonly corsEnabled: boolean;
  readonly decisionLimits?: DecisionLimitCheck | undefined;
  readonly trustProxy: TrustProxy;
  readonly isShuttingDown: () => boolean;
  /** Where responses are counted (verdict_http_requests_total), as Express counts its own. */
  readonly httpRequests?: HttpMetrics | undefined;
  /** Where request spans go; undefined with tracing off. */
  readonly tracer?: Tracer | undefined;
}

/** Answers the request and returns true, or returns false without touching it. */
export type Lane = (req: IncomingMessage, res: ServerResponse) => boolean;

const pathPrefix = '/v1/data/';
const laneContentTypes = new Set(['application/json', 'application/json;charset=utf-8']);

/** Whether the lane answers this request; decided from the request line and headers alone. */
export function takesRequest(req: IncomingMessage): boolean {
  const { url, headers } = req;
  if (req.method !== 'POST' || !url?.startsWith(pathPrefix)) return false;
  if (url.includes('?') || url.includes('%') || url.includes('#')) return false;
  if (headers.origin !== undefined || headers['content-encoding'] !== undefined) return false;
  const type = headers['content-type'];
  return type !== undefined && laneContentTypes.has(type.toLowerCase().replace(/\s+/g, ''));
}

/** Read off helmet once per process: the same headers the Express path sets. */
let securityHeaders: (readonly [string, string])[] | undefined;

/** The whole body as text, or a problem when it is larger than `limit` bytes or cut off. */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(bodyTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const fail = (error: VerdictError): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) fail(bodyTooLarge());
      else chunks.push(chunk);
    };
    const onEnd = (): void => {
      resolve(
        chunks.length === 1
          ? (chunks[0] as Buffer).toString('utf8')
          : Buffer.concat(chunks).toString('utf8'),
      );
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', () => {
      fail(bodyUnreadable());
    });
  });
}

/**
 * Parses as express.json does: a byte-order mark is dropped, an empty body is `{}`, and the
 * first character must open an object or an array (strict mode).
 */
export function parseJsonBody(text: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.length === 0) return {};
  const first = /^[ \t\n\r]*(.)/s.exec(body)?.[1];
  if (first !== '{' && first !== '[') throw invalidJsonBody();
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw invalidJsonBody();
  }
}

function send(res: ServerResponse, status: number, type: string, payload: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', `${type}; charset=utf-8`);
  res.setHeader('Content-Length', Buffer.byteLength(payload));
  res.end(payload);
}

export function dataLane(options: DataLaneOptions): Lane {
  const { logger, apiKeys, decisions } = options;
  securityHeaders ??= securityHeaderValues();
  const headers = securityHeaders;
  const responses = options.httpRequests?.route('POST', decisionRoute);

  const decide = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (options.decisionLimits !== undefined) {
      const client = {
        ip: proxyAddr(req, options.trustProxy),
        socket: req.socket,
        headers: req.headers,
      };
      const refused = await options.decisionLimits(client, res);
      if (refused !== undefined) throw refused;
    }
    // A body declared empty is no input, whatever it would have parsed to.
    const empty = req.headers['content-length'] === '0';
    const body = empty ? undefined : parseJsonBody(await readBody(req, options.bodyLimitBytes));
    const shape = shapeError(body, options.bodyLimits);
    if (shape !== undefined) throw shape;
    const principal = await authenticateApiKey(apiKeys, bearerToken(req));
    if (!principal.scopes.includes('decide')) throw missingScope('decide');
    if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) {
      throw notAnObject(decisionExample);
    }
    const hasInput = body !== undefined && Object.hasOwn(body, 'input');
    const input = hasInput ? (body as { input: unknown }).input : undefined;
    if (hasInput) checkDepth(input, options.maxInputDepth, 'The input');
    const decision = await decisions.decide({
      tenantId: principal.tenantId,
      caller: principal.keyId,
      path: (req.url as string)
        .slice(pathPrefix.length)
        .split('/')
        .filter((part) => part !== ''),
      hasInput,
      input,
      traceId: decisionTraceId(req.headers),
    });
    responses?.add(200);
    // Shutdown may have begun while this request was under way.
    if (options.isShuttingDown()) res.setHeader('Connection', 'close');
    send(res, 200, 'application/json', JSON.stringify(decisionBody(decision, noFlags)));
  };

  const answerProblem = (req: IncomingMessage, res: ServerResponse, err: unknown): void => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const error = problemFor(err, logger, req.id);
    responses?.add(error.status);
    challengeIfUnauthorized(res, error);
    // The body may be unread (refused before or while reading), or the server is shutting
    // down: do not reuse the connection.
    if (!req.complete || options.isShuttingDown()) res.setHeader('Connection', 'close');
    const problem = negotiateProblem(
      problemBodyFor(error, req.url as string, req.id),
      req.headers.accept,
    );
    send(res, error.status, problem.contentType, JSON.stringify(problem.body));
  };

  const answer = (req: IncomingMessage, res: ServerResponse): void => {
    decide(req, res).catch((err: unknown) => {
      answerProblem(req, res, err);
    });
  };
  const { tracer } = options;

  return (req, res) => {
    if (!takesRequest(req)) return false;
    trackRequest(logger, req, res, req.url as string);
    for (const [name, value] of headers) res.setHeader(name, value);
    if (options.corsEnabled) res.setHeader('Vary', 'Origin');
    if (tracer === undefined) answer(req, res);
    else
      context.with(startRequestSpan(tracer, req, res, decisionRoute), answer, undefined, req, res);
    return true;
  };
}
