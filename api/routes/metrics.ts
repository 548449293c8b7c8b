/**
 * `GET /metrics`: Prometheus metrics in the text exposition format. Open by default, as OPA's
 * is (they say how busy the service is, never what it decided for whom beyond tenant ids and
 * bundle entrypoints); with VERDICT_METRICS_TOKEN set, scrapers must send it as a bearer token.
 * In a cluster worker the text covers the whole process group (api/cluster/metrics-relay.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import { bearerToken, challengeIfUnauthorized, unauthorized } from '../middleware/api-key';

/** What `GET /metrics` answers with. */
export interface MetricsExposition {
  readonly contentType: string;
  readonly text: string;
}

export interface MetricsRouteOptions {
  /** Bearer token scrapers must send; undefined: none. */
  readonly token?: string | undefined;
  readonly scrape: () => Promise<MetricsExposition>;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Constant-time comparison whatever the lengths (both sides are hashed first). */
function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

export function metricsRouter(options: MetricsRouteOptions): Router {
  const router = Router();
  const { token } = options;
  router.get('/metrics', async (req, res) => {
    if (token !== undefined) {
      const given = bearerToken(req);
      if (given === undefined || given === '' || !sameSecret(given, token)) {
        const error = unauthorized(
          'Metrics need the scrape token: send `Authorization: Bearer <VERDICT_METRICS_TOKEN>` (in Prometheus, the `authorization` section of the scrape config).',
        );
        challengeIfUnauthorized(res, error);
        throw error;
      }
    }
    const { contentType, text } = await options.scrape();
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Type', contentType);
    res.send(text);
  });
  return router;
}
