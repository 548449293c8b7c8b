/**
 * The `verdict` program in-process, as the executable runs it (cli/main.ts `run`): the flags a
 * user types reach the command (`--key-id`, repeated `-e`, `--strict-builtin-errors`, `--format`,
 * `--packed`), the command's outcome becomes the exit code, an error ends as one
 * `verdict: message` line with exit code 1, and a bad flag value is refused while parsing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { buildProgram, run } from '../../../cli/main';
import { readTarGz } from '../../../policies/bundle/tar';
import { fixtureFolder } from '../../helpers/cli-io';

interface Outcome {
  code: number;
  out: string;
  err: string;
}

/** The exit code a command set (read through a function: commands set it behind our back). */
const exitCode = (): number | string | undefined => process.exitCode;

/** Runs `verdict ...args` in this process; the exit code it set, and what it printed. */
async function verdict(...args: string[]): Promise<Outcome> {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out.push(String(chunk));
    return true;
  });
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err.push(String(chunk));
    return true;
  });
  const saved = process.exitCode;
  process.exitCode = undefined;
  try {
    await run(['node', 'verdict', ...args]);
    return { code: Number(exitCode() ?? 0), out: out.join(''), err: err.join('') };
  } finally {
    process.exitCode = saved;
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

const policy = [
  'package shop',
  '',
  'default allow := false',
  '',
  'allow if input.role == "manager"',
  '',
  'amount := to_number(input.amount)',
  '',
].join('\n');

const policyTests = [
  'package shop_test',
  '',
  'import data.shop',
  '',
  'test_manager_allowed if shop.allow with input as {"role": "manager"}',
  '',
  'test_guest_denied if not shop.allow with input as {"role": "guest"}',
  '',
].join('\n');

describe('verdict, in-process', () => {
  const folder = fixtureFolder('program');

  it('generates keys, signs with a key id, verifies and inspects a bundle', async () => {
    const dir = folder.dir();
    const bundle = path.join(dir, 'shop.tar.gz');
    const key = path.join(dir, 'keys', 'release.pem');
    const signed = path.join(dir, 'signed.tar.gz');
    folder.write('shop/policy.rego', policy);

    const built = await verdict(
      'build',
      path.join(dir, 'shop'),
      '-o',
      bundle,
      '-e',
      'shop/allow',
      '-e',
      'shop/amount',
      '-q',
    );
    expect(built).toEqual({ code: 0, out: '', err: '' });

    expect((await verdict('keys', 'gen', '-o', key)).code).toBe(0);
    expect(
      await verdict('sign', bundle, '--key', key, '--key-id', 'release', '-o', signed),
    ).toEqual({ code: 0, out: '', err: `signed ${signed}\n` });
    const signatures = readTarGz(fs.readFileSync(signed)).find(
      (e) => e.path === '.signatures.json',
    );
    const jws = (
      JSON.parse(Buffer.from(signatures?.data ?? []).toString()) as {
        signatures: string[];
      }
    ).signatures[0];
    const header = JSON.parse(
      Buffer.from(jws?.split('.')[0] ?? '', 'base64url').toString(),
    ) as unknown;
    expect(header).toEqual({ alg: 'EdDSA', kid: 'release' });

    expect(await verdict('verify', signed, '--pubkey', `${key}.pub`)).toEqual({
      code: 0,
      out: `${signed}: signature valid, every file matches\n`,
      err: '',
    });
    // The unsigned original fails verification: exit code 1.
    expect((await verdict('verify', bundle, '--pubkey', `${key}.pub`)).code).toBe(1);

    const inspected = await verdict('inspect', signed, '--pubkey', `${key}.pub`, '--json');
    expect(inspected.code).toBe(0);
    const report = JSON.parse(inspected.out) as {
      signature: string;
      manifest: { wasm: { entrypoint: string }[] };
    };
    expect(report.signature).toBe('signed, verified with the given key');
    // Both -e flags reached the build.
    expect(report.manifest.wasm.map((w) => w.entrypoint)).toEqual(['shop/allow', 'shop/amount']);
  });

  it('exits 1 when a build, a key or a bundle is refused', async () => {
    const dir = folder.dir();
    expect(
      await verdict('build', path.join(dir, 'none'), '-o', path.join(dir, 'x.tar.gz')),
    ).toEqual({
      code: 1,
      out: '',
      err: `verdict build: ${path.join(dir, 'none')}: no such file or directory\n`,
    });
    const key = folder.write('k.pem', 'taken');
    expect((await verdict('keys', 'gen', '-o', key)).code).toBe(1);
    expect((await verdict('inspect', path.join(dir, 'none.tar.gz'))).code).toBe(1);
  });

  it('checks, tests and evaluates policies with the flags given', async () => {
    const dir = folder.dir();
    const file = folder.write('shop/policy.rego', policy);
    folder.write('shop/policy_test.rego', policyTests);

    expect(await verdict('check', path.join(dir, 'shop'))).toEqual({
      code: 0,
      out: '',
      err: '2 files checked, no errors\n',
    });
    expect((await verdict('fmt', '--check', file)).code).toBe(0);

    const tested = await verdict(
      'test',
      path.join(dir, 'shop'),
      '--engine',
      'interp',
      '--format',
      'json',
      '--run',
      'manager',
    );
    expect(tested.code).toBe(0);
    const results = JSON.parse(tested.out) as { engine: string; passed: number; failed: number };
    expect(results).toMatchObject({ engine: 'interp', passed: 1, failed: 0 });

    const input = folder.write('input.json', '{"role": "manager", "amount": "12.5"}');
    expect(await verdict('eval', '-d', file, '-i', input, 'data.shop.amount')).toEqual({
      code: 0,
      out: '12.5\n',
      err: '',
    });
    // A builtin error makes the expression undefined, unless it is asked to end the query.
    const bad = folder.write('bad.json', '{"amount": "twelve"}');
    expect((await verdict('eval', '-d', file, '-i', bad, 'data.shop.amount')).out).toBe(
      'undefined\n',
    );
    const strict = await verdict(
      'eval',
      '-d',
      file,
      '-i',
      bad,
      '--strict-builtin-errors',
      'data.shop.amount',
    );
    expect(strict.code).toBe(1);
    expect(strict.err).toContain('to_number');
  });

  it('creates a bundle folder and prints the CASL rules a user gets', async () => {
    const dir = path.join(folder.dir(), 'docs');
    expect((await verdict('init', dir, '--template', 'casl')).code).toBe(0);
    expect(fs.existsSync(path.join(dir, 'rules.json'))).toBe(true);

    const user = folder.write('u9.json', '{"id": "u9"}');
    const packed = await verdict('casl', 'rules', dir, '--user', `@${user}`, '--packed');
    expect(packed.code).toBe(0);
    const rules = JSON.parse(packed.out) as unknown[];
    // Packed rules are arrays (CASL's packRules form), not rule objects.
    expect(rules.length).toBeGreaterThan(0);
    expect(rules.every((r) => Array.isArray(r))).toBe(true);
    expect((await verdict('casl', 'rules', dir, '--user', '[]')).code).toBe(1);
  });

  it('ends an error as one `verdict: message` line and exit code 1', async () => {
    expect(
      await verdict(
        'rollout',
        'start',
        '--tenant',
        'acme',
        '--bundle',
        'rbac',
        '--version',
        '1.1.0',
        '--canary',
        '20%',
        '--shadow',
      ),
    ).toEqual({
      code: 1,
      out: '',
      err: 'verdict: give exactly one of --canary <percent> and --shadow\n',
    });
  });
});

describe('verdict --version', () => {
  it("is the installation's version from package.json", () => {
    const manifest = JSON.parse(
      fs.readFileSync(path.join(__dirname, '../../../package.json'), 'utf8'),
    ) as { version: string };
    expect(buildProgram().version()).toBe(manifest.version);
  });
});

describe('flag values refused while parsing', () => {
  /** The first error line when `args` are parsed, or '' when they are accepted. */
  async function refusal(args: string[]): Promise<string> {
    const program = buildProgram();
    let err = '';
    const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
    for (const c of all(program)) {
      c.exitOverride().configureOutput({
        writeOut: () => undefined,
        writeErr: (t) => (err += t),
        outputError: (t) => (err += t),
      });
      // Parse only: no command runs.
      c.action(() => undefined);
    }
    try {
      await program.parseAsync(args, { from: 'user' });
    } catch {
      // The error is in `err`.
    }
    return err.split('\n')[0] ?? '';
  }

  const start = ['rollout', 'start', '--tenant', 'acme', '--bundle', 'rbac', '--version', '1.1.0'];

  it.each(['0', '100.5', 'twenty', '-5%'])('refuses --canary %s', async (value) => {
    expect(await refusal([...start, '--canary', value])).toBe(
      `error: option '--canary <percent>' argument '${value}' is invalid. give a percentage of traffic above 0 and at most 100, e.g. 20`,
    );
  });

  it.each(['20', '20%', '100', '0.5'])('accepts --canary %s', async (value) => {
    expect(await refusal([...start, '--canary', value])).toBe('');
  });

  it('names a required option that is missing', async () => {
    expect(await refusal(['sign', 'bundle.tar.gz'])).toBe(
      "error: required option '--key <file>' not specified",
    );
  });
});
