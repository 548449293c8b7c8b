/**
 * The OpenAPI document: valid against the OpenAPI 3.1 schema, every schema in it compiles with
 * ajv in strict mode (JSON Schema 2020-12), access is what the platform policy grants, the
 * shared problems are where they belong, and request bodies accept exactly what the routes'
 * ajv validators accept.
 */
import Ajv from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { buildDocument, type OpenApiDocument } from '../../../../api/openapi/document';
import type { Operation } from '../../../../api/openapi/route-table';
import { operations } from '../../../../api/openapi/routes';
import { securityOf } from '../../../../api/openapi/security';
import {
  createApiKeySchema,
  createTenantSchema,
  updateTenantSchema,
} from '../../../../api/schemas/admin';
import { activateBundleSchema, signingKeySchema } from '../../../../api/schemas/bundles';
import {
  changePasswordSchema,
  createUserSchema,
  loginSchema,
  mfaSchema,
} from '../../../../api/schemas/identity';
import { startRolloutSchema } from '../../../../api/schemas/rollouts';

const document = buildDocument();
const id = 'https://verdict.invalid/openapi.json';

function operation(method: string, path: string): Record<string, unknown> {
  const found = document.paths[path]?.[method];
  if (found === undefined) throw new Error(`no ${method} ${path}`);
  return found;
}

function documentAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
  addFormats(ajv);
  ajv.addVocabulary(['openapi', 'info', 'paths', 'components', 'tags']);
  ajv.addSchema({ ...document, $id: id });
  return ajv;
}

/** JSON pointers (as URI fragments) of every schema the document holds. */
function schemaPointers(doc: OpenApiDocument): string[] {
  const pointers: string[] = [];
  const escape = (text: string) =>
    encodeURIComponent(text.replace(/~/gu, '~0').replace(/\//gu, '~1'));
  const visit = (value: unknown, pointer: string): void => {
    if (typeof value !== 'object' || value === null) return;
    for (const [key, child] of Object.entries(value)) {
      const at = `${pointer}/${escape(key)}`;
      if (key === 'schema' || key === 'x-item-schema') pointers.push(at);
      else visit(child, at);
    }
  };
  visit(doc.paths, '#/paths');
  visit(doc.components.responses, '#/components/responses');
  for (const name of Object.keys(doc.components.schemas)) {
    pointers.push(`#/components/schemas/${name}`);
  }
  return pointers;
}

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const { Validator } = await import('@seriousme/openapi-schema-validator');
    const result = await new Validator().validate(
      JSON.parse(JSON.stringify(document)) as Record<string, unknown>,
    );
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(document.openapi).toBe('3.1.0');
  });

  it('holds only schemas that compile in strict JSON Schema 2020-12', () => {
    const ajv = documentAjv();
    const pointers = schemaPointers(document);
    expect(pointers.length).toBeGreaterThan(300);
    for (const pointer of pointers) {
      expect([pointer, typeof ajv.getSchema(`${id}${pointer}`)]).toEqual([pointer, 'function']);
    }
  });

  it('has one operation per route table entry, each with a unique id', () => {
    const ids = Object.values(document.paths).flatMap((methods) =>
      Object.values(methods).map((op) => op.operationId),
    );
    expect(ids).toHaveLength(operations.length);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('declares each path parameter of each template', () => {
    for (const [path, methods] of Object.entries(document.paths)) {
      const names = [...path.matchAll(/\{([^}]+)\}/gu)].map((m) => m[1]);
      for (const op of Object.values(methods)) {
        const inPath = ((op.parameters ?? []) as { in: string; name: string }[])
          .filter((p) => p.in === 'path')
          .map((p) => p.name);
        expect(inPath).toEqual(names);
      }
    }
  });

  it('refuses a route table that lists an operation twice', () => {
    const [first] = operations as [Operation];
    expect(() => buildDocument([first, { ...first, operationId: 'again' }])).toThrow(/twice/u);
  });
});

describe('access', () => {
  it('is what the platform policy grants for admin routes', () => {
    expect(operation('post', '/v1/tenants/{tenant}/bundles').security).toEqual([
      { adminToken: [] },
      { accessToken: ['platform-admin', 'tenant-admin', 'policy-author'] },
      { apiKey: ['bundles:write'] },
    ]);
    // Platform actions: no tenant role and no API key.
    expect(operation('post', '/v1/tenants').security).toEqual([
      { adminToken: [] },
      { accessToken: ['platform-admin'] },
    ]);
    // Any of several scopes: one requirement each.
    expect(operation('get', '/v1/tenants/{tenant}').security).toEqual(
      expect.arrayContaining([
        { apiKey: ['decide'] },
        { apiKey: ['bundles:write'] },
        { apiKey: ['audit:read'] },
      ]),
    );
    const activate = operation('post', '/v1/tenants/{tenant}/bundles/{name}/activate');
    expect(activate['x-verdict-action']).toBe('bundles.activate');
    expect(activate.description).toMatch(/whose session passed MFA/u);
  });

  it("names the decision routes' scope, the user routes' token, and no credential for public ones", () => {
    expect(operation('post', '/v1/data/{path}').security).toEqual([{ apiKey: ['decide'] }]);
    expect(operation('get', '/v1/users/me').security).toEqual([{ accessToken: [] }]);
    expect(operation('post', '/v1/auth/login').security).toEqual([]);
    expect(operation('get', '/metrics').security).toEqual([{}, { metricsToken: [] }]);
  });

  it('refuses an action the policy does not know', () => {
    expect(() => securityOf({ kind: 'policy', action: 'tenants.delete' })).toThrow(/no action/u);
  });
});

