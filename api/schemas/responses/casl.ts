/** The answer of the CASL rules routes (api/routes/casl.ts). */
import type { JsonSchema } from '../json-schema';
import { record, text } from './common';

export const caslRulesSchema: JsonSchema = record({
  bundle: record({ name: text, version: text, revision: text }),
  rules: {
    type: 'array',
    items: { type: ['array', 'object'] },
    description:
      "The user's rules: packed with CASL's `packRules` (arrays), or raw rule objects with `?packed=false`.",
  },
});
