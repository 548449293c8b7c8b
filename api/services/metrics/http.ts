/**
 * HTTP requests by method, route and status class. The route is the pattern a request
 * matched (`/v1/tenants/:tenant/keys`), never the URL as sent, so a client cannot grow the
 * label set; requests no route took are `(unmatched)`. Counts are plain numbers per route,
 * read by the counter at scrape time, so the decision lane pays one addition a request.
 */
import { Counter, type Registry } from 'prom-client';

export const statusClasses = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** The route label of requests no route matched (404s, refusals before routing). */
export const unmatchedRoute = '(unmatched)';

/** The route of `POST /v1/data/...`, as the Express data router names it (routes/data.ts). */
export const decisionRoute = '/v1/data{/*path}';

/** Where a status counts: 1xx is 0 ... 5xx is 4 (anything else counts as 5xx). */
export function statusClassIndex(status: number): number {
  const index = Math.floor(status / 100) - 1;
  return index >= 0 && index < statusClasses.length ? index : statusClasses.length - 1;
}

/** The responses of one method and route, counted by status class. */
export class RouteCounts {
  readonly counts: number[] = statusClasses.map(() => 0);

  constructor(
    readonly method: string,
    readonly route: string,
  ) {}

  add(status: number): void {
    const index = statusClassIndex(status);
    this.counts[index] = (this.counts[index] ?? 0) + 1;
  }
}

export class HttpMetrics {
  private readonly routes = new Map<string, RouteCounts>();

  constructor(registry: Registry) {
    const routes = this.routes;
    new Counter({
      name: 'verdict_http_requests_total',
      help: 'HTTP responses sent, by method, route pattern and status class.',
      labelNames: ['method', 'route', 'status_class'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { method, route, counts } of routes.values()) {
          counts.forEach((count, i) => {
            if (count > 0) {
              this.inc({ method, route, status_class: statusClasses[i] }, count);
            }
          });
        }
      },
    });
  }

  /** The counts of `method` on `route`; keep it to count without a look-up. */
  route(method: string, route: string): RouteCounts {
    const key = `${method} ${route}`;
    let counts = this.routes.get(key);
    if (counts === undefined) {
      counts = new RouteCounts(method, route);
      this.routes.set(key, counts);
    }
    return counts;
  }

  count(method: string, route: string, status: number): void {
    this.route(method, route).add(status);
  }
}
