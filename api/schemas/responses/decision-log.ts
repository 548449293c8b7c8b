/**
 * Answers of the decision-log routes (api/routes/decisions.ts, decision-stats.ts): a decision's
 * record (api/services/audit/views.ts), search pages, chain verification and counts over time.
 */
import type { JsonSchema } from '../json-schema';
import { anyJson, count, flag, optionalText, record, text, timestamp, uuid } from './common';

const hash = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const;

export const decisionRecordSchema: JsonSchema = record(
  {
    decision_id: uuid,
    seq: { type: 'integer', minimum: 1 },
    ts: timestamp,
    path: text,
    bundle_name: optionalText,
    bundle_version: optionalText,
    bundle_revision: optionalText,
    input: { ...anyJson, description: 'Absent when the request had none, or it was masked whole.' },
    result: { ...anyJson, description: 'Absent when the decision was undefined.' },
    allowed: { type: ['boolean', 'null'] },
    caller: { type: ['string', 'null'], description: 'The API key id.' },
    cache: { type: 'string', enum: ['hit', 'miss', 'bypass'] },
    duration_us: { type: 'number', minimum: 0 },
    kind: { type: 'string', enum: ['decision', 'shadow'] },
    rollout: record(
      { id: uuid, arm: text, compared_with: text, agrees: flag },
      ['compared_with', 'agrees'],
      'Present when the decision was made under a rollout.',
    ),
    trace_id: {
      type: 'string',
      pattern: '^[0-9a-f]{32}$',
      description: 'W3C trace id of the request that made the decision; absent when it had none.',
    },
    prev_hash: hash,
    hash,
  },
  ['input', 'result', 'rollout', 'trace_id'],
);

export const decisionPageSchema: JsonSchema = record({
  decisions: { type: 'array', items: decisionRecordSchema, description: 'Newest first.' },
  next: {
    type: ['string', 'null'],
    description: 'The `cursor` of the following page; null on the last page.',
  },
});

const link = record({ seq: count, hash });

export const chainVerificationSchema: JsonSchema = record(
  {
    ok: flag,
    rows: { ...count, description: 'Rows found intact.' },
    first_bad: record({ decision_id: uuid, seq: count, reason: text }),
    anchor: {
      anyOf: [link, { type: 'null' }],
      description: 'Where the chain starts when its oldest rows were pruned.',
    },
    last_seq: { type: ['integer', 'null'], minimum: 0 },
    last_hash: { anyOf: [hash, { type: 'null' }] },
  },
  ['first_bad'],
);

const counts = { allowed: count, denied: count, other: count };

export const decisionStatsSchema: JsonSchema = record({
  bucket: { type: 'string', enum: ['minute', 'hour', 'day'] },
  from: timestamp,
  to: timestamp,
  buckets: {
    type: 'array',
    items: record({ start: timestamp, ...counts }),
    description: 'Every bucket the range touches, oldest first.',
  },
  totals: record(counts),
});
