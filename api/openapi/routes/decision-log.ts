/** The decision log for auditors: search, one record, export, verification, counts. */
import type { Operation, Parameter } from '../route-table';
import { jsonAnswer, named, tenantNotFound } from './shared';
import {
  decisionExportSchema,
  decisionSearchSchema,
  decisionVerifySchema,
} from '../../schemas/decisions';
import { decisionStatsSchema as decisionStatsQuerySchema } from '../../schemas/decision-stats';
import { fromAjvSchema, withoutNull, type JsonSchema } from '../../schemas/json-schema';

const filterDocs: Readonly<Record<string, string>> = {
  from: 'Only decisions at or after this time (ISO 8601 with a zone, `2026-11-27T10:00:00Z`).',
  to: 'Only decisions before this time.',
  path: 'The decision path exactly: `rbac/allow`.',
  allowed: 'Decisions that allowed (`true`) or denied (`false`).',
  bundle_version: 'The bundle version exactly.',
  caller: 'The caller exactly (the API key id).',
  decision_id: 'One decision.',
  input: 'A value in the input: `input.subject.id=bob` (a JSON scalar, else the text as it is).',
  kind: '`decision` (served answers) or `shadow` (rollout comparison rows).',
  rollout: 'The rows of one rollout, by its id.',
  limit: 'Decisions per page, 1 to 1000 (default 100).',
  cursor: 'The `next` of the previous page.',
  format: '`ndjson` (default) or `csv`.',
  bucket: '`minute`, `hour` (default) or `day`.',
};

/** The parameters of an ajv query schema, each described by `docs`. */
function queryOf(schema: unknown, docs: Readonly<Record<string, string>>): Parameter[] {
  const converted = fromAjvSchema(schema) as {
    properties: Record<string, JsonSchema>;
    required: readonly string[];
  };
  return Object.entries(converted.properties).map(([name, property]) => {
    const description = docs[name];
    if (description === undefined) throw new Error(`no description of query parameter ${name}`);
    return {
      name,
      description,
      schema: withoutNull(property),
      ...(converted.required.includes(name) ? { required: true } : {}),
    };
  });
}

const decisionLogPath = '/v1/tenants/{tenant}/decisions';

export const decisionLogOperations: readonly Operation[] = [
  {
    method: 'get',
    path: decisionLogPath,
    operationId: 'searchDecisions',
    tag: 'Decision log',
    summary: 'Search decisions, newest first, a page at a time',
    access: { kind: 'policy', action: 'decisions.read', console: true },
    query: queryOf(decisionSearchSchema, filterDocs),
    answers: { 200: jsonAnswer('A page of decisions.', 'DecisionPage') },
    problems: {
      400: 'A bad, repeated or unknown query parameter (`field` names it).',
      404: tenantNotFound,
    },
  },
  {
    method: 'get',
    path: `${decisionLogPath}/export`,
    operationId: 'exportDecisions',
    tag: 'Decision log',
    summary: 'Export every matching decision (NDJSON or CSV)',
    description:
      'Streamed as the client reads. If a read fails after the first bytes went out, the connection is cut short.',
    access: { kind: 'policy', action: 'decisions.export' },
    query: queryOf(decisionExportSchema, filterDocs),
    answers: {
      200: {
        description:
          'NDJSON: one decision record a line. CSV: a header row, CRLF line ends, `input` and `result` as JSON text.',
        content: {
          'application/x-ndjson': { type: 'string' },
          'text/csv': { type: 'string' },
        },
        lines: { type: 'application/x-ndjson', schema: named('DecisionRecord') },
        headers: {
          'Content-Disposition': {
            description: '`attachment; filename="decisions-<tenant>.<format>"`.',
            required: true,
          },
        },
      },
    },
    problems: {
      400: 'A bad, repeated or unknown query parameter (`field` names it).',
      404: tenantNotFound,
    },
  },
  {
    method: 'get',
    path: `${decisionLogPath}/verify`,
    operationId: 'verifyDecisions',
    tag: 'Decision log',
    summary: 'Recompute the hash chain',
    access: { kind: 'policy', action: 'decisions.verify' },
    query: queryOf(decisionVerifySchema, {
      from: 'Check rows from this time on (the link into the first one is still checked).',
      to: 'Check rows before this time.',
    }),
    answers: {
      200: jsonAnswer('Whether the chain holds, and the first broken row.', 'ChainVerification'),
    },
    problems: { 400: 'A bad, repeated or unknown query parameter.', 404: tenantNotFound },
  },
  {
    method: 'get',
    path: `${decisionLogPath}/stats`,
    operationId: 'decisionStats',
    tag: 'Decision log',
    summary: 'Allowed, denied and other counts per time bucket',
    access: { kind: 'policy', action: 'decisions.read', console: true },
    query: queryOf(decisionStatsQuerySchema, {
      ...filterDocs,
      from: 'Start of the range (default: an hour, a day or 30 days before `to`, by bucket).',
      to: 'End of the range (default now).',
    }),
    answers: { 200: jsonAnswer('The counts, oldest bucket first.', 'DecisionStats') },
    problems: {
      400: 'A bad, repeated or unknown query parameter, or more than 2000 buckets.',
      404: tenantNotFound,
    },
  },
  {
    method: 'get',
    path: `${decisionLogPath}/{id}`,
    operationId: 'getDecision',
    tag: 'Decision log',
    summary: "One decision's full record",
    access: { kind: 'policy', action: 'decisions.read', console: true },
    answers: { 200: jsonAnswer('The record.', 'DecisionRecord') },
    problems: { 404: "No such tenant, or no such decision in this tenant's log." },
  },
];
