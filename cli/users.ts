/**
 * `verdict users create|list|disable`: platform users through the admin API — a tenant's
 * (`--tenant`) or the platform admins (`--platform`). A user created without a password is
 * invited: the one-time set-up token is printed alone on stdout, for the user's
 * `verdict login --setup-token`.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { userRoles, type UserRole } from '../api/auth/principal';
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
import { readStdin } from './prompt';

export interface UserView {
  id: string;
  email: string;
  display_name: string;
  role: UserRole;
  status: string;
  mfa_enabled: boolean;
  last_login_at: string | null;
}

export interface UsersScope extends AdminOptions {
  tenant?: string;
  platform?: boolean;
}

export interface UsersCreateOptions extends UsersScope {
  email: string;
  role: UserRole;
  name?: string;
  passwordStdin?: boolean;
}

function usersPath(scope: UsersScope): string {
  if ((scope.tenant === undefined) === (scope.platform !== true)) {
    throw new AdminCommandError(
      'name the users: pass --tenant <tenant>, or --platform for platform admins',
    );
  }
  return scope.tenant === undefined
    ? '/v1/platform/users'
    : `/v1/tenants/${pathSegment(scope.tenant)}/users`;
}

function whose(scope: UsersScope): string {
  return scope.tenant === undefined ? 'the platform' : `tenant ${scope.tenant}`;
}

function checkRole(value: string): UserRole {
  if (!(userRoles as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${userRoles.join(', ')}.`);
  }
  return value as UserRole;
}

export async function runUsersCreate(
  options: UsersCreateOptions,
  io: CliIO = processIO,
  env: NodeJS.ProcessEnv = process.env,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<void> {
  const path = usersPath(options);
  const password = options.passwordStdin === true ? await readStdin(stdin) : undefined;
  const client = new AdminClient(options, env);
  const created = (await client.request('POST', path, {
    email: options.email,
    role: options.role,
    ...(options.name === undefined ? {} : { display_name: options.name }),
    ...(password === undefined ? {} : { password }),
  })) as { user: UserView; setup_token?: string; setup_expires_in?: number };
  if (options.json === true) {
    printJson(io, created);
    return;
  }
  if (created.setup_token !== undefined) {
    io.stdout(`${created.setup_token}\n`);
    io.stderr(
      `invited ${created.user.email} (${created.user.role}) to ${whose(options)}, id ${created.user.id}; ` +
        `send them the set-up token above (valid ${Math.round((created.setup_expires_in ?? 0) / 86400)} days, shown once): ` +
        'they run `verdict login --setup-token <token>`\n',
    );
    return;
  }
  io.stdout(
    `created ${created.user.email} (${created.user.role}) in ${whose(options)}, id ${created.user.id}\n`,
  );
}

export async function runUsersList(
  options: UsersScope,
  io: CliIO = processIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const path = usersPath(options);
  const answer = (await new AdminClient(options, env).request('GET', path)) as {
    users: UserView[];
  };
  if (options.json === true) {
    printJson(io, answer);
    return;
  }
  if (answer.users.length === 0) {
    io.stdout(`${whose(options)} has no users: create one with \`verdict users create\`\n`);
    return;
  }
  io.stdout(
    formatTable(
      ['ID', 'EMAIL', 'ROLE', 'STATUS', 'MFA', 'LAST LOGIN'],
      answer.users.map((u) => [
        u.id,
        u.email,
        u.role,
        u.status,
        u.mfa_enabled ? 'on' : 'off',
        u.last_login_at ?? 'never',
      ]),
    ),
  );
}

export async function runUsersDisable(
  id: string,
  options: UsersScope,
  io: CliIO = processIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const path = `${usersPath(options)}/${pathSegment(id)}`;
  const user = (await new AdminClient(options, env).request('DELETE', path)) as UserView;
  if (options.json === true) {
    printJson(io, user);
    return;
  }
  io.stdout(`disabled ${user.email} in ${whose(options)}; their sessions have ended\n`);
}

function withScope(command: Command): Command {
  return withAdminOptions(
    command
      .option('--tenant <tenant>', 'tenant slug or id')
      .option('--platform', 'platform admins instead of a tenant’s users'),
  );
}

export function register(program: Command): void {
  const users = program
    .command('users')
    .description(
      "Manage platform users: a tenant's admins, policy authors and auditors, and platform admins.",
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ verdict users create --tenant acme --email ann@acme.example --role policy-author\n  $ verdict users list --tenant acme\n  $ verdict users disable --tenant acme 6f1c2e9a-0b1d-4c55-9a7e-2f0d8c1b3a44\n',
    );
  withScope(
    users
      .command('create')
      .description(
        'Create a user; without --password-stdin the user is invited with a set-up token.',
      )
      .requiredOption('--email <email>', "the user's e-mail address")
      .requiredOption('--role <role>', `one of ${userRoles.join(', ')}`, checkRole)
      .option('--name <name>', 'display name')
      .option('--password-stdin', 'read an initial password from standard input'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  $ verdict users create --tenant acme --email ann@acme.example --role tenant-admin\n  $ verdict users create --platform --email root@example.com --role platform-admin --password-stdin < pw.txt\n',
    )
    .action(async (options: UsersCreateOptions) => {
      await runUsersCreate(options);
    });
  withScope(users.command('list').description("List a tenant's users, or the platform admins."))
    .addHelpText(
      'after',
      '\nExamples:\n  $ verdict users list --tenant acme\n  $ verdict users list --platform --json\n',
    )
    .action(async (options: UsersScope) => {
      await runUsersList(options);
    });
  withScope(
    users
      .command('disable')
      .description('Disable a user: they cannot log in and their sessions end at once.')
      .argument('<id>', 'user id, as `verdict users list` shows it'),
  )
    .addHelpText(
      'after',
      '\nExample:\n  $ verdict users disable --tenant acme 6f1c2e9a-0b1d-4c55-9a7e-2f0d8c1b3a44\n',
    )
    .action(async (id: string, options: UsersScope) => {
      await runUsersDisable(id, options);
    });
}
