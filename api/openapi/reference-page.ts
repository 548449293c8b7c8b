/**
 * The browsable reference (`GET /docs`): the OpenAPI document rendered on the server as one
 * HTML page — authentication, the operations grouped by tag, then the named schemas. It needs
 * no script at all, so its content security policy allows nothing but its one inline
 * stylesheet, by hash (see api/routes/openapi.ts); nothing is fetched from anywhere.
 */
import { createHash } from 'node:crypto';
import type { JsonSchema } from '../schemas/json-schema';
import type { OpenApiDocument, OperationObject, Reference, ResponseObject } from './document';

const stylesheet = `
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1c2024;background:#fff}
header,main,nav{max-width:1100px;margin:0 auto;padding:0 24px}
header{padding-top:24px}h1 small{font-weight:normal;color:#60646c;font-size:60%}
nav ul{columns:3;padding-left:18px}nav li{break-inside:avoid}
section{border-top:1px solid #d9d9e0;margin-top:32px}
article{border:1px solid #e0e1e6;border-radius:6px;padding:4px 16px;margin:16px 0}
h3 code{font-size:100%}code{background:#f0f0f3;border-radius:3px;padding:0 3px}
.method{display:inline-block;min-width:58px;text-align:center;border-radius:4px;color:#fff;font-size:80%;padding:2px 6px;margin-right:8px}
.get{background:#0d74ce}.post{background:#218358}.put{background:#ab6400}.patch{background:#8145b5}.delete{background:#ce2c31}
table{border-collapse:collapse;width:100%;margin:8px 0}td,th{border-top:1px solid #e8e8ec;padding:4px 8px;text-align:left;vertical-align:top}
th{font-weight:600;background:#f9f9fb}.required{color:#ce2c31}.muted{color:#60646c}
table table{margin:4px 0 0;font-size:95%}
`;

/** The CSP source that allows the page's stylesheet and nothing else. */
export const referenceStyleHash = `'sha256-${createHash('sha256').update(stylesheet).digest('base64')}'`;

function escape(text: string): string {
  return text.replace(/[&<>"']/gu, (c) => `&#${c.charCodeAt(0)};`);
}

/** Prose of the document: paragraphs split by blank lines, `code` spans kept. */
function prose(text: string | undefined): string {
  if (text === undefined || text === '') return '';
  return text
    .split(/\n\n+/u)
    .map((paragraph) => `<p>${inline(paragraph)}</p>`)
    .join('');
}

function inline(text: string): string {
  return escape(text).replace(/`([^`]+)`/gu, '<code>$1</code>');
}

function anchor(kind: 'op' | 'schema' | 'tag', name: string): string {
  return `${kind}-${name.toLowerCase().replace(/[^a-z0-9]+/gu, '-')}`;
}

function refName(ref: string): string {
  return ref.slice(ref.lastIndexOf('/') + 1);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function literal(value: unknown): string {
  return `<code>${escape(JSON.stringify(value))}</code>`;
}

/** A one-line description of a schema's type: `string (date-time) or null`, `array of Tenant`. */
function typeLabel(schema: JsonSchema): string {
  if (typeof schema.$ref === 'string') {
    const name = refName(schema.$ref);
    return `<a href="#${anchor('schema', name)}">${escape(name)}</a>`;
  }
  if ('const' in schema) return literal(schema.const);
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map(literal).join(', ')}`;
  for (const keyword of ['oneOf', 'anyOf'] as const) {
    const options = schema[keyword];
    if (Array.isArray(options)) {
      return (options as JsonSchema[]).map(typeLabel).join(' or ');
    }
  }
  if (Array.isArray(schema.allOf)) {
    return (schema.allOf as JsonSchema[]).map(typeLabel).join(' and ');
  }
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type];
  const labels = types
    .filter((type): type is string => typeof type === 'string')
    .map((type) => {
      if (type === 'array' && isObject(schema.items)) {
        return `array of ${typeLabel(schema.items)}`;
      }
      return typeof schema.format === 'string' && type === 'string'
        ? `string (${escape(schema.format)})`
        : escape(type);
    });
  return labels.length === 0 ? 'any' : labels.join(' or ');
}

