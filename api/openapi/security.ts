/**
 * Who may call an operation, in OpenAPI terms: the bearer credentials the server takes
 * (security schemes) and, per operation, the requirements that let a call through. For the
 * admin API the requirements come from the platform policy's own data
 * (api/auth/policy/data.json): the roles and API-key scopes that grant the route's action, so
 * the document cannot say otherwise than the policy decides.
 */
import fs from 'node:fs';
import path from 'node:path';
import { platformPolicyDir } from '../auth/platform-policy';
import type { Access } from './route-table';

export const securitySchemes = {
  apiKey: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'vdk_<prefix>_<secret>',
    description:
      'A tenant API key (`verdict keys create`). It reaches its own tenant only, with its scopes: `decide` (decisions and CASL rules), `bundles:write` (push, activate, roll out, replay), `audit:read` (the decision log). A requirement names the scope a key needs. Each instance trusts what it read for a key for up to 30 seconds, so a revocation reaches other instances within that time.',
  },
  accessToken: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      "A user's access token (`POST /v1/auth/login`, renewed with `POST /v1/auth/refresh`): an EdDSA JWT with the user's role and whether the session passed MFA. A requirement names the roles that grant the operation; a role other than `platform-admin` acts in its own tenant only.",
  },
  adminToken: {
    type: 'http',
    scheme: 'bearer',
    description:
      'The bootstrap admin token (`VERDICT_ADMIN_TOKEN`, at least 24 characters): a platform admin. With neither it nor user logins configured, the admin API answers `503 admin_api_disabled`.',
  },
  consoleSession: {
    type: 'apiKey',
    in: 'cookie',
    name: '__Host-verdict-console',
    description:
      "The auditor console's session (`POST /console/session`): HttpOnly, Secure, SameSite=Strict, 8 hours. Taken only by the console's own routes and the decision-log reads it makes, and only from this origin (`Sec-Fetch-Site`/`Origin`); a request that changes state must also send the session's `X-CSRF-Token`, else `403 csrf_failed`. It stands for the credential the console signed in with.",
  },
  metricsToken: {
    type: 'http',
    scheme: 'bearer',
    description: '`VERDICT_METRICS_TOKEN`, which `GET /metrics` requires when it is set.',
  },
} as const;

export type SchemeName = keyof typeof securitySchemes;
export type SecurityRequirement = Partial<Record<SchemeName, string[]>>;

interface PolicyAction {
  readonly platform: boolean;
  readonly mfa: boolean;
  readonly scopes: readonly string[];
}

interface PolicyData {
  readonly actions: Readonly<Record<string, PolicyAction>>;
  readonly roles: Readonly<Record<string, readonly string[]>>;
}

let policyData: PolicyData | undefined;

function readPolicyData(): PolicyData {
  policyData ??= JSON.parse(
    fs.readFileSync(path.join(platformPolicyDir(), 'data.json'), 'utf8'),
  ) as PolicyData;
  return policyData;
}

export interface OperationSecurity {
  /** Alternatives: any one of them lets the call through; `{}` needs no credential. */
  readonly requirements: SecurityRequirement[];
  /** Who may call, in a sentence. */
  readonly summary: string;
}

function list(items: readonly string[]): string {
  const quoted = items.map((item) => `\`${item}\``);
  if (quoted.length <= 1) return quoted.join('');
  return `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1) as string}`;
}

/** The security of an operation with `access`; throws for an action the policy does not know. */
export function securityOf(access: Access): OperationSecurity {
  switch (access.kind) {
    case 'public':
      return { requirements: [], summary: 'No credential.' };
    case 'metrics':
      return {
        requirements: [{}, { metricsToken: [] }],
        summary: 'No credential, unless `VERDICT_METRICS_TOKEN` is set: then that token.',
      };
    case 'api-key':
      return {
        requirements: [{ apiKey: [access.scope] }],
        summary: `A tenant API key with the ${list([access.scope])} scope; the tenant is the key's.`,
      };
    case 'user':
      return {
        requirements: [{ accessToken: [] }],
        summary: "A signed-in user's access token; the operation acts on that user.",
      };
    case 'console':
      return {
        requirements: [{ consoleSession: [] }],
        summary:
          "The auditor console's session cookie, from this origin; `X-CSRF-Token` when the request changes state.",
      };
    case 'policy':
      return withConsole(policySecurity(access.action), access.console === true);
  }
}

function withConsole(security: OperationSecurity, console: boolean): OperationSecurity {
  if (!console) return security;
  return {
    requirements: [...security.requirements, { consoleSession: [] }],
    summary: `${security.summary} Also the auditor console's session cookie, from this origin.`,
  };
}

function policySecurity(action: string): OperationSecurity {
  const data = readPolicyData();
  const rule = data.actions[action];
  if (rule === undefined) {
    throw new Error(`the platform policy has no action ${JSON.stringify(action)}`);
  }
  const roles = rule.platform
    ? []
    : Object.keys(data.roles).filter((role) => data.roles[role]?.includes(action) === true);
  const requirements: SecurityRequirement[] = [
    { adminToken: [] },
    { accessToken: ['platform-admin', ...roles] },
    ...(rule.platform ? [] : rule.scopes.map((scope) => ({ apiKey: [scope] }))),
  ];
  const who = ['the admin token', 'platform admins'];
  if (roles.length > 0) {
    who.push(
      `users of the tenant with the role ${list(roles)}${rule.mfa ? ' whose session passed MFA' : ''}`,
    );
  }
  if (!rule.platform && rule.scopes.length > 0) {
    who.push(`API keys of the tenant with the ${list(rule.scopes)} scope`);
  }
  const last = who.pop() as string;
  return {
    requirements,
    summary: `Platform-policy action \`${action}\`: ${who.join(', ')} or ${last}.`,
  };
}
