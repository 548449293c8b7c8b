/**
 * The shape of the route table (api/openapi/routes/) the OpenAPI document is built from:
 * one entry per operation the server answers, saying who may call it, what it takes and what
 * it answers. Errors every operation of a kind shares (a rate limit, a missing credential, a
 * body that is not JSON) are added by the document builder; an entry lists its own.
 */
import type { ApiKeyScope } from '../models/api-key';
import type { JsonSchema } from '../schemas/json-schema';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * Who may call an operation:
 * - `public`: anyone, no credential;
 * - `api-key`: a tenant API key with the scope (the decision routes, checked without the policy);
 * - `user`: a signed-in user's access token (their own account and sessions);
 * - `policy`: whoever the platform policy allows the action (api/auth/policy/data.json); with
 *   `console`, the auditor console's session cookie is taken too;
 * - `console`: the auditor console's session cookie (its session routes);
 * - `metrics`: anyone, or only holders of the metrics token when one is configured.
 */
export type Access =
  | { readonly kind: 'public' }
  | { readonly kind: 'api-key'; readonly scope: ApiKeyScope }
  | { readonly kind: 'user' }
  | { readonly kind: 'policy'; readonly action: string; readonly console?: boolean }
  | { readonly kind: 'console' }
  | { readonly kind: 'metrics' };

export interface Parameter {
  readonly name: string;
  readonly description: string;
  readonly schema: JsonSchema;
  readonly required?: boolean;
}

export interface RequestBody {
  /** Content types accepted, each with the same schema. */
  readonly types: readonly string[];
  readonly schema: JsonSchema;
  /** Whether a request without a body is refused (default true). */
  readonly required?: boolean;
  readonly description?: string;
}

export interface ResponseHeader {
  readonly description: string;
  /** Whether every response of this status carries it. */
  readonly required?: boolean;
}

export interface Answer {
  readonly description: string;
  /** Body schema by content type; none for an answer without a body. */
  readonly content?: Readonly<Record<string, JsonSchema>>;
  readonly headers?: Readonly<Record<string, ResponseHeader>>;
  /** A line-delimited body: its content type, and the schema of each line. */
  readonly lines?: { readonly type: string; readonly schema: JsonSchema };
}

/** A problem+json answer: why this status, and a schema narrower than the problem's, if any. */
export interface ProblemAnswer {
  readonly description: string;
  readonly schema?: JsonSchema;
}

export interface Operation {
  readonly method: Method;
  /** OpenAPI path template: `/v1/tenants/{tenant}`; names as the Express route's params. */
  readonly path: string;
  readonly operationId: string;
  readonly tag: string;
  readonly summary: string;
  readonly description?: string;
  readonly access: Access;
  readonly query?: readonly Parameter[];
  readonly body?: RequestBody;
  /** Answers that are not problems, by status. */
  readonly answers: Readonly<Record<number, Answer>>;
  /** Problem answers of this operation, by status, besides the shared ones. */
  readonly problems?: Readonly<Record<number, string | ProblemAnswer>>;
  /** Not counted by the rate limits (the health probes). */
  readonly unlimited?: boolean;
}

export interface Tag {
  readonly name: string;
  readonly description: string;
}
