/** The answer of `POST /v1/tenants/{tenant}/replay` (api/routes/replay.ts). */
import { flipKinds } from '../../services/replay/compare';
import type { JsonSchema } from '../json-schema';
import { anyJson, count, flag, mapOf, record, text, textList, timestamp, uuid } from './common';

const flip = { type: 'string', enum: [...flipKinds] } as const;

const sampleSchema: JsonSchema = record(
  {
    decision_id: uuid,
    ts: timestamp,
    path: text,
    flip,
    input: anyJson,
    recorded_result: anyJson,
    candidate_result: anyJson,
    candidate_error: record({ code: text, message: text }),
  },
  ['input', 'recorded_result', 'candidate_result', 'candidate_error'],
  'A changed decision; members are absent when undefined (no input, no result, no error).',
);

export const replayReportSchema: JsonSchema = record({
  tenant: { type: 'string', description: "The tenant's slug." },
  bundle: record({ name: text, version: text, revision: text, signature_status: text }),
  window: record({ from: timestamp, to: timestamp }),
  path: { type: ['string', 'null'] },
  limit: count,
  replayed: count,
  changed: count,
  truncated: { type: 'boolean', description: 'Whether the window held more than `limit`.' },
  by_path: mapOf(record({ replayed: count, changed: count })),
  by_flip: record(Object.fromEntries(flipKinds.map((kind) => [kind, count]))),
  masked_inputs: flag,
  mask_paths: textList,
  samples: { type: 'array', items: sampleSchema },
});
