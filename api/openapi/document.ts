/**
 * The OpenAPI 3.1 document of the HTTP API, built from the route table (api/openapi/routes/)
 * and the schemas in api/schemas. Errors shared by a kind of operation are added here: every
 * operation can answer a malformed request (400), a rate limit (429, but the probes) and an
 * internal error (500); those with credentials 401/403 (and 503 when the credential cannot be
 * checked); those with a body 413/415. Every problem goes out as application/problem+json, or
 * as application/json to clients that accept only that (OPA's SDKs).
 */
import { verdictVersion } from '../version';
import type { JsonSchema } from '../schemas/json-schema';
import { problemWithStatus } from '../schemas/responses/problem';
import { componentSchemas } from './components';
import type { Answer, Operation, ProblemAnswer, ResponseHeader } from './route-table';
import { operations, pathParameters, tags } from './routes';
import { securityOf, securitySchemes } from './security';

export type OpenApiDocument = Readonly<Record<string, unknown>> & {
  readonly paths: Readonly<Record<string, Readonly<Record<string, OperationObject>>>>;
  readonly components: {
    readonly schemas: Readonly<Record<string, JsonSchema>>;
    readonly responses: Readonly<Record<string, ResponseObject>>;
    readonly securitySchemes: typeof securitySchemes;
  };
};

export interface OperationObject {
  readonly operationId: string;
  readonly summary: string;
  readonly tags: readonly string[];
  readonly responses: Readonly<Record<string, ResponseObject | Reference>>;
  readonly [member: string]: unknown;
}

export interface Reference {
  readonly $ref: string;
}

export interface HeaderObject {
  readonly description: string;
  readonly required?: boolean;
  readonly schema: JsonSchema;
}

export interface ResponseObject {
  readonly description: string;
  readonly headers?: Readonly<Record<string, HeaderObject>>;
  readonly content?: Readonly<Record<string, MediaTypeObject>>;
}

export interface MediaTypeObject {
  readonly schema: JsonSchema;
  /** The schema of each line of a line-delimited body (as OpenAPI 3.2's `itemSchema`). */
  readonly 'x-item-schema'?: JsonSchema;
}

const problemTypes = ['application/problem+json', 'application/json'];

const sharedProblems: Readonly<Record<number, string>> = {
  400: 'The request is malformed: its URL, a query parameter or its body (`field` names the first offending field, `errors` every one).',
  401: 'No credential, or one that is unknown, revoked or expired.',
  403: 'The credential does not allow this.',
  413: 'The body is too large.',
  415: 'The body is not sent with a content type this operation takes.',
  429: 'A rate limit was reached (`limit` names it): try again after `Retry-After` seconds.',
  500: 'An internal error: the server log has the details under the `requestId`.',
  503: 'The credential could not be checked: the database is unavailable.',
};

/** The problem statuses an operation shares with others of its kind. */
function sharedStatuses(operation: Operation): number[] {
  const statuses = [400, 500];
  if (operation.unlimited !== true) statuses.push(429);
  const { kind } = operation.access;
  if (kind === 'api-key' || kind === 'policy') statuses.push(401, 403, 503);
  if (kind === 'user') statuses.push(401);
  if (kind === 'console') statuses.push(401, 403, 503);
  if (operation.body !== undefined) statuses.push(413, 415);
  return statuses;
}

/**
 * Headers of a problem. A 401 of a bearer credential challenges for one; the login routes'
 * 401s are about the credentials in their body and do not.
 */
function problemHeaders(
  status: number,
  challenge: boolean,
): Readonly<Record<string, ResponseHeader>> | undefined {
  if (status === 401 && challenge) {
    return { 'WWW-Authenticate': { description: '`Bearer realm="verdict"`.', required: true } };
  }
  if (status === 429) {
    return {
      'Retry-After': { description: 'Seconds to wait.' },
      'RateLimit-Limit': { description: 'The limit closest to running out (IETF draft).' },
      'RateLimit-Remaining': { description: 'Requests left in its window.' },
      'RateLimit-Reset': { description: 'Seconds until its window resets.' },
    };
  }
  return undefined;
}

