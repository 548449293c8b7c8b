/**
 * `verdict` — the command-line entry point. Each command group lives in its own file under
 * cli/ and exports a `register(program)` function; this file only wires them together.
 */
import { Command } from 'commander';
import { verdictVersion } from '../api/version';
import { register as registerAudit } from './audit';
import { register as registerBackup } from './backup';
import { register as registerBuild } from './build';
import { register as registerBundles } from './bundles';
import { register as registerCasl } from './casl';
import { register as registerCheck } from './check';
import { register as registerCompliance } from './compliance';
import { register as registerDecisions } from './decisions';
import { register as registerEval } from './eval';
import { register as registerFmt } from './fmt';
import { register as registerGdpr } from './gdpr';
import { register as registerInit } from './init';
import { register as registerIdentityKeys } from './identity-keys';
import { register as registerInspect } from './inspect';
import { register as registerKeys } from './keys';
import { register as registerLogin } from './login';
import { register as registerMfa } from './mfa';
import { register as registerMigrate } from './migrate';
import { register as registerReplay } from './replay';
import { register as registerRollout } from './rollout';
import { register as registerServe } from './serve';
import { register as registerSign } from './sign';
import { register as registerTenants } from './tenants';
import { register as registerTest } from './test';
import { register as registerUsers } from './users';

type Registrar = (program: Command) => void;

const registrars: readonly Registrar[] = [
  registerServe,
  registerMigrate,
  registerAudit,
  registerBackup,
  registerTenants,
  registerKeys,
  registerIdentityKeys,
  registerLogin,
  registerUsers,
  registerMfa,
  registerBundles,
  registerRollout,
  registerReplay,
  registerDecisions,
  registerCompliance,
  registerGdpr,
  registerEval,
  registerFmt,
  registerCheck,
  registerBuild,
  registerTest,
  registerSign,
  registerInit,
  registerInspect,
  registerCasl,
];

export function buildProgram(): Command {
  const program = new Command('verdict')
    .description(
      'Policy-as-code authorization: author, test, build and serve Rego and CASL policies.',
    )
    .version(verdictVersion())
    // Program options only before the command: `verdict activate --version 1.2.0` is the
    // command's --version, not the program's.
    .enablePositionalOptions()
    .showHelpAfterError();
  for (const register of registrars) register(program);
  return program;
}

/** Runs the CLI on `argv`; errors end as one `verdict: message` line and exit code 1. */
export function run(argv: readonly string[] = process.argv): Promise<void> {
  return buildProgram()
    .parseAsync([...argv])
    .then(
      () => undefined,
      (err: unknown) => {
        process.stderr.write(`verdict: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 1;
      },
    );
}
