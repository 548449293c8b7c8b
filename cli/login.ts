/**
 * `verdict login` and `verdict logout`: a platform user signs in with e-mail and password,
 * then a TOTP code (or a recovery code) when MFA is on. The tokens are stored per server in
 * the credentials file (cli/credentials.ts, mode 0600), where every admin command finds them,
 * or printed with --print. An invited user sets a first password with --setup-token.
 */
import type { Command } from 'commander';
import {
  AdminClient,
  AdminCommandError,
  defaultServer,
  printJson,
  processIO,
  type CliIO,
} from './admin-client';
import { displayPath, forgetLogin, loadLogin, saveLogin } from './credentials';
import { readStdin, terminalPrompter, type Prompter } from './prompt';

export interface LoginOptions {
  server?: string;
  tenant?: string;
  email?: string;
  /** Read the password from standard input instead of asking. */
  passwordStdin?: boolean;
  /** The TOTP code, when MFA is on; asked for when absent. */
  code?: string;
  recoveryCode?: string;
  /** An invitation's one-time token: set the first password, then log in. */
  setupToken?: string;
  /** Print the tokens as JSON instead of storing them. */
  print?: boolean;
}

export interface LoginDependencies {
  readonly io?: CliIO;
  readonly env?: NodeJS.ProcessEnv;
  readonly prompter?: Prompter;
  readonly stdin?: NodeJS.ReadableStream;
}

interface TokenAnswer {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  session_id: string;
  refresh_expires_at: string;
}

type LoginAnswer =
  { mfa_required: true; mfa_token: string } | ({ mfa_required: false } & TokenAnswer);

async function nonEmpty(prompter: Prompter, question: string, hidden = false): Promise<string> {
  const answer = (await prompter.ask(question, hidden)).trim();
  if (answer === '') throw new AdminCommandError(`no answer to "${question.trim()}"`);
  return answer;
}

export async function runLogin(options: LoginOptions, deps: LoginDependencies = {}): Promise<void> {
  const io = deps.io ?? processIO;
  const env = deps.env ?? process.env;
  const prompter = deps.prompter ?? terminalPrompter;
  const client = new AdminClient(
    { ...(options.server === undefined ? {} : { server: options.server }) },
    env,
    undefined,
    'none',
  );
  const email = options.email ?? (await nonEmpty(prompter, 'E-mail: '));
  const password =
    options.passwordStdin === true
      ? await readStdin(deps.stdin)
      : await nonEmpty(
          prompter,
          options.setupToken === undefined ? 'Password: ' : 'New password: ',
          true,
        );
  if (options.setupToken !== undefined) {
    await client.request('POST', '/v1/auth/password-setup', {
      token: options.setupToken,
      password,
    });
    io.stderr('password set\n');
  }
  const answer = (await client.request('POST', '/v1/auth/login', {
    ...(options.tenant === undefined ? {} : { tenant: options.tenant }),
    email,
    password,
  })) as LoginAnswer;
  let tokens: TokenAnswer;
  if (answer.mfa_required) {
    const factor =
      options.recoveryCode !== undefined
        ? { recovery_code: options.recoveryCode }
        : options.code !== undefined
          ? { code: options.code }
          : await (async () => {
              const typed = await nonEmpty(prompter, 'Authentication code (or a recovery code): ');
              return /^[0-9]{6}$/.test(typed) ? { code: typed } : { recovery_code: typed };
            })();
    tokens = (await client.request('POST', '/v1/auth/mfa', {
      mfa_token: answer.mfa_token,
      ...factor,
    })) as TokenAnswer;
  } else {
    tokens = answer;
  }
  if (options.print === true) {
    printJson(io, tokens);
    return;
  }
  const file = saveLogin(env, client.server, {
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    access_expires_at: Date.now() + tokens.expires_in * 1000,
    session_id: tokens.session_id,
    tenant: options.tenant,
    email,
  });
  io.stderr(
    `logged in to ${client.server} as ${email}${options.tenant === undefined ? ' (platform)' : ` (tenant ${options.tenant})`}; tokens stored in ${displayPath(file)}\n`,
  );
}

export async function runLogout(
  options: { server?: string },
  io: CliIO = processIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const server = new AdminClient(options, env, undefined, 'none').server;
  if (loadLogin(env, server) === undefined) {
    throw new AdminCommandError(`not logged in to ${server}: nothing to log out of`);
  }
  // The stored login, never an admin token from the environment.
  const client = new AdminClient({ server }, { ...env, VERDICT_ADMIN_TOKEN: '' });
  await client.request('POST', '/v1/auth/logout').catch((err: unknown) => {
    // A session that has ended already is what logging out wants.
    if (!(err instanceof AdminCommandError && /ended|expired|not valid/i.test(err.message))) {
      throw err;
    }
  });
  forgetLogin(env, server);
  io.stderr(`logged out of ${server}\n`);
}

export function register(program: Command): void {
  program
    .command('login')
    .description('Log in as a platform user (password, then a TOTP code when MFA is on).')
    .option('--server <url>', `Verdict server (default: $VERDICT_SERVER or ${defaultServer})`)
    .option('--tenant <tenant>', 'tenant slug or id (omit for a platform admin)')
    .option('--email <email>', 'your e-mail address (asked for when absent)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--code <code>', 'the current code of your authenticator app')
    .option('--recovery-code <code>', 'one of your recovery codes, instead of --code')
    .option('--setup-token <token>', 'the invitation token: set your first password, then log in')
    .option('--print', 'print the tokens as JSON instead of storing them')
    .addHelpText(
      'after',
      '\nExamples:\n  $ verdict login --tenant acme --email ann@acme.example\n  $ verdict login --email root@example.com --password-stdin < password.txt\n  $ verdict login --tenant acme --email bo@acme.example --setup-token vst_...\n\nTokens are kept per server in ~/.config/verdict/credentials.json (mode 0600); admin\ncommands use them when no --token or VERDICT_ADMIN_TOKEN is given.\n',
    )
    .action(async (options: LoginOptions) => {
      await runLogin(options);
    });
  program
    .command('logout')
    .description('End your session on the server and forget the stored tokens.')
    .option('--server <url>', `Verdict server (default: $VERDICT_SERVER or ${defaultServer})`)
    .addHelpText('after', '\nExample:\n  $ verdict logout\n')
    .action(async (options: { server?: string }) => {
      await runLogout(options);
    });
}
