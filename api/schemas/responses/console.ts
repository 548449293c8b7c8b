/** Answers of the auditor console's session routes (api/routes/console-session.ts). */
import type { JsonSchema } from '../json-schema';
import { record, text, timestamp } from './common';

export const consoleSessionSchema: JsonSchema = record({
  tenant: { ...text, description: 'The tenant signed in to, as given at sign-in.' },
  csrf_token: {
    ...text,
    description:
      'Send it in `X-CSRF-Token` with every request of this session that changes state (sign-out included).',
  },
  expires_at: { ...timestamp, description: 'When the session ends, whatever happens before.' },
});
