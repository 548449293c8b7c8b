/**
 * RFC 9457 problem details for every error response. A `VerdictError` keeps its code,
 * status and detail; errors raised by Express's own body parsing get the matching code;
 * anything else is logged with its stack and answered as a bare `internal` problem, so a
 * client never sees a stack trace or an internal message.
 */
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { VerdictError, type ErrorCode } from '../errors';
import type { Logger } from '../logger';

export const problemContentType = 'application/problem+json';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: ErrorCode;
  requestId?: string;
  [extension: string]: unknown;
}

/** Problem type URIs are URNs: stable identifiers that do not pretend to be web pages. */
export function problemType(code: ErrorCode): string {
  return `urn:verdict:problem:${code}`;
}

/** The problem body for `error` on the request for `instance` (the URL as asked). */
export function problemBodyFor(
  error: VerdictError,
  instance: string,
  requestId: string | undefined,
): ProblemBody {
  return {
    ...error.extensions,
    type: problemType(error.code),
    title: error.title,
    status: error.status,
    detail: error.detail,
    instance,
    code: error.code,
    ...(requestId === undefined ? {} : { requestId }),
  };
}

export function problemBody(error: VerdictError, req: Request): ProblemBody {
  return problemBodyFor(error, req.originalUrl, typeof req.id === 'string' ? req.id : undefined);
}

/** The media types of an Accept header that the client takes (q above 0), lower-case. */
function acceptedTypes(accept: string): Set<string> {
  const types = new Set<string>();
  for (const range of accept.split(',')) {
    const [type = '', ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    const q = params.find((param) => param.startsWith('q='));
    if (q !== undefined && !(Number(q.slice(2)) > 0)) continue;
    if (type !== '') types.add(type);
  }
  return types;
}

/**
 * How a problem goes out to a client with this Accept header. RFC 9457's
 * application/problem+json, unless the client takes application/json and not problem+json, as
 * OPA's SDKs do (they read an error body only under application/json): then the same body goes
 * out as application/json with OPA's `message` member beside `detail`.
 */
export function negotiateProblem(
  body: ProblemBody,
  accept: string | undefined,
): { readonly contentType: string; readonly body: ProblemBody } {
  const types = accept === undefined ? undefined : acceptedTypes(accept);
  if (types === undefined || types.has(problemContentType) || !types.has('application/json')) {
    return { contentType: problemContentType, body };
  }
  return { contentType: 'application/json', body: { ...body, message: body.detail } };
}

export function sendProblem(res: Response, req: Request, error: VerdictError): void {
  const problem = negotiateProblem(problemBody(error, req), req.headers.accept);
  res.status(error.status).type(problem.contentType).json(problem.body);
}

/** A body that is not valid JSON (body-parser's and the decision lane's wording). */
export function invalidJsonBody(): VerdictError {
  return new VerdictError(
    'invalid_json',
    'The request body is not valid JSON; check quoting and trailing commas.',
  );
}

/** A body over the byte limit. */
export function bodyTooLarge(): VerdictError {
  return new VerdictError(
    'payload_too_large',
    'The request body is larger than this endpoint accepts; send a smaller body.',
  );
}

/** A body the client stopped sending, or that could not be read. */
export function bodyUnreadable(): VerdictError {
  return new VerdictError('bad_request', 'The request body could not be read completely.');
}

/** Errors from body-parser carry a `type` string; these are the client's fault. */
function fromBodyParser(err: unknown): VerdictError | undefined {
  if (typeof err !== 'object' || err === null || !('type' in err)) return undefined;
  switch (err.type) {
    case 'entity.parse.failed':
      return invalidJsonBody();
    case 'entity.too.large':
      return bodyTooLarge();
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new VerdictError(
        'unsupported_media_type',
        'The request body encoding or charset is not supported; send UTF-8 JSON.',
      );
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
    case 'stream.not.readable':
      return bodyUnreadable();
    default:
      return undefined;
  }
}

/**
 * The router's URIError for a path parameter that is not valid percent-encoding
 * (`/v1/tenants/%E0%A4%A`); other errors that carry a 4xx status from Express's own
 * dependencies (http-errors) are the client's fault too.
 */
function fromRouting(err: unknown): VerdictError | undefined {
  if (err instanceof URIError) {
    return new VerdictError(
      'bad_request',
      'The URL holds a malformed percent-encoding; encode each reserved byte as %XX of UTF-8.',
    );
  }
  if (typeof err !== 'object' || err === null || !('status' in err)) return undefined;
  const status = err.status;
  if (typeof status !== 'number' || status < 400 || status > 499) return undefined;
  return new VerdictError(
    'bad_request',
    'The request could not be read; check its URL and headers.',
  );
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(
    new VerdictError(
      'not_found',
      `No route for ${req.method} ${req.path}; see docs/ for the API reference.`,
    ),
  );
};

/**
 * The problem to answer for whatever was thrown: a VerdictError as it is, body-parser's and
 * the router's client errors by their kind, anything else an `internal` problem. Server-side
 * failures are logged here, with the request id.
 */
export function problemFor(err: unknown, logger: Logger, requestId?: string): VerdictError {
  const error = err instanceof VerdictError ? err : (fromBodyParser(err) ?? fromRouting(err));
  if (error === undefined) {
    logger.error({ err, requestId }, 'unhandled error');
    return new VerdictError('internal', 'An internal error occurred; the server log has details.');
  }
  if (error.status >= 500)
    logger.error({ err: error, cause: error.cause, requestId }, error.detail);
  return error;
}

/** The last middleware of the app: turns whatever was thrown into a problem response. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      // Too late for a problem body; let Express close the connection.
      next(err);
      return;
    }
    const requestId = typeof req.id === 'string' ? req.id : undefined;
    sendProblem(res, req, problemFor(err, logger, requestId));
  };
}
