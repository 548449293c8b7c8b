/**
 * The route table: every operation the server answers, the one source the OpenAPI document
 * (api/openapi/document.ts) and its reference page are built from, one file per area. A route
 * added to the app without an entry here fails test/integration/openapi.test.ts, which names it.
 */
import { SEMVER } from '../../../policies/bundle/manifest';
import { uuid } from '../../schemas/responses/common';
import type { Operation, Parameter, Tag } from '../route-table';
import { bundleOperations } from './bundles';
import { consoleSessionOperations } from './console';
import { decisionLogOperations } from './decision-log';
import { decisionOperations } from './decisions';
import { identityOperations } from './identity';
import { rolloutOperations } from './rollouts';
import { serviceOperations } from './service';
import { tenantOperations } from './tenants';

export const tags: readonly Tag[] = [
  { name: 'Decisions', description: "Ask for decisions: OPA's data API, with a tenant API key." },
  { name: 'CASL', description: "A user's CASL rules, for front ends that build an `Ability`." },
  { name: 'Tenants', description: 'Tenants (platform admins).' },
  { name: 'API keys', description: "A tenant's API keys: created, listed, revoked." },
  { name: 'Bundles', description: "A tenant's bundle registry: push, list, download, activate." },
  { name: 'Rollouts', description: 'Canary and shadow rollouts of a bundle version.' },
  { name: 'Replay', description: 'Recorded decisions asked again of a candidate bundle.' },
  { name: 'Decision log', description: "A tenant's decision log, for auditors." },
  { name: 'Identity', description: 'Logins, tokens, sessions, and the signed-in user.' },
  { name: 'Users', description: 'User administration in a tenant, and platform admins.' },
  { name: 'Service', description: 'Probes, metrics, this reference and the auditor console.' },
];

/** Path parameters, by the name the Express routes give them. */
export const pathParameters: Readonly<Record<string, Omit<Parameter, 'name'>>> = {
  tenant: {
    description:
      "The tenant: its slug (`acme`) or its id. The decision-log routes also take `platform`, the platform policy's own log (platform admins).",
    schema: { type: 'string', minLength: 1 },
  },
  keyId: { description: "The API key's id.", schema: uuid },
  userId: { description: "The user's id.", schema: uuid },
  sessionId: { description: "The session's id.", schema: uuid },
  id: { description: 'The decision id.', schema: uuid },
  name: {
    description: "The bundle's name (its manifest's `name`).",
    schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,127}$' },
  },
  version: { description: 'A semantic version.', schema: { type: 'string', pattern: SEMVER } },
  bundle: {
    description: 'The name of a CASL bundle the tenant has activated.',
    schema: { type: 'string', minLength: 1 },
  },
  path: {
    description:
      'The data path, slashes included: `rbac/allow` asks `data.rbac.allow`. Left out (`/v1/data`), the whole data document.',
    schema: { type: 'string', minLength: 1 },
  },
  file: {
    description: 'A file of the console: `console.js`, `console.css`, ...',
    schema: { type: 'string', minLength: 1 },
  },
};

export const operations: readonly Operation[] = [
  ...serviceOperations,
  ...consoleSessionOperations,
  ...decisionOperations,
  ...tenantOperations,
  ...bundleOperations,
  ...rolloutOperations,
  ...decisionLogOperations,
  ...identityOperations,
];
