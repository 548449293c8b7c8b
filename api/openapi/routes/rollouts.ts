/** Rollouts of a bundle version, and replays of recorded decisions against a candidate. */
import type { Operation, Parameter } from '../route-table';
import { jsonAnswer, jsonBody, tenantNotFound } from './shared';
import { bundleContentTypes } from '../../routes/bundles';
import { manifestOverrides } from './bundles';

const replayQuery: readonly Parameter[] = [
  {
    name: 'since',
    description: 'A duration back from now: `90m`, `24h`, `7d` (default `24h` without a window).',
    schema: { type: 'string', pattern: '^[1-9][0-9]{0,5}[smhd]$' },
  },
  {
    name: 'from',
    description: 'Start of the window instead of `since`.',
    schema: { type: 'string', format: 'date-time' },
  },
  {
    name: 'to',
    description: 'End of the window (default now).',
    schema: { type: 'string', format: 'date-time' },
  },
  {
    name: 'limit',
    description: 'Replay at most this many decisions (default 100000).',
    schema: { type: 'string', pattern: '^[0-9]{1,7}$' },
  },
  {
    name: 'path',
    description: 'Only decisions at this data path or below it (`rbac` takes `rbac/allow`).',
    schema: { type: 'string', minLength: 1 },
  },
  {
    name: 'samples',
    description: 'Changed decisions returned in full, 0 to 1000 (default 20).',
    schema: { type: 'string', pattern: '^[0-9]{1,4}$' },
  },
  ...manifestOverrides,
];

const rolloutAnswer = (description: string) => jsonAnswer(description, 'Rollout');

export const rolloutOperations: readonly Operation[] = [
  {
    method: 'get',
    path: '/v1/tenants/{tenant}/rollouts',
    operationId: 'listRollouts',
    tag: 'Rollouts',
    summary: "The tenant's active rollouts, with their figures",
    access: { kind: 'policy', action: 'rollouts.read' },
    answers: { 200: jsonAnswer('The rollouts.', 'RolloutReportList') },
    problems: { 404: tenantNotFound },
  },
  {
    method: 'get',
    path: '/v1/tenants/{tenant}/bundles/{name}/rollouts',
    operationId: 'getBundleRollouts',
    tag: 'Rollouts',
    summary: "A bundle's latest rollout and its history",
    access: { kind: 'policy', action: 'rollouts.read' },
    answers: { 200: jsonAnswer('The latest rollout and the history.', 'BundleRollouts') },
    problems: { 404: 'No such tenant or bundle.' },
  },
  {
    method: 'post',
    path: '/v1/tenants/{tenant}/bundles/{name}/rollouts',
    operationId: 'startRollout',
    tag: 'Rollouts',
    summary: 'Start a canary or a shadow',
    access: { kind: 'policy', action: 'rollouts.write' },
    body: jsonBody('StartRolloutRequest'),
    answers: { 201: rolloutAnswer('The rollout.') },
    problems: {
      404: 'No such tenant, bundle or version.',
      409: 'The bundle has an active rollout already, or no stable version to compare with.',
    },
  },
  ...(['promote', 'rollback', 'abort'] as const).map((action): Operation => ({
    method: 'post',
    path: `/v1/tenants/{tenant}/bundles/{name}/rollouts/${action}`,
    operationId: `${action}Rollout`,
    tag: 'Rollouts',
    summary: {
      promote: 'Promote the candidate to stable',
      rollback: 'Roll back (an active rollout, or the last promotion)',
      abort: 'Abort the active rollout, stable unchanged',
    }[action],
    access: { kind: 'policy', action: 'rollouts.write' },
    answers: { 200: rolloutAnswer('The rollout as it ended.') },
    problems: {
      404: 'No such tenant or bundle, or no active rollout.',
      409: 'Nothing to roll back.',
    },
  })),

  // Replay
  {
    method: 'post',
    path: '/v1/tenants/{tenant}/replay',
    operationId: 'replay',
    tag: 'Replay',
    summary: 'Replay recorded decisions against a candidate bundle',
    description:
      'The candidate is checked and compiled as a push is, never stored. The decisions recorded for its bundle name in the window are evaluated again and compared.',
    access: { kind: 'policy', action: 'replay.run' },
    query: replayQuery,
    body: {
      types: bundleContentTypes,
      schema: { type: 'string', contentEncoding: 'binary' },
      description: 'The candidate bundle, at most 20 MiB.',
    },
    answers: { 200: jsonAnswer('What would change.', 'ReplayReport') },
    problems: {
      400: 'An empty body, or a bad query parameter (`field` names it).',
      404: tenantNotFound,
      422: 'The candidate was refused (`invalid_bundle`).',
    },
  },
];
