/**
 * Query parameters of `GET /v1/tenants/{tenant}/decisions/stats`: the time range, the bucket
 * size, and the search filters that narrow what is counted: all of search's but `allowed` (the
 * counts split by outcome) and `decision_id`. Checked like the other decision-log routes'
 * queries (one value each, no unknown parameter).
 */
import type { JSONSchemaType } from 'ajv';
import { statsBuckets, type StatsBucket } from '../services/audit/stats';

export interface DecisionStatsQuery {
  from?: string;
  to?: string;
  bucket?: StatsBucket;
  path?: string;
  bundle_version?: string;
  caller?: string;
  input?: string;
  kind?: 'decision' | 'shadow';
  rollout?: string;
}

const time = { type: 'string', format: 'date-time', nullable: true } as const;
const text = { type: 'string', minLength: 1, maxLength: 500, nullable: true } as const;

export const decisionStatsSchema: JSONSchemaType<DecisionStatsQuery> = {
  type: 'object',
  properties: {
    from: time,
    to: time,
    bucket: { type: 'string', enum: [...statsBuckets], nullable: true },
    path: text,
    bundle_version: text,
    caller: text,
    input: { type: 'string', minLength: 1, maxLength: 1000, nullable: true },
    kind: { type: 'string', enum: ['decision', 'shadow'], nullable: true },
    rollout: {
      type: 'string',
      pattern: '^[0-9A-Fa-f]{8}-([0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}$',
      nullable: true,
    },
  },
  required: [],
  additionalProperties: false,
};
