/**
 * Checks HTTP responses against an OpenAPI 3.1 document: the operation must be in it, the
 * status documented for it, the content type one it lists, the body valid against that
 * content's schema (ajv, JSON Schema 2020-12; line by line for a line-delimited body with an
 * item schema), and every header it marks required present. Schemas are read straight from
 * the document by JSON pointer, so `$ref`s resolve as any OpenAPI tool resolves them.
 */
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

export interface ObservedResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

interface MediaType {
  readonly schema?: unknown;
  readonly 'x-item-schema'?: unknown;
}

interface ResponseObject {
  readonly $ref?: string;
  readonly content?: Readonly<Record<string, MediaType>>;
  readonly headers?: Readonly<Record<string, { readonly required?: boolean }>>;
}

interface Document {
  readonly paths: Readonly<
    Record<string, Readonly<Record<string, { readonly responses: Record<string, ResponseObject> }>>>
  >;
  readonly components: { readonly responses?: Readonly<Record<string, ResponseObject>> };
}

const documentId = 'https://verdict.invalid/openapi.json';

/** JSON pointer segment (RFC 6901) for use in a URI fragment. */
function segment(text: string): string {
  return encodeURIComponent(text.replace(/~/gu, '~0').replace(/\//gu, '~1'));
}

/** `type/subtype` with its parameters but `charset`, lower-case, without spaces. */
export function normalizedType(contentType: string): string {
  return contentType
    .split(';')
    .map((part) => part.trim().toLowerCase())
    .filter((part) => part !== '' && !part.startsWith('charset='))
    .join(';');
}

const jsonTypes = new Set(['application/json', 'application/problem+json']);

export class OpenApiChecker {
  private readonly ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
  /** `METHOD template` of each operation checked, with how many responses. */
  readonly checked = new Map<string, number>();
  /** Operations that answered at least once with a status below 400. */
  readonly succeeded = new Set<string>();

  constructor(readonly document: Document) {
    addFormats(this.ajv);
    this.ajv.addVocabulary([
      'openapi',
      'info',
      'jsonSchemaDialect',
      'servers',
      'paths',
      'webhooks',
      'components',
      'security',
      'tags',
      'externalDocs',
    ]);
    this.ajv.addSchema({ ...document, $id: documentId });
  }

  get responses(): number {
    return [...this.checked.values()].reduce((sum, n) => sum + n, 0);
  }

  /** Why `res` does not match the document; an empty list when it does. */
  check(method: string, template: string, res: ObservedResponse): string[] {
    const key = `${method.toUpperCase()} ${template}`;
    const lower = method.toLowerCase();
    const operation = this.document.paths[template]?.[lower];
    if (operation === undefined) return [`${key} is not in the document`];
    this.checked.set(key, (this.checked.get(key) ?? 0) + 1);
    const status = String(res.status);
    let response = operation.responses[status];
    let pointer = `#/paths/${segment(template)}/${lower}/responses/${status}`;
    if (response === undefined) {
      return [
        `${key} answered ${status}, which the document does not list: ${res.text.slice(0, 300)}`,
      ];
    }
    if (response.$ref !== undefined) {
      pointer = response.$ref;
      const name = response.$ref.slice(response.$ref.lastIndexOf('/') + 1);
      response = this.document.components.responses?.[name] ?? {};
    }
    if (res.status < 400) this.succeeded.add(key);
    const problems: string[] = [];
    for (const [name, header] of Object.entries(response.headers ?? {})) {
      if (header.required === true && res.headers.get(name) === null) {
        problems.push(`${key} ${status} lacks the header ${name}`);
      }
    }
    const content = response.content;
    if (content === undefined) {
      if (res.text !== '') problems.push(`${key} ${status} has a body, the document none`);
      return problems;
    }
    const given = normalizedType(res.headers.get('content-type') ?? '');
    const type = Object.keys(content).find((documented) => normalizedType(documented) === given);
    if (type === undefined) {
      return [
        ...problems,
        `${key} ${status} answered ${given || 'no content type'}, the document lists ${Object.keys(content).join(', ')}`,
      ];
    }
    const at = `${documentId}${pointer}/content/${segment(type)}`;
    problems.push(...this.validate(`${at}/schema`, this.body(type, res.text), `${key} ${status}`));
    if (content[type]?.['x-item-schema'] !== undefined) {
      res.text
        .split('\n')
        .filter((line) => line !== '')
        .forEach((line, i) => {
          problems.push(
            ...this.validate(
              `${at}/x-item-schema`,
              JSON.parse(line),
              `${key} ${status} line ${i + 1}`,
            ),
          );
        });
    }
    return problems;
  }

  private body(type: string, text: string): unknown {
    return jsonTypes.has(normalizedType(type)) ? (JSON.parse(text) as unknown) : text;
  }

  private validate(ref: string, value: unknown, what: string): string[] {
    const validate = this.ajv.getSchema(ref);
    if (validate === undefined) return [`${what}: no schema at ${ref}`];
    if (validate(value)) return [];
    return [
      `${what} does not match the document: ${this.ajv.errorsText(validate.errors)}; body ${JSON.stringify(value).slice(0, 300)}`,
    ];
  }
}
