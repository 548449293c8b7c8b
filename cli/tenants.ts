/**
 * `verdict tenants create|list`: tenants through the admin API (see cli/admin-client.ts for
 * --server, --token and --json).
 */
import type { Command } from 'commander';
import {
  AdminClient,
  formatTable,
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
  created_at: string;
}

export async function runTenantsCreate(
  slug: string,
  options: AdminOptions & { name: string },
  io: CliIO = processIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const client = new AdminClient(options, env);
  const tenant = (await client.request('POST', '/v1/tenants', {
    slug,
    name: options.name,
  })) as TenantView;
  if (options.json === true) {
    printJson(io, tenant);
    return;
  }
  io.stdout(`created tenant ${tenant.slug} (${tenant.name}), id ${tenant.id}\n`);
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

export function register(program: Command): void {
  const tenants = program
    .command('tenants')
    .description('Manage tenants through the admin API (needs the admin token).')
    .addHelpText(
      'after',
      '\nExamples:\n  $ verdict tenants create acme --name "Acme Corp"\n  $ verdict tenants list --json\n',
    );
  withAdminOptions(
    tenants
      .command('create')
      .description('Create a tenant.')
      .argument('<slug>', 'short id: lower-case letters, digits and -, e.g. acme')
      .requiredOption('--name <name>', 'display name, e.g. "Acme Corp"'),
  )
    .addHelpText('after', '\nExample:\n  $ verdict tenants create acme --name "Acme Corp"\n')
    .action(async (slug: string, options: AdminOptions & { name: string }) => {
      await runTenantsCreate(slug, options);
    });
  withAdminOptions(tenants.command('list').description('List every tenant.'))
    .addHelpText('after', '\nExample:\n  $ verdict tenants list --server http://verdict:8181\n')
    .action(async (options: AdminOptions) => {
      await runTenantsList(options);
    });
}
