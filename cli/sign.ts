/**
 * `verdict keys gen`, `verdict sign`, `verdict verify`: Ed25519 bundle signatures in OPA's
 * `/.signatures.json` layout.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { generateKeys, signBundle, SignatureError, verifyBundle } from '../policies/bundle/sign';
import { TarError } from '../policies/bundle/tar';
import { commandGroup } from './command-group';

export interface SignIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

function readFile(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SignatureError(
      `cannot read the ${what} ${file}${code === 'ENOENT' ? ': no such file' : ''}`,
    );
  }
}

/** Writes a new key pair: `<out>` (private, mode 0600) and `<out>.pub`; refuses to overwrite. */
export function runKeysGen(out: string, io: SignIO): number {
  const pub = `${out}.pub`;
  for (const f of [out, pub]) {
    if (fs.existsSync(f)) {
      io.stderr(
        `verdict keys gen: ${f} exists; nothing written (remove it or choose another name)\n`,
      );
      return 1;
    }
  }
  const { privateKey, publicKey } = generateKeys();
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  fs.writeFileSync(out, privateKey, { mode: 0o600 });
  fs.writeFileSync(pub, publicKey);
  io.stderr(`wrote ${out} (private key, keep it secret) and ${pub} (public key)\n`);
  return 0;
}

export function runSign(
  bundle: string,
  options: { key: string; output?: string; keyId?: string },
  io: SignIO,
): number {
  try {
    const signed = signBundle(
      readFile(bundle, 'bundle'),
      readFile(options.key, 'key').toString(),
      options.keyId,
    );
    const out = options.output ?? bundle;
    fs.writeFileSync(out, signed);
    io.stderr(`signed ${out}\n`);
    return 0;
  } catch (err) {
    if (err instanceof SignatureError || err instanceof TarError) {
      io.stderr(`verdict sign: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

export function runVerify(bundle: string, options: { pubkey: string }, io: SignIO): number {
  try {
    const result = verifyBundle(
      readFile(bundle, 'bundle'),
      readFile(options.pubkey, 'public key').toString(),
    );
    if (result.ok) {
      io.stdout(`${bundle}: signature valid, every file matches\n`);
      return 0;
    }
    for (const p of result.problems) io.stderr(`${bundle}: ${p}\n`);
    return 1;
  } catch (err) {
    if (err instanceof SignatureError) {
      io.stderr(`verdict verify: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

const stdio: SignIO = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

export function register(program: Command): void {
  const keys = commandGroup(program, 'keys');
  keys
    .command('gen')
    .description('Generate an Ed25519 key pair for signing bundles.')
    .option(
      '-o, --output <file>',
      'private key file (the public key goes to <file>.pub)',
      'verdict-signing.pem',
    )
    .addHelpText('after', '\nExample:\n  $ verdict keys gen -o keys/release.pem\n')
    .action((options: { output: string }) => {
      process.exitCode = runKeysGen(options.output, stdio);
    });
  program
    .command('sign')
    .description('Sign a bundle: adds /.signatures.json (a JWS over the SHA-256 of every file).')
    .argument('<bundle>', 'bundle .tar.gz')
    .requiredOption('--key <file>', 'Ed25519 private key (PEM)')
    .option('-o, --output <file>', 'write the signed bundle here instead of in place')
    .option('--key-id <id>', 'key id recorded in the signature', 'default')
    .addHelpText('after', '\nExample:\n  $ verdict sign rbac.tar.gz --key keys/release.pem\n')
    .action((bundle: string, options: { key: string; output?: string; keyId?: string }) => {
      process.exitCode = runSign(bundle, options, stdio);
    });
  program
    .command('verify')
    .description(
      'Verify a signed bundle; names every file changed, missing or added since signing.',
    )
    .argument('<bundle>', 'bundle .tar.gz')
    .requiredOption('--pubkey <file>', 'Ed25519 public key (PEM)')
    .addHelpText(
      'after',
      '\nExample:\n  $ verdict verify rbac.tar.gz --pubkey keys/release.pem.pub\n',
    )
    .action((bundle: string, options: { pubkey: string }) => {
      process.exitCode = runVerify(bundle, options, stdio);
    });
}
