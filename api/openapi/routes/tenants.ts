/** Tenants and their API keys. */
import type { Operation } from '../route-table';
import { jsonAnswer, jsonBody, noStore, location, tenantNotFound } from './shared';

export const tenantOperations: readonly Operation[] = [
  {
    method: 'post',
    path: '/v1/tenants',
    operationId: 'createTenant',
    tag: 'Tenants',
    summary: 'Create a tenant',
    access: { kind: 'policy', action: 'tenants.create' },
    body: jsonBody('CreateTenantRequest'),
    answers: { 201: jsonAnswer('The tenant.', 'Tenant', location('the tenant')) },
    problems: { 409: 'The slug is taken.' },
  },
  {
    method: 'get',
    path: '/v1/tenants',
    operationId: 'listTenants',
    tag: 'Tenants',
    summary: 'List tenants, by slug',
    access: { kind: 'policy', action: 'tenants.list' },
    answers: { 200: jsonAnswer('The tenants.', 'TenantList') },
  },
  {
    method: 'get',
    path: '/v1/tenants/{tenant}',
    operationId: 'getTenant',
    tag: 'Tenants',
    summary: 'Read a tenant',
    access: { kind: 'policy', action: 'tenants.read' },
    answers: { 200: jsonAnswer('The tenant.', 'Tenant') },
    problems: { 404: tenantNotFound },
  },
  {
    method: 'patch',
    path: '/v1/tenants/{tenant}',
    operationId: 'updateTenant',
    tag: 'Tenants',
    summary: "Change a tenant's name, retention or default decision",
    access: { kind: 'policy', action: 'tenants.update' },
    body: jsonBody('UpdateTenantRequest', 'At least one member; the slug cannot change.'),
    answers: { 200: jsonAnswer('The tenant changed.', 'Tenant') },
    problems: { 404: tenantNotFound },
  },

  // API keys
  {
    method: 'post',
    path: '/v1/tenants/{tenant}/keys',
    operationId: 'createApiKey',
    tag: 'API keys',
    summary: 'Create an API key',
    access: { kind: 'policy', action: 'keys.create' },
    body: jsonBody('CreateApiKeyRequest'),
    answers: {
      201: jsonAnswer('The key, with the key itself: shown this once.', 'NewApiKey', {
        ...location('the key'),
        ...noStore,
      }),
    },
    problems: { 404: tenantNotFound },
  },
  {
    method: 'get',
    path: '/v1/tenants/{tenant}/keys',
    operationId: 'listApiKeys',
    tag: 'API keys',
    summary: "List a tenant's keys, newest first",
    access: { kind: 'policy', action: 'keys.list' },
    answers: { 200: jsonAnswer('The keys, without secrets.', 'ApiKeyList') },
    problems: { 404: tenantNotFound },
  },
  {
    method: 'delete',
    path: '/v1/tenants/{tenant}/keys/{keyId}',
    operationId: 'revokeApiKey',
    tag: 'API keys',
    summary: 'Revoke an API key',
    description: 'Revoking a revoked key again changes nothing.',
    access: { kind: 'policy', action: 'keys.revoke' },
    answers: { 200: jsonAnswer('The revoked key.', 'ApiKey') },
    problems: { 404: 'No such tenant, or it has no such key.' },
  },
];
