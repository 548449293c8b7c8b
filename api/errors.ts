/**
 * The one error type of the service. Every failure that can reach an operator or an HTTP
 * client is a `VerdictError` with a stable `code`: clients and scripts match on the code,
 * never on the wording of the message, so the wording may improve without breaking anyone.
 */

/** Each code with the HTTP status and short title it maps to. Codes are never renamed. */
export const errorCatalogue = {
  bad_request: { status: 400, title: 'Bad request' },
  invalid_json: { status: 400, title: 'Request body is not valid JSON' },
  unauthorized: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Forbidden' },
  csrf_failed: { status: 403, title: 'Cross-site request refused' },
  not_found: { status: 404, title: 'Not found' },
  undefined_document: { status: 404, title: 'Decision undefined' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  request_timeout: { status: 408, title: 'Request timeout' },
  conflict: { status: 409, title: 'Conflict' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  invalid_bundle: { status: 422, title: 'Invalid bundle' },
  too_many_requests: { status: 429, title: 'Too many requests' },
  headers_too_large: { status: 431, title: 'Request header fields too large' },
  internal: { status: 500, title: 'Internal error' },
  policy_error: { status: 500, title: 'Policy evaluation failed' },
  policy_limit_exceeded: { status: 503, title: 'Policy evaluation limit exceeded' },
  bundle_unavailable: { status: 503, title: 'Policy bundle unavailable' },
  config_invalid: { status: 500, title: 'Invalid configuration' },
  not_ready: { status: 503, title: 'Service not ready' },
  admin_api_disabled: { status: 503, title: 'Admin API disabled' },
  database_unavailable: { status: 503, title: 'Database unavailable' },
  embedded_database_locked: { status: 503, title: 'Embedded database in use' },
  cache_unavailable: { status: 503, title: 'Cache unavailable' },
  migration_failed: { status: 500, title: 'Migration failed' },
  address_in_use: { status: 500, title: 'Address in use' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

export interface VerdictErrorOptions {
  /** The underlying error, kept for logs; never sent to clients. */
  cause?: unknown;
  /** Extra members for the problem+json body (RFC 9457 extension members). */
  extensions?: Readonly<Record<string, unknown>>;
}

export class VerdictError extends Error {
  override readonly name = 'VerdictError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  /** Human-readable explanation of this occurrence: what went wrong and what to do next. */
  readonly detail: string;
  readonly extensions: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, detail: string, options: VerdictErrorOptions = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    const entry = errorCatalogue[code];
    this.code = code;
    this.status = entry.status;
    this.title = entry.title;
    this.detail = detail;
    this.extensions = options.extensions ?? {};
  }
}

export function isVerdictError(value: unknown): value is VerdictError {
  return value instanceof VerdictError;
}

/** A message for logs and CLI output from anything thrown. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