function headerObjects(
  headers: Readonly<Record<string, ResponseHeader>>,
): Record<string, HeaderObject> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, header]) => [
      name,
      { ...header, schema: { type: 'string' } },
    ]),
  );
}

function problemResponse(
  status: number,
  problem: string | ProblemAnswer,
  challenge = true,
): ResponseObject {
  const { description, schema } =
    typeof problem === 'string' ? { description: problem, schema: undefined } : problem;
  const body = schema ?? problemWithStatus(status);
  const headers = problemHeaders(status, challenge);
  return {
    description,
    ...(headers === undefined ? {} : { headers: headerObjects(headers) }),
    content: Object.fromEntries(problemTypes.map((type) => [type, { schema: body }])),
  };
}

function answerResponse(answer: Answer): ResponseObject {
  const content =
    answer.content === undefined
      ? undefined
      : Object.fromEntries(
          Object.entries(answer.content).map(([type, schema]) => [
            type,
            {
              schema,
              ...(answer.lines?.type === type ? { 'x-item-schema': answer.lines.schema } : {}),
            },
          ]),
        );
  return {
    description: answer.description,
    ...(answer.headers === undefined ? {} : { headers: headerObjects(answer.headers) }),
    ...(content === undefined ? {} : { content }),
  };
}

/** One status answered either way (a batch that failed whole, or an internal error). */
function merge(answer: ResponseObject, problem: ResponseObject): ResponseObject {
  const content: Record<string, MediaTypeObject> = { ...problem.content };
  for (const [type, media] of Object.entries(answer.content ?? {})) {
    const other = content[type];
    content[type] =
      other === undefined ? media : { ...media, schema: { anyOf: [media.schema, other.schema] } };
  }
  return {
    description: `${answer.description} Otherwise a problem: ${problem.description}`,
    ...(answer.headers === undefined ? {} : { headers: answer.headers }),
    content,
  };
}

/** The name of the shared problem response of `status` in `#/components/responses`. */
export function sharedResponseName(status: number): string {
  return `Problem${status}`;
}

function sharedResponses(): Record<string, ResponseObject> {
  return Object.fromEntries(
    Object.entries(sharedProblems).map(([status, description]) => [
      sharedResponseName(Number(status)),
      problemResponse(Number(status), description),
    ]),
  );
}

/**
 * The operation's answers and problems by status. A shared problem the operation does not
 * describe itself is a reference to `#/components/responses`.
 */
function responsesOf(operation: Operation): Record<string, ResponseObject | Reference> {
  const own = operation.problems ?? {};
  const responses = new Map<number, ResponseObject | Reference>();
  for (const [status, answer] of Object.entries(operation.answers)) {
    responses.set(Number(status), answerResponse(answer));
  }
  const shared = sharedStatuses(operation).filter((status) => !(status in own));
  const problems = new Map<number, string | ProblemAnswer>([
    ...shared.map((status): [number, string] => [status, sharedProblems[status] as string]),
    ...Object.entries(own).map(([status, problem]): [number, string | ProblemAnswer] => [
      Number(status),
      problem,
    ]),
  ]);
  // A cookie is not asked for with WWW-Authenticate.
  const challenge = operation.access.kind !== 'public' && operation.access.kind !== 'console';
  for (const [status, problem] of problems) {
    const answer = responses.get(status) as ResponseObject | undefined;
    if (answer !== undefined) {
      responses.set(status, merge(answer, problemResponse(status, problem, challenge)));
    } else if (status in own) {
      responses.set(status, problemResponse(status, problem, challenge));
    } else {
      responses.set(status, { $ref: `#/components/responses/${sharedResponseName(status)}` });
    }
  }
  return Object.fromEntries(
    [...responses]
      .sort(([a], [b]) => a - b)
      .map(([status, response]) => [String(status), response]),
  );
}