const constraintWords: readonly [string, string][] = [
  ['minLength', 'at least {} characters'],
  ['maxLength', 'at most {} characters'],
  ['minimum', 'at least {}'],
  ['maximum', 'at most {}'],
  ['minItems', 'at least {} items'],
  ['maxProperties', 'at most {} members'],
  ['minProperties', 'at least {} member(s)'],
  ['pattern', 'matches {}'],
];

function constraints(schema: JsonSchema): string {
  const notes = constraintWords
    .filter(([keyword]) => schema[keyword] !== undefined)
    .map(([keyword, words]) => {
      const value = schema[keyword];
      const shown = keyword === 'pattern' ? literal(value) : escape(String(value));
      return keyword === 'minLength' && value === 1
        ? 'not empty'
        : words.replace('{}', () => shown);
    });
  if (schema.uniqueItems === true) notes.push('no repeats');
  return notes.length === 0 ? '' : `<span class="muted">${notes.join('; ')}.</span>`;
}

/** The members of an object schema as a table (nested objects as tables of their own). */
function membersTable(schema: JsonSchema): string {
  const properties = isObject(schema.properties)
    ? (schema.properties as Record<string, JsonSchema>)
    : {};
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  const rows = Object.entries(properties).map(
    ([name, property]) =>
      `<tr><td><code>${escape(name)}</code>${required.includes(name) ? ' <span class="required">required</span>' : ''}</td><td>${schemaCell(property)}</td></tr>`,
  );
  const extra = schema.additionalProperties;
  if (isObject(extra)) {
    rows.push(`<tr><td><em>any name</em></td><td>${schemaCell(extra)}</td></tr>`);
  }
  if (rows.length === 0) return '';
  const closed = extra === false ? '<p class="muted">No other members.</p>' : '';
  return `<table><tr><th>member</th><th>value</th></tr>${rows.join('')}</table>${closed}`;
}

function schemaCell(schema: JsonSchema): string {
  const nested = isObject(schema.items) ? schema.items : schema;
  const table =
    nested.$ref === undefined &&
    (isObject(nested.properties) || isObject(nested.additionalProperties))
      ? membersTable(nested)
      : '';
  return [
    typeLabel(schema),
    prose(schema.description as string | undefined),
    constraints(schema),
    table,
  ]
    .filter((part) => part !== '')
    .join(' ');
}

function parametersTable(parameters: readonly Record<string, unknown>[]): string {
  if (parameters.length === 0) return '';
  const rows = parameters.map((parameter) => {
    const name = `<code>${escape(String(parameter.name))}</code>`;
    const required = parameter.required === true ? ' <span class="required">required</span>' : '';
    const schema = parameter.schema as JsonSchema;
    return `<tr><td>${name}${required}</td><td>${escape(String(parameter.in))}</td><td>${typeLabel(schema)} ${constraints(schema)}</td><td>${inline(String(parameter.description))}</td></tr>`;
  });
  return `<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>value</th><th>meaning</th></tr>${rows.join('')}</table>`;
}

function requestBody(operation: OperationObject): string {
  const body = operation.requestBody as
    | { required: boolean; description?: string; content: Record<string, { schema: JsonSchema }> }
    | undefined;
  if (body === undefined) return '';
  const types = Object.keys(body.content).map((type) => `<code>${escape(type)}</code>`);
  const [first] = Object.values(body.content);
  return `<h4>Request body${body.required ? '' : ' (optional)'}</h4><p>${types.join(', ')}</p>${prose(body.description)}${first === undefined ? '' : schemaCell(first.schema)}`;
}