describe('shared problems', () => {
  const ref = (status: number) => ({ $ref: `#/components/responses/Problem${status}` });

  it('gives credentialed routes 401, 403 and 503, and every route 400, 429 and 500', () => {
    const { responses } = operation('get', '/v1/tenants') as { responses: Record<string, unknown> };
    for (const status of [400, 401, 403, 429, 500, 503]) {
      expect(responses[String(status)]).toEqual(ref(status));
    }
    expect(responses['413']).toBeUndefined();
  });

  it('gives routes with a body 413 and 415, and the probes no rate limit', () => {
    const push = operation('post', '/v1/tenants') as { responses: Record<string, unknown> };
    expect(push.responses['413']).toEqual(ref(413));
    expect(push.responses['415']).toEqual(ref(415));
    const live = operation('get', '/health/live') as { responses: Record<string, unknown> };
    expect(Object.keys(live.responses)).toEqual(['200', '400', '500']);
  });

  it("keeps a route's own description of a status, and merges an answer with a problem", () => {
    const push = operation('post', '/v1/tenants/{tenant}/bundles') as {
      responses: Record<string, { description: string }>;
    };
    expect(push.responses['409']?.description).toMatch(/another revision/u);
    const batch = operation('post', '/v1/batch/data/{path}') as {
      responses: Record<string, { content: Record<string, { schema: unknown }> }>;
    };
    expect(batch.responses['500']?.content['application/json']?.schema).toEqual({
      anyOf: [
        { $ref: '#/components/schemas/BatchResult' },
        { $ref: '#/components/schemas/Problem500' },
      ],
    });
  });

  it('narrows each problem to its status and its codes', () => {
    const ajv = documentAjv();
    const notFound = ajv.getSchema(`${id}#/components/schemas/Problem404`);
    const problem = {
      type: 'urn:verdict:problem:not_found',
      title: 'Not found',
      status: 404,
      detail: 'No tenant',
      instance: '/v1/tenants/x',
      code: 'not_found',
    };
    expect(notFound?.(problem)).toBe(true);
    expect(notFound?.({ ...problem, status: 400 })).toBe(false);
    expect(notFound?.({ ...problem, code: 'bad_request' })).toBe(false);
  });
});

describe('request bodies', () => {
  const pairs: [string, object, readonly unknown[]][] = [
    [
      'CreateTenantRequest',
      createTenantSchema,
      [{ slug: 'acme', name: 'Acme', audit_retention_days: null }],
    ],
    ['UpdateTenantRequest', updateTenantSchema, [{ name: 'Acme' }, { audit_retention_days: 30 }]],
    [
      'CreateApiKeyRequest',
      createApiKeySchema,
      [{ name: 'k', scopes: ['decide'], expires_in: '30d' }],
    ],
    ['ActivateBundleRequest', activateBundleSchema, [{ version: '1.2.3-rc.1' }]],
    ['SigningKeyRequest', signingKeySchema, [{ public_key: null, require_signed: false }]],
    ['StartRolloutRequest', startRolloutSchema, [{ version: '1.0.0', mode: 'canary', percent: 5 }]],
    ['LoginRequest', loginSchema, [{ email: 'a@b', password: 'x' }]],
    ['MfaRequest', mfaSchema, [{ mfa_token: 'vmt_x', code: '123456' }]],
    ['ChangePasswordRequest', changePasswordSchema, [{ current_password: 'a', new_password: 'b' }]],
    [
      'CreateUserRequest',
      createUserSchema,
      [{ email: 'a@b.c', role: 'auditor', display_name: null }],
    ],
  ];

  it.each(pairs)('%s accepts what the route validator accepts', (name, schema, valid) => {
    const routeAjv = new Ajv({ strict: true });
    const route = routeAjv.compile(schema);
    const documented = documentAjv().getSchema(`${id}#/components/schemas/${name}`);
    if (documented === undefined) throw new Error(`no schema ${name}`);
    for (const body of valid) {
      expect([body, route(body), documented(body)]).toEqual([body, true, true]);
    }
    const keys = Object.keys((schema as { properties: object }).properties);
    const member = fc.oneof(
      fc.constantFrom(...valid.flatMap((body) => Object.values(body as object) as unknown[])),
      fc.constant(null),
      fc.string(),
      fc.integer(),
      fc.boolean(),
      fc.array(fc.constantFrom('decide', 'audit:read', 'x')),
    );
    const body = fc.dictionary(fc.constantFrom(...keys, 'other'), member, {
      maxKeys: keys.length + 1,
    });
    fc.assert(
      fc.property(fc.oneof(body, fc.jsonValue()), (value) => route(value) === documented(value)),
      { numRuns: 300 },
    );
  });
});
