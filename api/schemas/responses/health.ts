/** Answers of the probes (api/routes/health.ts). */
import type { JsonSchema } from '../json-schema';
import { mapOf, record, text } from './common';

export const liveSchema: JsonSchema = record({ status: { const: 'live' } });

export const readySchema: JsonSchema = record({
  status: { const: 'ready' },
  checks: {
    ...mapOf(record({ status: { const: 'ok' } })),
    description: 'Each dependency checked (`database`; `redis` when configured).',
  },
});

/** The `checks` extension of a 503 `not_ready` problem. */
export const failedChecksSchema: JsonSchema = mapOf({
  oneOf: [
    record({ status: { const: 'ok' } }),
    record({ status: { const: 'failed' }, reason: text }, ['reason']),
  ],
});
