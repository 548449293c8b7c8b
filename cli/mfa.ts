/**
 * `verdict mfa enrol|confirm|disable|recovery-codes`: the signed-in user's second factor
 * (needs `verdict login`). `enrol` shows the secret as a QR code in the terminal and as an
 * otpauth:// URI; `confirm` turns MFA on with a first code and prints the recovery codes once.
 */
import type { Command } from 'commander';
import QRCode from 'qrcode';
import {
  AdminClient,
  printJson,
  processIO,
  withAdminOptions,
  type AdminOptions,
  type CliIO,
} from './admin-client';
import { readStdin, terminalPrompter, type Prompter } from './prompt';

function printRecoveryCodes(io: CliIO, codes: readonly string[]): void {
  io.stdout(`${codes.join('\n')}\n`);
  io.stderr(
    'store these recovery codes somewhere safe: each works once, and they are not shown again\n',
  );
}

export async function runMfaEnrol(
  options: AdminOptions,
  io: CliIO = processIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const enrolment = (await new AdminClient(options, env).request('POST', '/v1/users/me/mfa')) as {
    secret: string;
    otpauth_uri: string;
  };
  if (options.json === true) {
    printJson(io, enrolment);
    return;
  }
  io.stdout(
    await QRCode.toString(enrolment.otpauth_uri, { type: 'utf8', errorCorrectionLevel: 'M' }),
  );
  io.stdout(`${enrolment.otpauth_uri}\n`);
  io.stderr(
    `scan the code with your authenticator app (or type the secret ${enrolment.secret}), then run \`verdict mfa confirm <code>\`\n`,
  );
}

export async function runMfaConfirm(
  code: string,
  options: AdminOptions,
  io: CliIO = processIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const answer = (await new AdminClient(options, env).request('POST', '/v1/users/me/mfa/confirm', {
    code,
  })) as { recovery_codes: string[] };
  if (options.json === true) {
    printJson(io, answer);
    return;
  }
  io.stderr('two-factor authentication is on\n');
  printRecoveryCodes(io, answer.recovery_codes);
}

export async function runMfaRecoveryCodes(
  options: AdminOptions,
  io: CliIO = processIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const answer = (await new AdminClient(options, env).request(
    'POST',
    '/v1/users/me/mfa/recovery-codes',
  )) as { recovery_codes: string[] };
  if (options.json === true) printJson(io, answer);
  else printRecoveryCodes(io, answer.recovery_codes);
}

export async function runMfaDisable(
  options: AdminOptions & { passwordStdin?: boolean },
  io: CliIO = processIO,
  env: NodeJS.ProcessEnv = process.env,
  prompter: Prompter = terminalPrompter,
): Promise<void> {
  const password =
    options.passwordStdin === true ? await readStdin() : await prompter.ask('Password: ', true);
  await new AdminClient(options, env).request('POST', '/v1/users/me/mfa/disable', { password });
  io.stderr('two-factor authentication is off\n');
}

export function register(program: Command): void {
  const mfa = program
    .command('mfa')
    .description('Your two-factor authentication (TOTP): enrol a device, confirm it, turn it off.')
    .addHelpText('after', '\nExamples:\n  $ verdict mfa enrol\n  $ verdict mfa confirm 123456\n');
  withAdminOptions(
    mfa.command('enrol').description('Start enrolling an authenticator app; shows a QR code.'),
  )
    .addHelpText('after', '\nExample:\n  $ verdict mfa enrol\n')
    .action(async (options: AdminOptions) => {
      await runMfaEnrol(options);
    });
  withAdminOptions(
    mfa
      .command('confirm')
      .description('Turn MFA on with the first code from the app; prints recovery codes once.')
      .argument('<code>', 'the 6-digit code the app shows'),
  )
    .addHelpText('after', '\nExample:\n  $ verdict mfa confirm 123456\n')
    .action(async (code: string, options: AdminOptions) => {
      await runMfaConfirm(code, options);
    });
  withAdminOptions(
    mfa.command('recovery-codes').description('Replace your recovery codes with ten new ones.'),
  )
    .addHelpText('after', '\nExample:\n  $ verdict mfa recovery-codes > codes.txt\n')
    .action(async (options: AdminOptions) => {
      await runMfaRecoveryCodes(options);
    });
  withAdminOptions(
    mfa
      .command('disable')
      .description('Turn MFA off (asks for your password).')
      .option('--password-stdin', 'read the password from standard input'),
  )
    .addHelpText('after', '\nExample:\n  $ verdict mfa disable\n')
    .action(async (options: AdminOptions & { passwordStdin?: boolean }) => {
      await runMfaDisable(options);
    });
}