function responseRow(
  status: string,
  response: ResponseObject | Reference,
  document: OpenApiDocument,
): string {
  const resolved =
    '$ref' in response
      ? (document.components.responses[refName(response.$ref)] as ResponseObject)
      : response;
  const content = Object.entries(resolved.content ?? {});
  const bodies = content.map(
    ([type, media]) => `<code>${escape(type)}</code>: ${typeLabel(media.schema)}`,
  );
  const headers = Object.keys(resolved.headers ?? {}).map((name) => `<code>${escape(name)}</code>`);
  const extras = [
    bodies.length === 0 ? '' : `<br>${bodies.join('<br>')}`,
    headers.length === 0 ? '' : `<br><span class="muted">headers:</span> ${headers.join(', ')}`,
  ].join('');
  return `<tr><td><strong>${escape(status)}</strong></td><td>${inline(resolved.description)}${extras}</td></tr>`;
}

function operationArticle(
  path: string,
  method: string,
  operation: OperationObject,
  document: OpenApiDocument,
): string {
  const parameters = (operation.parameters ?? []) as Record<string, unknown>[];
  const responses = Object.entries(operation.responses)
    .map(([status, response]) => responseRow(status, response, document))
    .join('');
  return `<article id="${anchor('op', operation.operationId)}"><h3><span class="method ${method}">${method.toUpperCase()}</span><code>${escape(path)}</code></h3><p><strong>${inline(operation.summary)}</strong></p>${prose(operation.description as string | undefined)}${parametersTable(parameters)}${requestBody(operation)}<h4>Responses</h4><table><tr><th>status</th><th>answer</th></tr>${responses}</table></article>`;
}

interface Listed {
  readonly path: string;
  readonly method: string;
  readonly operation: OperationObject;
}

/** The document as one HTML page. */
export function renderReferencePage(document: OpenApiDocument): string {
  const info = document.info as {
    title: string;
    version: string;
    summary?: string;
    description?: string;
  };
  const tags = document.tags as { name: string; description: string }[];
  const listed: Listed[] = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
  );
  const byTag = tags.map((tag) => ({
    tag,
    operations: listed.filter((entry) => entry.operation.tags.includes(tag.name)),
  }));
  const nav = byTag
    .map(
      ({ tag, operations }) =>
        `<li><a href="#${anchor('tag', tag.name)}">${escape(tag.name)}</a> <span class="muted">(${operations.length})</span></li>`,
    )
    .join('');
  const schemes = Object.entries(document.components.securitySchemes)
    .map(
      ([name, scheme]) =>
        `<dt><code>${escape(name)}</code></dt><dd>${prose(scheme.description)}</dd>`,
    )
    .join('');
  const sections = byTag
    .map(
      ({ tag, operations }) =>
        `<section id="${anchor('tag', tag.name)}"><h2>${escape(tag.name)}</h2>${prose(tag.description)}${operations
          .map((entry) => operationArticle(entry.path, entry.method, entry.operation, document))
          .join('')}</section>`,
    )
    .join('');
  const schemas = Object.entries(document.components.schemas)
    .map(
      ([name, schema]) =>
        `<article id="${anchor('schema', name)}"><h3>${escape(name)}</h3>${schemaCell(schema)}</article>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(info.title)} reference</title><style>${stylesheet}</style></head>
<body><header><h1>${escape(info.title)} <small>${escape(info.version)}</small></h1>${prose(info.summary)}${prose(info.description)}<p>The same as an OpenAPI 3.1 document: <a href="/openapi.json">/openapi.json</a>.</p></header>
<nav><h2>Contents</h2><ul><li><a href="#authentication">Authentication</a></li>${nav}<li><a href="#schemas">Schemas</a></li></ul></nav>
<main><section id="authentication"><h2>Authentication</h2><p>Every credential is a bearer token: <code>Authorization: Bearer &lt;token&gt;</code>. Each operation says which it takes.</p><dl>${schemes}</dl></section>${sections}<section id="schemas"><h2>Schemas</h2>${schemas}</section></main></body></html>
`;
}
