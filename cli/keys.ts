/**
 * `verdict keys create|list|revoke`: tenant API keys through the admin API. They share the
 * `keys` group with `verdict keys gen` (bundle signing keys, cli/sign.ts).
 *
 * `keys create` prints the new key alone on stdout, so `KEY=$(verdict keys create ...)`
 * captures it, and the reminder that it is shown only once on stderr.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { apiKeyScopes, isApiKeyScope, type ApiKeyScope } from '../api/models/api-key';
import { maxDurationSeconds, parseDuration } from '../api/schemas/duration';
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
import { commandGroup } from './command-group';

export interface KeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  status: string;
  expires_at: string | null;
  last_used_at: string | null;
  created_at: string;
  key?: string;
}

export interface KeysCreateOptions extends AdminOptions {
  tenant: string;
  name: string;
  scope: ApiKeyScope[];
  expiresIn?: string;
}

/** Collects repeated `--scope` values, refusing unknown ones at once. */
function collectScope(value: string, previous: ApiKeyScope[] = []): ApiKeyScope[] {
  if (!isApiKeyScope(value)) {
    throw new InvalidArgumentError(`expected one of ${apiKeyScopes.join(', ')}.`);
  }
  return [...previous, value];
}

function checkExpiresIn(value: string): string {
  const seconds = parseDuration(value);
  if (seconds === undefined || seconds > maxDurationSeconds) {
    throw new InvalidArgumentError(
      'expected a whole number and a unit s, m, h or d, at most 3650d (e.g. 30d, 12h).',
    );
  }
  return value;
}

function tenantPath(tenant: string): string {
  return `/v1/tenants/${pathSegment(tenant)}/keys`;
}

export async function runKeysCreate(
  options: KeysCreateOptions,
  io: CliIO = processIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  if (options.scope.length === 0) {
    throw new AdminCommandError(
      `a key needs at least one --scope (${apiKeyScopes.join(', ')}); repeat --scope for several`,
    );
  }
  const client = new AdminClient(options, env);
  const key = (await client.request('POST', tenantPath(options.tenant), {
    name: options.name,
    scopes: [...new Set(options.scope)],
    ...(options.expiresIn === undefined ? {} : { expires_in: options.expiresIn }),
  })) as KeyView;
  if (options.json === true) {
    printJson(io, key);
  } else {
    io.stdout(`${key.key ?? ''}\n`);
  }
  io.stderr(
    `created API key ${key.prefix} (${key.name}) for tenant ${options.tenant}, scopes ${key.scopes.join(', ')}, ` +
      `${key.expires_at === null ? 'never expires' : `expires ${key.expires_at}`}; ` +
      'store the key now: it is not shown again\n',
  );
}

export async function runKeysList(
  options: AdminOptions & { tenant: string },
  io: CliIO = processIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const client = new AdminClient(options, env);
  const answer = (await client.request('GET', tenantPath(options.tenant))) as { keys: KeyView[] };
  if (options.json === true) {
    printJson(io, answer);
    return;
  }
  if (answer.keys.length === 0) {
    io.stdout(
      `tenant ${options.tenant} has no API keys: create one with \`verdict keys create\`\n`,
    );
    return;
  }
  io.stdout(
    formatTable(
      ['ID', 'PREFIX', 'NAME', 'SCOPES', 'STATUS', 'EXPIRES', 'LAST USED'],
      answer.keys.map((k) => [
        k.id,
        k.prefix,
        k.name,
        k.scopes.join(','),
        k.status,
        k.expires_at ?? 'never',
        k.last_used_at ?? 'never',
      ]),
    ),
  );
}

export async function runKeysRevoke(
  id: string,
  options: AdminOptions & { tenant: string },
  io: CliIO = processIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const client = new AdminClient(options, env);
  const key = (await client.request(
    'DELETE',
    `${tenantPath(options.tenant)}/${pathSegment(id)}`,
  )) as KeyView & { revoked_at: string };
  if (options.json === true) {
    printJson(io, key);
    return;
  }
  io.stdout(`revoked API key ${key.prefix} (${key.name}) of tenant ${options.tenant}\n`);
}

export function register(program: Command): void {
  const keys = commandGroup(program, 'keys');
  withAdminOptions(
    keys
      .command('create')
      .description('Create a tenant API key; prints it once.')
      .requiredOption('--tenant <tenant>', 'tenant slug or id')
      .requiredOption('--name <name>', 'what the key is for, e.g. "checkout backend"')
      .option(
        '--scope <scope>',
        `what the key may do, repeatable: ${apiKeyScopes.join(', ')}`,
        collectScope,
      )
      .option(
        '--expires-in <duration>',
        'lifetime, e.g. 30d, 12h, 90m (default: never)',
        checkExpiresIn,
      ),
  )
    .addHelpText(
      'after',
      '\nExample:\n  $ verdict keys create --tenant acme --name checkout --scope decide --expires-in 90d\n',
    )
    .action(async (options: Omit<KeysCreateOptions, 'scope'> & { scope?: ApiKeyScope[] }) => {
      await runKeysCreate({ ...options, scope: options.scope ?? [] });
    });
  withAdminOptions(
    keys
      .command('list')
      .description("List a tenant's API keys (never their secrets).")
      .requiredOption('--tenant <tenant>', 'tenant slug or id'),
  )
    .addHelpText('after', '\nExample:\n  $ verdict keys list --tenant acme\n')
    .action(async (options: AdminOptions & { tenant: string }) => {
      await runKeysList(options);
    });
  withAdminOptions(
    keys
      .command('revoke')
      .description('Revoke a tenant API key; it stops working at once.')
      .argument('<id>', 'key id, as `verdict keys list` shows it')
      .requiredOption('--tenant <tenant>', 'tenant slug or id'),
  )
    .addHelpText(
      'after',
      '\nExample:\n  $ verdict keys revoke --tenant acme 6f1c2e9a-0b1d-4c55-9a7e-2f0d8c1b3a44\n',
    )
    .action(async (id: string, options: AdminOptions & { tenant: string }) => {
      await runKeysRevoke(id, options);
    });
}
