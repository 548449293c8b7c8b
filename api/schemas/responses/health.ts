/** Answers of the probes (api/routes/health.ts). */
import type { JsonSchema } from '../json-schema';
import { mapOf, record, text } from './common';

export const liveSchema: JsonSchema = record({ status: { const: 'live' } });

const breaker = {
  enum: ['closed', 'half-open', 'open'],
  description: "The dependency's circuit breaker: open while it is failing and not called.",
};

/** The `checks` extension of a 503 `not_ready` problem, and of a ready answer. */
export const failedChecksSchema: JsonSchema = mapOf({
  oneOf: [
    record({ status: { const: 'ok' }, breaker }, ['breaker']),
    record({ status: { const: 'failed' }, reason: text, breaker }, ['reason', 'breaker']),
  ],
});

export const readySchema: JsonSchema = record({
  status: {
    enum: ['ready', 'degraded'],
    description:
      '`degraded`: a dependency decisions can do without is failing (Redis; Postgres once tenants are loaded).',
  },
  checks: {
    ...failedChecksSchema,
    description: 'Each dependency checked (`database`; `redis` when configured).',
  },
});
