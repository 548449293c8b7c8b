/** The service's own routes: probes, metrics, this document and its page, the auditor console. */
import type { Operation } from '../route-table';
import { json, jsonAnswer } from './shared';
import { failedChecksSchema } from '../../schemas/responses/health';
import { problemWithStatus } from '../../schemas/responses/problem';

export const serviceOperations: readonly Operation[] = [
  {
    method: 'get',
    path: '/health/live',
    operationId: 'live',
    tag: 'Service',
    summary: 'Liveness: the process serves HTTP',
    access: { kind: 'public' },
    unlimited: true,
    answers: { 200: jsonAnswer('Live.', 'Live') },
  },
  {
    method: 'get',
    path: '/health/ready',
    operationId: 'ready',
    tag: 'Service',
    summary: 'Readiness: decisions can be answered',
    description:
      'Checks the database, and Redis when configured, and shows each circuit breaker. A failing Redis, or a failing database while tenants are loaded, answers 200 `degraded`: decisions still work. Never cached.',
    access: { kind: 'public' },
    unlimited: true,
    answers: { 200: jsonAnswer('Ready (or degraded), with each check.', 'Ready') },
    problems: {
      503: {
        description:
          'Not ready (`not_ready`): shutting down, or a dependency failed (`checks` says which, and why).',
        schema: problemWithStatus(503, { checks: failedChecksSchema }),
      },
    },
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    tag: 'Service',
    summary: 'Prometheus metrics',
    description:
      'The Prometheus text exposition format. With `VERDICT_METRICS=off` the route answers 404; with `VERDICT_METRICS_TOKEN` set it needs that token as a bearer token.',
    access: { kind: 'metrics' },
    answers: {
      200: {
        description: 'The metrics.',
        content: { 'text/plain; version=0.0.4': { type: 'string' } },
      },
    },
    problems: {
      401: 'A metrics token is configured and the request did not send it.',
      404: 'Metrics are off (`VERDICT_METRICS=off`).',
    },
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'openapi',
    tag: 'Service',
    summary: 'This API as an OpenAPI 3.1 document',
    access: { kind: 'public' },
    answers: {
      200: {
        description: 'The document. Cacheable; send `If-None-Match` with its ETag.',
        content: {
          [json]: {
            type: 'object',
            properties: {
              openapi: { const: '3.1.0' },
              info: { type: 'object' },
              paths: { type: 'object' },
            },
            required: ['openapi', 'info', 'paths'],
          },
        },
        headers: { ETag: { description: 'The version of the document.', required: true } },
      },
      304: { description: 'Not modified since the ETag sent in `If-None-Match`.' },
    },
  },
  {
    method: 'get',
    path: '/docs',
    operationId: 'reference',
    tag: 'Service',
    summary: 'This API as a browsable page',
    description: 'The OpenAPI document rendered as HTML: operations by tag, then the schemas.',
    access: { kind: 'public' },
    answers: {
      200: { description: 'The page.', content: { 'text/html': { type: 'string' } } },
      304: { description: 'Not modified since the ETag sent in `If-None-Match`.' },
    },
  },
  {
    method: 'get',
    path: '/console',
    operationId: 'consoleRedirect',
    tag: 'Service',
    summary: 'The auditor console (redirects to /console/)',
    access: { kind: 'public' },
    answers: {
      301: {
        description: 'Moved to `/console/`.',
        content: { 'text/html': { type: 'string' } },
        headers: { Location: { description: '`/console/`.', required: true } },
      },
    },
  },
  {
    method: 'get',
    path: '/console/',
    operationId: 'console',
    tag: 'Service',
    summary: 'The auditor console page',
    description:
      'A read-only page over the decision-log API; it asks for an API key with `audit:read` or the admin token.',
    access: { kind: 'public' },
    answers: {
      200: { description: 'The page.', content: { 'text/html': { type: 'string' } } },
      304: { description: 'Not modified.' },
    },
  },
  {
    method: 'get',
    path: '/console/{file}',
    operationId: 'consoleFile',
    tag: 'Service',
    summary: "A file of the auditor console's page",
    access: { kind: 'public' },
    answers: {
      200: {
        description: 'The file.',
        content: {
          'text/javascript': { type: 'string' },
          'text/css': { type: 'string' },
          'text/html': { type: 'string' },
        },
      },
      304: { description: 'Not modified.' },
    },
    problems: { 404: 'No such file.' },
  },
];
