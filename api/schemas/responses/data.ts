/** Answers of the decision API, shaped like OPA's data API (api/routes/data.ts). */
import type { JsonSchema } from '../json-schema';
import { anyJson, count, mapOf, record, text, uuid } from './common';

const decisionMetricsSchema = record(
  {
    timer_server_handler_ns: count,
    timer_rego_query_eval_ns: count,
    timer_verdict_decision_ns: count,
    counter_server_query_cache_hit: { type: 'integer', enum: [0, 1] },
  },
  [],
  'With `?metrics=true`: nanoseconds in the handler, in the engine (0 for a cache hit), in the whole decision, and whether the cache answered.',
);

const provenanceSchema = record(
  {
    bundles: mapOf(record({ revision: text, version: text })),
  },
  [],
  'With `?provenance=true`: the bundle version that answered, by bundle name.',
);

const decisionProperties = {
  result: { ...anyJson, description: 'The decision; absent when it is undefined.' },
  decision_id: { ...uuid, description: "The id of the decision's audit row." },
  metrics: decisionMetricsSchema,
  provenance: provenanceSchema,
};
const optionalMembers = ['result', 'metrics', 'provenance'];

export const decisionResultSchema: JsonSchema = record(decisionProperties, optionalMembers);

const httpStatus = { type: 'string', pattern: '^[1-5][0-9]{2}$' } as const;

const batchDecisionSchema: JsonSchema = record(
  { ...decisionProperties, http_status_code: { ...httpStatus, const: '200' } },
  [...optionalMembers, 'http_status_code'],
  'A decided input; `http_status_code` is there when some other input failed (207).',
);

const batchFailureSchema: JsonSchema = record(
  { code: text, message: text, http_status_code: httpStatus },
  [],
  "An input whose decision failed (OPA's batch error shape).",
);

export const batchResultSchema: JsonSchema = record(
  {
    responses: mapOf({ oneOf: [batchDecisionSchema, batchFailureSchema] }),
    metrics: record({ timer_server_handler_ns: count }),
  },
  ['metrics'],
);
