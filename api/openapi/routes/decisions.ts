/** The decision API (OPA's data API, the default decision, batches) and CASL rules. */
import type { Operation, Parameter } from '../route-table';
import { json, jsonAnswer, jsonBody } from './shared';
import type { JsonSchema } from '../../schemas/json-schema';
import { anyJson } from '../../schemas/responses/common';

/** A flag is on as `?name`, `?name=true` or `?name=1`; any other value leaves it off. */
const flagSchema: JsonSchema = { type: 'string' };

const decisionFlags: readonly Parameter[] = [
  {
    name: 'metrics',
    description:
      'Add `metrics`: time in the handler, in the engine and in the whole decision (ns), and whether the cache answered. `?metrics`, `=true` or `=1`.',
    schema: flagSchema,
  },
  {
    name: 'provenance',
    description: 'Add `provenance`: the bundle version that answered.',
    schema: flagSchema,
  },
  { name: 'pretty', description: 'Indent the answer.', schema: flagSchema },
  {
    name: 'explain',
    description:
      'Refused (`400`) unless `off`: the engine is compiled WebAssembly and keeps no trace; use `verdict eval` locally.',
    schema: { type: 'string', const: 'off' },
  },
];

const decided = jsonAnswer(
  'The decision. Undefined (no rule applies, or no bundle covers the path) is a 200 without `result`, as OPA answers.',
  'DecisionResult',
);

const decisionProblems = {
  500: 'The policy failed for this input (`policy_error`, with `policyError` and `location`).',
  503: 'The evaluation hit its step budget or memory cap (`policy_limit_exceeded`), the bundle could not be loaded (`bundle_unavailable`), or a strict-audit row could not be written (`database_unavailable`).',
} as const;

export const decisionOperations: readonly Operation[] = [
  ...(['post', 'get'] as const).flatMap((method) =>
    ['/v1/data', '/v1/data/{path}'].map((path): Operation => ({
      method,
      path,
      operationId: `${method === 'post' ? 'decide' : 'decideWithoutInput'}${path.endsWith('}') ? '' : 'Root'}`,
      tag: 'Decisions',
      summary:
        method === 'post'
          ? `Decide${path.endsWith('}') ? '' : ' on the whole data document'} with an input`
          : `Decide${path.endsWith('}') ? '' : ' on the whole data document'} without input`,
      description:
        "The path goes to the tenant's active bundle whose `roots` contain it, and to the longest entrypoint it starts with. Every answered decision is recorded in the decision log under `decision_id`.",
      access: { kind: 'api-key', scope: 'decide' },
      query: decisionFlags,
      ...(method === 'post'
        ? {
            body: {
              ...jsonBody('DecisionRequest', 'Optional: no body is no input.'),
              required: false,
            },
          }
        : {}),
      answers: { 200: decided },
      problems: decisionProblems,
    })),
  ),
  {
    method: 'post',
    path: '/',
    operationId: 'decideDefault',
    tag: 'Decisions',
    summary: "The tenant's default decision",
    description:
      "OPA's default decision: the whole body is the input, the answer the decision's bare value. The tenant's `default_decision` names the rule (`system/main` unless set).",
    access: { kind: 'api-key', scope: 'decide' },
    query: decisionFlags.filter((flag) => flag.name === 'pretty' || flag.name === 'explain'),
    body: {
      types: [json],
      schema: { type: ['object', 'array'] },
      required: false,
      description:
        'The input: a JSON object or array, not wrapped in `{"input": ...}`. No body is no input.',
    },
    answers: {
      200: {
        description: "The decision's value.",
        content: { [json]: anyJson },
        headers: {
          'X-Decision-Id': { description: "The id of the decision's audit row.", required: true },
        },
      },
    },
    problems: {
      404: 'The default decision is undefined (`undefined_document`): no bundle holds it, or it is undefined for this input.',
      ...decisionProblems,
    },
  },
  ...['/v1/batch/data', '/v1/batch/data/{path}'].map((path): Operation => ({
    method: 'post',
    path,
    operationId: path.endsWith('}') ? 'decideBatch' : 'decideBatchRoot',
    tag: 'Decisions',
    summary: `Decide many inputs at once${path.endsWith('}') ? '' : ' on the whole data document'}`,
    description: 'Each input is its own decision, with its own id and audit row. At most 1000.',
    access: { kind: 'api-key', scope: 'decide' },
    query: decisionFlags,
    body: jsonBody('BatchRequest'),
    answers: {
      200: jsonAnswer('Every input decided.', 'BatchResult'),
      207: jsonAnswer(
        'Some inputs failed: every response carries its own `http_status_code`.',
        'BatchResult',
      ),
      500: jsonAnswer(
        'Every input failed: each response is an error (as Enterprise OPA answers).',
        'BatchResult',
      ),
    },
    problems: { 503: decisionProblems[503] },
  })),
  ...(['get', 'post'] as const).map((method): Operation => ({
    method,
    path: '/v1/casl/{bundle}/rules',
    operationId: method === 'get' ? 'caslRules' : 'caslRulesFor',
    tag: 'CASL',
    summary: `A user's CASL rules (${method === 'get' ? 'principal in the query' : 'principal in the body'})`,
    description:
      "The rules of the user's roles and then the rules for everyone, `${user...}` templates filled in: `createMongoAbility(unpackRules(rules))`.",
    access: { kind: 'api-key', scope: 'decide' },
    query: [
      ...(method === 'get'
        ? [
            {
              name: 'user',
              description:
                'The principal as URL-encoded JSON: `{"id": "u1", "roles": ["editor"]}`.',
              schema: { type: 'string' },
              required: true,
            },
          ]
        : []),
      {
        name: 'packed',
        description: '`false` gives raw rule objects instead of packed ones.',
        schema: { type: 'string', enum: ['true', 'false'] },
      },
    ],
    ...(method === 'post' ? { body: jsonBody('CaslRulesRequest') } : {}),
    answers: { 200: jsonAnswer('The rules.', 'CaslRules') },
    problems: {
      400: 'No principal, or one that is not a JSON object; or the bundle is a Rego bundle.',
      404: 'The tenant has no active bundle of that name.',
    },
  })),
];
