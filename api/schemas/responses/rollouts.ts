/** Answers of the rollout routes (api/routes/rollouts.ts). */
import type { JsonSchema } from '../json-schema';
import {
  anyJson,
  count,
  mapOf,
  optionalText,
  optionalTimestamp,
  record,
  text,
  timestamp,
  uuid,
} from './common';

const rolloutProperties = {
  id: uuid,
  bundle: text,
  mode: { type: 'string', enum: ['canary', 'shadow'] },
  status: { type: 'string', enum: ['active', 'promoted', 'rolled_back', 'aborted'] },
  candidate_version: text,
  stable_version: { type: 'string', description: 'The stable version when it started.' },
  percent: { type: ['number', 'null'], description: "A canary's share of traffic, in percent." },
  sticky: {
    type: ['string', 'null'],
    description: 'The input path the canary split sticks by; null: the caller.',
  },
  started_by: text,
  started_at: timestamp,
  ended_by: optionalText,
  ended_at: optionalTimestamp,
};

export const rolloutSchema: JsonSchema = record(rolloutProperties);

const arm = record(
  { arm: text, version: optionalText, result: anyJson },
  ['result'],
  'One side of a comparison; `result` is absent when undefined.',
);

const rolloutStatsSchema: JsonSchema = record({
  served: { ...mapOf(count), description: 'Served decisions by arm (`stable`, `canary`).' },
  canary_share: { type: 'number', minimum: 0, maximum: 1 },
  comparisons: count,
  disagreements: count,
  disagreement_rate: { type: ['number', 'null'], minimum: 0, maximum: 1 },
  samples: {
    type: 'array',
    items: record(
      { decision_id: uuid, ts: timestamp, path: text, input: anyJson, served: arm, compared: arm },
      ['input'],
    ),
  },
});

export const rolloutReportSchema: JsonSchema = record({
  ...rolloutProperties,
  stats: rolloutStatsSchema,
});

export const rolloutReportListSchema: JsonSchema = record({
  rollouts: { type: 'array', items: rolloutReportSchema },
});

export const bundleRolloutsSchema: JsonSchema = record({
  latest: {
    anyOf: [rolloutReportSchema, { type: 'null' }],
    description: "The bundle's latest rollout with its figures; null when it never had one.",
  },
  history: { type: 'array', items: rolloutSchema, description: 'Newest first.' },
});
