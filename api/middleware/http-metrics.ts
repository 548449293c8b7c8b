/**
 * Counts every response Express sends by method, route pattern and status class
 * (verdict_http_requests_total). The decision lane counts its own (routes/data-lane.ts).
 */
import type { Request, RequestHandler } from 'express';
import { unmatchedRoute, type HttpMetrics } from '../services/metrics';

/** Files of the web console are served without a route; they count under one label. */
const consoleFile = /^\/console(\/|\?|$)/;

/** The route pattern a request matched; never the URL as sent, which the client chooses. */
export function routeLabel(req: Request): string {
  // Express leaves the route that answered on the request (routers here mount at the root).
  const route = req.route as { path?: unknown } | undefined;
  if (typeof route?.path === 'string') return route.path;
  return consoleFile.test(req.originalUrl) ? '/console/*' : unmatchedRoute;
}

export function httpMetrics(metrics: HttpMetrics): RequestHandler {
  return (req, res, next) => {
    res.once('finish', () => {
      metrics.count(req.method, routeLabel(req), res.statusCode);
    });
    next();
  };
}
