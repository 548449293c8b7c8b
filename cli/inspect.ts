/**
 * `verdict inspect <bundle>`: what a bundle holds — manifest, entrypoints, files and sizes,
 * signature status, and the METADATA annotations of its rules.
 */
import * as fs from 'node:fs';
import type { Command } from 'commander';
import { SIGNATURES_FILE, verifyBundle } from '../policies/bundle/sign';
import { readTarGz, TarError } from '../policies/bundle/tar';
import { parseModule } from '../policies/rego/parser';

export interface InspectIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export function runInspect(
  bundle: string,
  options: { pubkey?: string; json?: boolean },
  io: InspectIO,
): number {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(bundle);
  } catch {
    io.stderr(`verdict inspect: cannot read ${bundle}\n`);
    return 1;
  }
  let entries;
  try {
    entries = readTarGz(bytes);
  } catch (err) {
    io.stderr(
      `verdict inspect: ${bundle}: ${err instanceof TarError ? err.message : String(err)}\n`,
    );
    return 1;
  }
  const manifestEntry = entries.find((e) => e.path === '.manifest');
  let manifest: unknown = undefined;
  if (manifestEntry) {
    try {
      manifest = JSON.parse(Buffer.from(manifestEntry.data).toString());
    } catch {
      manifest = undefined;
    }
  }
  const signed = entries.some((e) => e.path === SIGNATURES_FILE);
  let signature = signed ? 'signed (give --pubkey to verify)' : 'not signed';
  if (signed && options.pubkey) {
    const result = verifyBundle(bytes, fs.readFileSync(options.pubkey, 'utf8'));
    signature = result.ok
      ? 'signed, verified with the given key'
      : `signed, NOT valid: ${result.problems.join('; ')}`;
  }
  const annotations: { file: string; rule: string; fields: Readonly<Record<string, unknown>> }[] =
    [];
  for (const e of entries.filter((x) => x.path.endsWith('.rego'))) {
    const parsed = parseModule(Buffer.from(e.data).toString(), e.path);
    for (const rule of parsed.module?.rules ?? []) {
      for (const a of rule.annotations) {
        const name = rule.head.ref
          .map((t) => (t.type === 'var' ? t.name : t.type === 'string' ? t.value : '[…]'))
          .join('.');
        annotations.push({
          file: e.path,
          rule: `data.${parsed.module?.package.path.join('.') ?? ''}.${name}`,
          fields: a.fields,
        });
      }
    }
  }
  const files = entries.map((e) => ({ path: e.path, bytes: e.data.byteLength }));
  if (options.json) {
    io.stdout(`${JSON.stringify({ manifest, signature, files, annotations }, null, 2)}\n`);
    return 0;
  }
  const m = (manifest ?? {}) as {
    name?: string;
    version?: string;
    revision?: string;
    roots?: string[];
    wasm?: { entrypoint: string }[];
  };
  io.stdout(`bundle     ${bundle}\n`);
  io.stdout(
    `name       ${m.name ?? '(none)'}  version ${m.version ?? '(none)'}  revision ${m.revision ?? '(none)'}\n`,
  );
  io.stdout(`roots      ${(m.roots ?? []).join(', ') || '(none)'}\n`);
  io.stdout(`entrypoints ${(m.wasm ?? []).map((w) => w.entrypoint).join(', ') || '(none)'}\n`);
  io.stdout(`signature  ${signature}\n`);
  io.stdout('files\n');
  for (const f of files) io.stdout(`  ${String(f.bytes).padStart(9)}  ${f.path}\n`);
  if (annotations.length > 0) {
    io.stdout('annotations\n');
    for (const a of annotations) {
      const title = typeof a.fields.title === 'string' ? a.fields.title : '';
      const description =
        typeof a.fields.description === 'string' ? ` — ${a.fields.description}` : '';
      io.stdout(`  ${a.rule} (${a.file}): ${title}${description}\n`);
    }
  }
  return 0;
}

export function register(program: Command): void {
  program
    .command('inspect')
    .description(
      'Show what a bundle holds: manifest, entrypoints, files, signature, rule annotations.',
    )
    .argument('<bundle>', 'bundle .tar.gz')
    .option('--pubkey <file>', 'verify the signature with this Ed25519 public key')
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      '\nExample:\n  $ verdict inspect rbac.tar.gz --pubkey keys/release.pem.pub\n',
    )
    .action((bundle: string, options: { pubkey?: string; json?: boolean }) => {
      process.exitCode = runInspect(bundle, options, {
        stdout: (t) => process.stdout.write(t),
        stderr: (t) => process.stderr.write(t),
      });
    });
}
