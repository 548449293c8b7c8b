/**
 * A small HTTP client for end-to-end tests: JSON or raw bodies, a bearer token, and the parsed
 * answer (problem+json included).
 */
export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export interface CallOptions {
  readonly token?: string;
  readonly json?: unknown;
  readonly body?: Uint8Array;
  readonly type?: string;
}

export async function call(
  baseUrl: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: string | Uint8Array | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.body !== undefined) {
    headers['content-type'] = options.type ?? 'application/gzip';
    body = options.body;
  }
  const res = await fetch(`${baseUrl}${path}`, { method, headers, ...(body ? { body } : {}) });
  const text = await res.text();
  return {
    status: res.status,
    body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
  };
}

/**
 * Creates tenant `acme` with a `decide` key and examples/rbac pushed and activated, through
 * the admin API at `baseUrl`; resolves to the tenant's id and the key. Throws on any refusal.
 */
export async function setUpAcmeWithRbac(
  baseUrl: string,
  adminToken: string,
  bundle: Uint8Array,
): Promise<{ tenantId: string; key: string }> {
  const step = async (path: string, options: CallOptions, expected: number): Promise<Answer> => {
    const answer = await call(baseUrl, 'POST', path, { token: adminToken, ...options });
    if (answer.status !== expected) {
      throw new Error(`POST ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    }
    return answer;
  };
  const tenant = await step('/v1/tenants', { json: { slug: 'acme', name: 'Acme' } }, 201);
  const key = await step(
    '/v1/tenants/acme/keys',
    { json: { name: 'backend', scopes: ['decide'] } },
    201,
  );
  await step('/v1/tenants/acme/bundles', { body: bundle }, 201);
  await step('/v1/tenants/acme/bundles/rbac/activate', { json: { version: '1.0.0' } }, 200);
  return { tenantId: tenant.body.id as string, key: key.body.key as string };
}
