/**
 * `verdict tenants create|update|list`: tenants through the admin API (see
 * cli/admin-client.ts for --server, --token and --json).
 */
import type { Command } from 'commander';
import { defaultDecisionPattern, maxAuditRetentionDays } from '../api/schemas/admin';
import {
  AdminClient,
  AdminCommandError,
  formatTable,
  pathSegment,
  printJson,
  processIO,
  withAdminOptions,
  type AdminOptions,
  type CliIO,
} from './admin-client';

export interface TenantView {
  id: string;
  slug: string;
  name: string;
  audit_retention_days: number | null;
  default_decision: string;
  created_at: string;
}

export interface CreateOptions extends AdminOptions {
  name: string;
  auditRetentionDays?: string;
  defaultDecision?: string;
}

export interface UpdateOptions extends AdminOptions {
  name?: string;
  auditRetentionDays?: string;
  defaultDecision?: string;
}

/** `--audit-retention-days`: a number of days, or `forever` (null). */
export function parseRetentionDays(text: string): number | null {
  if (text === 'forever') return null;
  const days = /^[0-9]{1,6}$/u.test(text) ? Number(text) : Number.NaN;
  if (!(days >= 1 && days <= maxAuditRetentionDays)) {
    throw new AdminCommandError(
      `--audit-retention-days must be a whole number of days from 1 to ${String(maxAuditRetentionDays)}, or forever (got ${JSON.stringify(text)})`,
    );
  }
  return days;
}

/**
 * `--default-decision`: a data path such as `system/main`; OPA's spellings `/system/main` and
 * `data.system.main` are taken too.
 */
export function parseDefaultDecision(text: string): string {
  const path = text
    .replace(/^data\./u, '')
    .replace(/^\/+/u, '')
    .replace(/\./gu, '/');
  if (!new RegExp(defaultDecisionPattern, 'u').test(path) || path.length > 255) {
    throw new AdminCommandError(
      `--default-decision must be a rule path like system/main or authz/allow (got ${JSON.stringify(text)})`,
    );
  }
  return path;
}

function retentionText(days: number | null): string {
  return days === null ? 'decisions kept forever' : `decisions kept ${String(days)} days`;
}

export async function runTenantsCreate(
  slug: string,
  options: CreateOptions,
  io: CliIO = processIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const body: Record<string, unknown> = { slug, name: options.name };
  if (options.auditRetentionDays !== undefined) {
    body.audit_retention_days = parseRetentionDays(options.auditRetentionDays);
  }
  if (options.defaultDecision !== undefined) {
    body.default_decision = parseDefaultDecision(options.defaultDecision);
  }
  const client = new AdminClient(options, env);
  const tenant = (await client.request('POST', '/v1/tenants', body)) as TenantView;
  if (options.json === true) {
    printJson(io, tenant);
    return;
  }
  io.stdout(`created tenant ${tenant.slug} (${tenant.name}), id ${tenant.id}\n`);
}

export async function runTenantsUpdate(
  ref: string,
  options: UpdateOptions,
  io: CliIO = processIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const body: Record<string, unknown> = {};
  if (options.name !== undefined) body.name = options.name;
  if (options.auditRetentionDays !== undefined) {
    body.audit_retention_days = parseRetentionDays(options.auditRetentionDays);
  }
  if (options.defaultDecision !== undefined) {
    body.default_decision = parseDefaultDecision(options.defaultDecision);
  }
  if (Object.keys(body).length === 0) {
    throw new AdminCommandError(
      'nothing to change: pass --name, --audit-retention-days or --default-decision',
    );
  }
  const client = new AdminClient(options, env);
  const tenant = (await client.request(
    'PATCH',
    `/v1/tenants/${pathSegment(ref)}`,
    body,
  )) as TenantView;
  if (options.json === true) {
    printJson(io, tenant);
    return;
  }
  io.stdout(
    `updated tenant ${tenant.slug} (${tenant.name}): ${retentionText(tenant.audit_retention_days)}${options.defaultDecision === undefined ? '' : `, default decision ${tenant.default_decision}`}\n`,
  );
}

export async function runTenantsList(
  options: AdminOptions,
  io: CliIO = processIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const client = new AdminClient(options, env);
  const answer = (await client.request('GET', '/v1/tenants')) as { tenants: TenantView[] };
  if (options.json === true) {
    printJson(io, answer);
    return;
  }
  if (answer.tenants.length === 0) {
    io.stdout('no tenants yet: create one with `verdict tenants create <slug> --name <name>`\n');
    return;
  }
  io.stdout(
    formatTable(
      ['SLUG', 'NAME', 'ID', 'CREATED'],
      answer.tenants.map((t) => [t.slug, t.name, t.id, t.created_at]),
    ),
  );
}

const defaultDecisionHelp =
  "rule `POST /` evaluates, like OPA's default_decision (default: system/main)";

const retentionHelp =
  'keep decisions this many days (then `verdict audit prune` may remove them), or forever (the default)';

export function register(program: Command): void {
  const tenants = program
    .command('tenants')
    .description('Manage tenants through the admin API (needs the admin token).')
    .addHelpText(
      'after',
      '\nExamples:\n  $ verdict tenants create acme --name "Acme Corp"\n  $ verdict tenants update acme --audit-retention-days 400\n  $ verdict tenants list --json\n',
    );
  withAdminOptions(
    tenants
      .command('create')
      .description('Create a tenant.')
      .argument('<slug>', 'short id: lower-case letters, digits and -, e.g. acme')
      .requiredOption('--name <name>', 'display name, e.g. "Acme Corp"')
      .option('--audit-retention-days <days>', retentionHelp)
      .option('--default-decision <path>', defaultDecisionHelp),
  )
    .addHelpText('after', '\nExample:\n  $ verdict tenants create acme --name "Acme Corp"\n')
    .action(async (slug: string, options: CreateOptions) => {
      await runTenantsCreate(slug, options);
    });
  withAdminOptions(
    tenants
      .command('update')
      .description(
        "Change a tenant's name, how long its decisions are kept, or its default decision.",
      )
      .argument('<tenant>', 'tenant slug or id')
      .option('--name <name>', 'new display name')
      .option('--audit-retention-days <days>', retentionHelp)
      .option('--default-decision <path>', defaultDecisionHelp),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  $ verdict tenants update acme --audit-retention-days 400\n  $ verdict tenants update acme --audit-retention-days forever\n  $ verdict tenants update acme --default-decision authz/allow\n\n`verdict audit prune` removes the months older than the retention, after exporting them.\n',
    )
    .action(async (ref: string, options: UpdateOptions) => {
      await runTenantsUpdate(ref, options);
    });
  withAdminOptions(tenants.command('list').description('List every tenant.'))
    .addHelpText('after', '\nExample:\n  $ verdict tenants list --server http://verdict:8181\n')
    .action(async (options: AdminOptions) => {
      await runTenantsList(options);
    });
}
