/** The bundle registry: push, list, download, activate; the signing key. */
import type { Operation, Parameter } from '../route-table';
import { jsonAnswer, jsonBody, tenantNotFound } from './shared';
import { SEMVER } from '../../../policies/bundle/manifest';
import { bundleContentTypes } from '../../routes/bundles';

export const manifestOverrides: readonly Parameter[] = [
  {
    name: 'name',
    description: "The bundle's name, for a bundle whose `.manifest` has none (`opa build`).",
    schema: { type: 'string', minLength: 1 },
  },
  {
    name: 'version',
    description: "The bundle's version, for a bundle whose `.manifest` has none.",
    schema: { type: 'string', pattern: SEMVER },
  },
];

const bundleVersionAnswer = (description: string) => jsonAnswer(description, 'BundleVersion');

export const bundleOperations: readonly Operation[] = [
  {
    method: 'post',
    path: '/v1/tenants/{tenant}/bundles',
    operationId: 'pushBundle',
    tag: 'Bundles',
    summary: 'Push a bundle (.tar.gz)',
    description:
      "The archive is read, its signature checked against the tenant's signing key, its `.manifest` checked, and its `policy.wasm` loaded or its sources compiled. Versions never change: the same version again is a 200 when its revision is the same, a 409 when it differs.",
    access: { kind: 'policy', action: 'bundles.push' },
    query: manifestOverrides,
    body: {
      types: bundleContentTypes,
      schema: { type: 'string', contentEncoding: 'binary' },
      description: 'The bundle, at most 20 MiB.',
    },
    answers: {
      201: bundleVersionAnswer('The new version.'),
      200: bundleVersionAnswer('This version with this revision was stored already.'),
    },
    problems: {
      400: 'An empty body, or a query parameter that contradicts the manifest.',
      404: tenantNotFound,
      409: 'The version exists with another revision: publish a new version.',
      422: 'The bundle was refused (`invalid_bundle`): `problems`, and compile errors with their places in `errors`.',
    },
  },
  {
    method: 'get',
    path: '/v1/tenants/{tenant}/bundles',
    operationId: 'listBundles',
    tag: 'Bundles',
    summary: "List a tenant's bundles, by name",
    access: { kind: 'policy', action: 'bundles.read' },
    answers: { 200: jsonAnswer('The bundles.', 'BundleList') },
    problems: { 404: tenantNotFound },
  },
  {
    method: 'get',
    path: '/v1/tenants/{tenant}/bundles/{name}/versions',
    operationId: 'listBundleVersions',
    tag: 'Bundles',
    summary: "List a bundle's versions, newest first",
    access: { kind: 'policy', action: 'bundles.read' },
    answers: { 200: jsonAnswer('The versions.', 'BundleVersionList') },
    problems: { 404: 'No such tenant or bundle.' },
  },
  {
    method: 'get',
    path: '/v1/tenants/{tenant}/bundles/{name}/versions/{version}',
    operationId: 'getBundleVersion',
    tag: 'Bundles',
    summary: 'Read a bundle version',
    access: { kind: 'policy', action: 'bundles.read' },
    answers: { 200: bundleVersionAnswer('The version.') },
    problems: { 404: 'No such tenant, bundle or version.' },
  },
  {
    method: 'get',
    path: '/v1/tenants/{tenant}/bundles/{name}/versions/{version}/download',
    operationId: 'downloadBundleVersion',
    tag: 'Bundles',
    summary: 'Download a bundle version as uploaded',
    access: { kind: 'policy', action: 'bundles.read' },
    answers: {
      200: {
        description: 'The .tar.gz exactly as uploaded.',
        content: { 'application/gzip': { type: 'string', contentEncoding: 'binary' } },
        headers: {
          'Content-Disposition': {
            description: '`attachment; filename="<name>-<version>.tar.gz"`.',
            required: true,
          },
        },
      },
    },
    problems: { 404: 'No such tenant, bundle or version.' },
  },
  {
    method: 'post',
    path: '/v1/tenants/{tenant}/bundles/{name}/activate',
    operationId: 'activateBundle',
    tag: 'Bundles',
    summary: "Make a version the tenant's stable version",
    description:
      'Every instance hears of it on the `verdict:bundles` channel. Activating the stable version again is harmless.',
    access: { kind: 'policy', action: 'bundles.activate' },
    body: jsonBody('ActivateBundleRequest'),
    answers: { 200: bundleVersionAnswer('The version, now `stable`.') },
    problems: {
      404: 'No such tenant, bundle or version.',
      409: 'The bundle has an active rollout: promote, roll back or abort it instead.',
      503: 'The activation is stored but could not be published (`cache_unavailable`): activate again once the cache is back; or the database is unavailable.',
    },
  },
  {
    method: 'put',
    path: '/v1/tenants/{tenant}/signing-key',
    operationId: 'setSigningKey',
    tag: 'Bundles',
    summary: "Set or remove the tenant's bundle signing key",
    access: { kind: 'policy', action: 'tenants.signing-key' },
    body: jsonBody('SigningKeyRequest'),
    answers: { 200: jsonAnswer('The signing settings.', 'SigningSettings') },
    problems: { 404: tenantNotFound },
  },
];