/** The names of a path template's parameters: `{tenant}` ... */
export function templateParameters(template: string): string[] {
  return [...template.matchAll(/\{([^}]+)\}/gu)].map((match) => match[1] as string);
}

function parametersOf(operation: Operation): Record<string, unknown>[] {
  const inPath = templateParameters(operation.path).map((name) => {
    const parameter = pathParameters[name];
    if (parameter === undefined) {
      throw new Error(`${operation.operationId}: no description of path parameter ${name}`);
    }
    return { name, in: 'path', required: true, ...parameter };
  });
  const inQuery = (operation.query ?? []).map((parameter) => ({
    in: 'query',
    ...parameter,
    required: parameter.required === true,
  }));
  return [...inPath, ...inQuery];
}

function operationObject(operation: Operation): OperationObject {
  const security = securityOf(operation.access);
  const description = [operation.description, `Access: ${security.summary}`]
    .filter((part) => part !== undefined)
    .join('\n\n');
  const parameters = parametersOf(operation);
  const body = operation.body;
  return {
    operationId: operation.operationId,
    summary: operation.summary,
    description,
    tags: [operation.tag],
    security: security.requirements,
    ...(operation.access.kind === 'policy' ? { 'x-verdict-action': operation.access.action } : {}),
    ...(parameters.length === 0 ? {} : { parameters }),
    ...(body === undefined
      ? {}
      : {
          requestBody: {
            required: body.required !== false,
            ...(body.description === undefined ? {} : { description: body.description }),
            content: Object.fromEntries(body.types.map((type) => [type, { schema: body.schema }])),
          },
        }),
    responses: responsesOf(operation),
  };
}

/**
 * A deep copy of `value` where every component schema met below the top is a `$ref` to it, so
 * each shape is written (and read) once.
 */
function withReferences(value: unknown, names: ReadonlyMap<object, string>, top = true): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const name = names.get(value);
  if (name !== undefined && !top) return { $ref: `#/components/schemas/${name}` };
  if (Array.isArray(value)) return value.map((item) => withReferences(item, names, false));
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => [key, withReferences(child, names, false)]),
  );
}

function checkUnique(list: readonly Operation[]): void {
  const seen = new Set<string>();
  for (const operation of list) {
    for (const key of [operation.operationId, `${operation.method} ${operation.path}`]) {
      if (seen.has(key)) throw new Error(`the route table lists ${key} twice`);
      seen.add(key);
    }
  }
}

export function buildDocument(list: readonly Operation[] = operations): OpenApiDocument {
  checkUnique(list);
  const paths: Record<string, Record<string, OperationObject>> = {};
  for (const operation of list) {
    (paths[operation.path] ??= {})[operation.method] = operationObject(operation);
  }
  const names = new Map(Object.entries(componentSchemas).map(([name, schema]) => [schema, name]));
  const schemas = Object.fromEntries(
    Object.entries(componentSchemas).map(([name, schema]) => [name, withReferences(schema, names)]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'Verdict HTTP API',
      version: verdictVersion(),
      summary: 'Policy decisions, bundles, rollouts and the decision log of Verdict.',
      description:
        "Verdict's HTTP API. Decisions speak OPA's data API; everything else is Verdict's own admin API. Bodies are JSON unless said otherwise. Every error is an RFC 9457 problem with a stable `code`. Every response carries `X-Request-Id`. Request headers over 16 KiB are refused with `431 headers_too_large` before any operation is chosen.",
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    tags,
    paths: withReferences(paths, names, false) as OpenApiDocument['paths'],
    components: {
      schemas: schemas as Record<string, JsonSchema>,
      responses: withReferences(sharedResponses(), names, false) as Record<string, ResponseObject>,
      securitySchemes,
    },
  };
}

let built: OpenApiDocument | undefined;

/** The document, built once per process. */
export function openApiDocument(): OpenApiDocument {
  built ??= buildDocument();
  return built;
}
