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
