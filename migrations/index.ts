/**
 * The ordered list of database migrations. Knex normally discovers migration files on disk,
 * which breaks between TypeScript sources (tests) and compiled JavaScript (dist/); listing
 * the modules here makes both run the same code. Add each new migration at the end, named
 * `YYYYMMDDHHMMSS_what_it_does`, and never rename or edit one that has shipped.
 */
import type { Knex } from 'knex';
import * as createTenantsAndUsers from './20261127000000_create_tenants_and_users';
import * as createApiKeysAndBundles from './20261127100000_create_api_keys_and_bundles';
import * as createDecisions from './20261127100100_create_decisions';
import * as bundleRuntime from './20261127110000_bundle_runtime';
import * as rollouts from './20261127120000_rollouts';
import * as auditRetention from './20261127130000_audit_retention';
import * as identity from './20261127140000_identity';
import * as rowLevelSecurity from './20261127150000_row_level_security';
import * as identityRowLevelSecurity from './20261127160000_identity_row_level_security';
import * as tenantDefaultDecision from './20261127170000_tenant_default_decision';
import * as decisionTraceId from './20261128000000_decision_trace_id';

export interface MigrationModule {
  readonly name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

export const migrations: readonly MigrationModule[] = [
  { name: '20261127000000_create_tenants_and_users', ...createTenantsAndUsers },
  { name: '20261127100000_create_api_keys_and_bundles', ...createApiKeysAndBundles },
  { name: '20261127100100_create_decisions', ...createDecisions },
  { name: '20261127110000_bundle_runtime', ...bundleRuntime },
  { name: '20261127120000_rollouts', ...rollouts },
  { name: '20261127130000_audit_retention', ...auditRetention },
  { name: '20261127140000_identity', ...identity },
  { name: '20261127150000_row_level_security', ...rowLevelSecurity },
  { name: '20261127160000_identity_row_level_security', ...identityRowLevelSecurity },
  { name: '20261127170000_tenant_default_decision', ...tenantDefaultDecision },
  { name: '20261128000000_decision_trace_id', ...decisionTraceId },
];
