/**
 * One log line per HTTP request with a request id: the caller's `X-Request-Id` when it looks
 * sane, a fresh UUID otherwise. The id is echoed back in the response header and appears in
 * problem+json bodies, so a client's report can be matched to the log.
 *
 * Written by hand rather than with pino-http: pino-http builds a child logger with its own
 * serializers and redaction for every request, even when the level drops the line, and that
 * cost a twentieth of the decision path's CPU (docs/benchmarks.md). Here a request costs one
 * id, one header and one `close` listener; the line is built only when the level keeps it.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import type { Logger } from '../logger';

declare module 'node:http' {
  interface IncomingMessage {
    /** This request's id, as echoed in `X-Request-Id`. */
    id?: string;
  }
}

const acceptableRequestId = /^[A-Za-z0-9._:-]{1,128}$/;

function requestIdFor(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && acceptableRequestId.test(given) ? given : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}

type RequestLevel = 'error' | 'warn' | 'info';

function levelOf(res: ServerResponse, completed: boolean): RequestLevel {
  if (res.statusCode >= 500) return 'error';
  if (res.statusCode >= 400 || !completed) return 'warn';
  return 'info';
}

// Probes hit the health routes every few seconds; logging each would drown the rest.
const isProbe = (url: string): boolean => url.startsWith('/health/');

/**
 * Gives the request its id (on `req.id` and the `X-Request-Id` header) and logs it when the
 * response closes. `url` is the URL as asked, before any router rewrote it.
 */
export function trackRequest(
  logger: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  url: string,
): string {
  const id = requestIdFor(req, res);
  req.id = id;
  if (isProbe(url)) return id;
  const started = performance.now();
  res.once('close', () => {
    // A response that ended before the whole of it was written is an aborted request.
    const completed = res.writableFinished;
    const level = levelOf(res, completed);
    if (!logger.isLevelEnabled(level)) return;
    logger[level](
      {
        req: { id, method: req.method, url, remoteAddress: req.socket.remoteAddress },
        res: { statusCode: res.statusCode },
        responseTime: Math.round(performance.now() - started),
      },
      completed ? 'request completed' : 'request aborted',
    );
  });
  return id;
}

export function requestLogger(logger: Logger): RequestHandler {
  return (req, res, next) => {
    // `originalUrl`: routers rewrite `url` as they descend; the log names what was asked.
    trackRequest(logger, req, res, req.originalUrl);
    next();
  };
}
