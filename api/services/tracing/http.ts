/**
 * The server span of an HTTP request, for the decision lane and for Express alike: named
 * `METHOD route`, a child of the caller's trace context, ended when the response is closed
 * with its status code (an error status from 500 on).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SpanKind, SpanStatusCode, trace, type Context, type Tracer } from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import { callerContext, traceResponse } from './propagation';

/**
 * Starts the request's span and answers its `traceresponse` header; returns the context to
 * handle the request in. `route` names the span when known now (the lane); otherwise
 * `routeAtEnd` is asked once the response is done (Express matches routes later).
 */
export function startRequestSpan(
  tracer: Tracer,
  req: IncomingMessage,
  res: ServerResponse,
  route: string | undefined,
  routeAtEnd?: () => string | undefined,
): Context {
  const parent = callerContext(req.headers);
  const method = req.method ?? 'GET';
  const span = tracer.startSpan(
    route === undefined ? method : `${method} ${route}`,
    {
      kind: SpanKind.SERVER,
      attributes: {
        [ATTR_HTTP_REQUEST_METHOD]: method,
        [ATTR_URL_PATH]: (req.url ?? '/').split('?')[0] ?? '/',
        ...(route === undefined ? {} : { [ATTR_HTTP_ROUTE]: route }),
      },
    },
    parent,
  );
  res.setHeader('traceresponse', traceResponse(span.spanContext()));
  res.once('close', () => {
    const matched = route ?? routeAtEnd?.();
    if (matched !== undefined && route === undefined) {
      span.updateName(`${method} ${matched}`);
      span.setAttribute(ATTR_HTTP_ROUTE, matched);
    }
    const status = res.statusCode;
    span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    // Closed before the response was complete: the client went away.
    if (!res.writableFinished) span.setAttribute('verdict.http.aborted', true);
    span.end();
  });
  return trace.setSpan(parent, span);
}
