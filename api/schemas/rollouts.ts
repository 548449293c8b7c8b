/** Body of `POST .../bundles/{name}/rollouts`; docs/api.md describes the same shape. */
import type { JSONSchemaType } from 'ajv';
import { SEMVER } from '../../policies/bundle/manifest';

export interface StartRolloutBody {
  version: string;
  mode: 'canary' | 'shadow';
  percent?: number;
  sticky?: string;
}

export const startRolloutSchema: JSONSchemaType<StartRolloutBody> = {
  type: 'object',
  properties: {
    version: { type: 'string', maxLength: 128, pattern: SEMVER },
    mode: { type: 'string', enum: ['canary', 'shadow'] },
    percent: { type: 'number', nullable: true },
    sticky: { type: 'string', minLength: 1, maxLength: 200, nullable: true },
  },
  required: ['version', 'mode'],
  additionalProperties: false,
};
