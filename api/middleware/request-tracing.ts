/**
 * The server span of every request Express answers (the decision lane makes its own, in
 * routes/data-lane.ts), named by the route pattern that answered; the rest of the request runs
 * in its context, so the decision, database and Redis spans are its children.
 */
import type { Tracer } from '@opentelemetry/api';
import { context } from '@opentelemetry/api';
import type { RequestHandler } from 'express';
import { startRequestSpan } from '../services/tracing/http';
import { routeLabel } from './http-metrics';

export function requestTracing(tracer: Tracer): RequestHandler {
  return (req, res, next) => {
    const traced = startRequestSpan(tracer, req, res, undefined, () => routeLabel(req));
    // The body parser calls on from the request's 'end' event, outside this context:
    // listeners of the request run in it too.
    context.bind(traced, req);
    context.with(traced, next);
  };
}
