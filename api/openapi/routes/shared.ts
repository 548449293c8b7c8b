/** What the route table's areas share: JSON answers and bodies by component name. */
import type { JsonSchema } from '../../schemas/json-schema';
import { componentSchemas, requestBodies } from '../components';
import type { Answer, RequestBody } from '../route-table';

export function named(name: string): JsonSchema {
  const schema = componentSchemas[name];
  if (schema === undefined) throw new Error(`no component schema ${name}`);
  return schema;
}

export const json = 'application/json';

export function jsonAnswer(
  description: string,
  schema: string,
  headers?: Answer['headers'],
): Answer {
  return { description, content: { [json]: named(schema) }, ...(headers ? { headers } : {}) };
}

export function jsonBody(schema: keyof typeof requestBodies, description?: string): RequestBody {
  return {
    types: [json],
    schema: requestBodies[schema],
    ...(description === undefined ? {} : { description }),
  };
}

export const noStore = {
  'Cache-Control': { description: '`no-store`: the answer holds a secret.' },
};
export const location = (what: string) => ({
  Location: { description: `The URL of ${what}.`, required: true },
});

export const tenantNotFound = 'No such tenant.';
