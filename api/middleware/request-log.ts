/**
 * One log line per HTTP request (pino-http) with a request id: the caller's `X-Request-Id`
 * when it looks sane, a fresh UUID otherwise. The id is echoed back in the response header
 * and appears in problem+json bodies, so a client's report can be matched to the log.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../logger';

const acceptableRequestId = /^[A-Za-z0-9._:-]{1,128}$/;

function requestIdFor(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && acceptableRequestId.test(given) ? given : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}

export function requestLogger(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    genReqId: requestIdFor,
    customLogLevel: (_req, res, err) => {
      if (err !== undefined || res.statusCode >= 500) return 'error';
      if (res.statusCode >= 400) return 'warn';
      return 'info';
    },
    // Method, path and status say what happened; full header dumps only bury them.
    serializers: {
      req: (req: { id: unknown; method: string; url: string; remoteAddress?: string }) => ({
        id: req.id,
        method: req.method,
        url: req.url,
        remoteAddress: req.remoteAddress,
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    // Probes hit the health routes every few seconds; logging each would drown the rest.
    autoLogging: { ignore: (req) => req.url?.startsWith('/health/') ?? false },
  });
}
