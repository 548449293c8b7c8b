/**
 * Bodies of the decision API (OPA's data API) and of the CASL rules route, as JSON Schema
 * 2020-12 for the OpenAPI document. The routes (api/routes/data.ts, data-lane.ts, casl.ts)
 * check these shapes by hand, with OPA's answers for each deviation (a body that is not an
 * object, inputs nested too deep), so these schemas describe rather than validate.
 */
import type { JsonSchema } from './json-schema';

export const decisionRequestSchema: JsonSchema = {
  type: 'object',
  description:
    'The whole body may be left out: no input. `{"input": null}` is an input of null. Other members are ignored, as OPA does.',
  properties: {
    input: { description: 'The input document the policy reads as `input` (any JSON value).' },
  },
};

export const batchRequestSchema: JsonSchema = {
  type: 'object',
  properties: {
    inputs: {
      type: 'object',
      maxProperties: 1000,
      additionalProperties: { description: 'One input document.' },
      description: "Inputs by an id of the caller's choosing; each is its own decision.",
    },
  },
  required: ['inputs'],
};

export const caslRulesRequestSchema: JsonSchema = {
  type: 'object',
  properties: {
    user: {
      type: 'object',
      description: 'The principal the rules are for, e.g. `{"id": "u1", "roles": ["editor"]}`.',
    },
  },
  required: ['user'],
};
