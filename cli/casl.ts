/**
 * `verdict casl rules <bundle> --user <json>`: the CASL rules one user gets from a CASL bundle
 * (a folder or a built .tar.gz) — the rules of the user's roles with `${user...}` templates
 * filled in — as raw rules, or packed (`--packed`, CASL's `packRules` form) for a front end's
 * `createMongoAbility(unpackRules(...))`.
 */
import * as fs from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { loadSources, SourceLoadError } from '../policies/bundle/sources';
import { readTarGz, TarError } from '../policies/bundle/tar';
import { BundleContentError, unpackBundle } from '../policies/bundle/unpack';
import { packedRulesForUser, rulesForUser } from '../policies/casl';
import { loadRuleSet, type CaslSource } from '../policies/casl/source';
import { formatDiagnostic } from '../policies/diagnostic';

export interface CaslRulesOptions {
  /** The principal: JSON text, or `@file` (JSON or YAML). */
  readonly user: string;
  readonly packed?: boolean;
}

export interface CaslIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

class CaslCommandError extends Error {}

function readRuleSetSource(target: string): CaslSource {
  if (fs.existsSync(target) && fs.statSync(target).isFile()) {
    let source;
    try {
      source = unpackBundle(readTarGz(fs.readFileSync(target))).ruleSet;
    } catch (err) {
      if (err instanceof TarError || err instanceof BundleContentError)
        throw new CaslCommandError(`${target}: ${err.message}`);
      throw err;
    }
    if (!source)
      throw new CaslCommandError(
        `${target}: not a CASL bundle (no rules.json or rules.yaml in it)`,
      );
    return source;
  }
  let loaded;
  try {
    loaded = loadSources([target]);
  } catch (err) {
    if (err instanceof SourceLoadError) throw new CaslCommandError(err.message);
    throw err;
  }
  const [bundle, ...more] = loaded.casl;
  if (!bundle || more.length > 0 || loaded.modules.length > 0)
    throw new CaslCommandError(
      `${target}: give one CASL bundle (a folder with rules.json, or a built .tar.gz)`,
    );
  return bundle.rules;
}

function readUser(text: string): unknown {
  const fromFile = text.startsWith('@');
  let raw = text;
  if (fromFile) {
    try {
      raw = fs.readFileSync(text.slice(1), 'utf8');
    } catch {
      throw new CaslCommandError(`--user: cannot read ${text.slice(1)}`);
    }
  }
  let user: unknown;
  try {
    user = fromFile ? parseYaml(raw) : JSON.parse(raw);
  } catch (err) {
    throw new CaslCommandError(
      `--user: not ${fromFile ? 'JSON or YAML' : 'JSON'}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (typeof user !== 'object' || user === null || Array.isArray(user))
    throw new CaslCommandError(
      '--user: the principal is an object, like {"id": "u1", "roles": ["editor"]}',
    );
  return user;
}

export function runCaslRules(target: string, options: CaslRulesOptions, io: CaslIO): number {
  try {
    const user = readUser(options.user);
    const loaded = loadRuleSet(readRuleSetSource(target));
    if (!loaded.rules) {
      for (const d of loaded.diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
      return 1;
    }
    const out = options.packed
      ? packedRulesForUser(loaded.rules, user)
      : rulesForUser(loaded.rules, user).map((r) => r.rule);
    io.stdout(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof CaslCommandError)) throw err;
    io.stderr(`verdict casl rules: ${err.message}\n`);
    return 1;
  }
}

export function register(program: Command): void {
  const casl = program
    .command('casl')
    .description('Work with CASL rule sets.')
    .addHelpText(
      'after',
      `\nExample:\n  $ verdict casl rules examples/casl --user '{"id": "u1"}'\n`,
    );
  casl
    .command('rules')
    .description(
      "Print the CASL rules one user gets (their roles' rules, templates filled in), raw or packed for a front end.",
    )
    .argument('<bundle>', 'a CASL bundle folder or a built bundle (.tar.gz)')
    .requiredOption('-u, --user <json>', 'the principal as JSON, or @file (JSON or YAML)')
    .option('--packed', "CASL's packRules form (read it with unpackRules)")
    .addHelpText(
      'after',
      `\nExamples:\n  $ verdict casl rules examples/casl --user '{"id": "u1", "roles": ["auditor"]}'\n  $ verdict casl rules documents.tar.gz --user @alice.json --packed\n`,
    )
    .action((bundle: string, options: CaslRulesOptions) => {
      process.exitCode = runCaslRules(bundle, options, {
        stdout: (t) => process.stdout.write(t),
        stderr: (t) => process.stderr.write(t),
      });
    });
}
