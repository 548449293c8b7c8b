/**
 * `verdict build <paths...> -o bundle.tar.gz -e rbac/allow [-e ...] [--ir]`: compiles Rego (or a
 * CASL rule set folder) to policy.wasm and writes an OPA-layout bundle.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { formatDiagnostic } from '../policies/diagnostic';
import { printPolicy } from '../policies/ir/print';
import { BUILD_STAGES, buildBundle, buildCaslBundle } from '../policies/bundle/build';
import { Progress, type ProgressStream } from './progress';
import { CASL_ENTRYPOINT } from '../policies/casl';
import { parseManifest, type ManifestSource } from '../policies/bundle/manifest';
import { loadSources, SourceLoadError } from '../policies/bundle/sources';

export interface BuildOptions {
  readonly output: string;
  readonly entrypoint: readonly string[];
  readonly ir?: boolean;
  /** No summary line on success. */
  readonly quiet?: boolean;
}

export interface BuildIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Where a progress bar may be drawn (standard error when it is a terminal). */
  readonly progress?: ProgressStream;
}

/** Runs the build; returns the exit code. Nothing is written when anything is wrong. */
export async function runBuild(
  paths: readonly string[],
  options: BuildOptions,
  io: BuildIO,
): Promise<number> {
  let sources;
  try {
    sources = loadSources(paths);
  } catch (err) {
    if (err instanceof SourceLoadError) {
      io.stderr(`verdict build: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  // A folder's `.manifest` carries the author's name, version, entrypoints and metadata.
  const manifestFile = paths.map((p) => path.join(p, '.manifest')).find((f) => fs.existsSync(f));
  let manifest: ManifestSource | undefined;
  if (manifestFile) {
    const parsed = parseManifest(fs.readFileSync(manifestFile, 'utf8'));
    if (!parsed.manifest) {
      for (const p of parsed.problems) io.stderr(`${manifestFile}: ${p}\n`);
      return 1;
    }
    manifest = parsed.manifest;
  }
  const [only] = paths;
  const root =
    paths.length === 1 && only !== undefined && fs.statSync(only).isDirectory() ? only : undefined;
  const [casl, ...moreCasl] = sources.casl;
  if (casl && (moreCasl.length > 0 || sources.modules.length > 0)) {
    io.stderr(
      `verdict build: a bundle is either Rego or one CASL rule set; build ${sources.casl.map((c) => c.dir).join(', ')} on ${sources.casl.length > 1 ? 'their' : 'its'} own\n`,
    );
    return 1;
  }
  if (casl && options.entrypoint.some((e) => e !== CASL_ENTRYPOINT)) {
    io.stderr(`verdict build: a CASL bundle has the one entrypoint ${CASL_ENTRYPOINT}; drop -e\n`);
    return 1;
  }
  const started = process.hrtime.bigint();
  const progress = new Progress(io.progress ?? { write: () => undefined }, BUILD_STAGES, {
    quiet: options.quiet ?? false,
  });
  let stage = 0;
  const onStage = (label: string): void => {
    progress.update(label, ++stage);
  };
  const { bundle, diagnostics } = casl
    ? await buildCaslBundle({
        rules: casl.rules,
        root: casl.dir,
        onStage,
        ...(manifest ? { manifest } : {}),
      })
    : await buildBundle({
        modules: sources.modules,
        data: sources.data,
        entrypoints: options.entrypoint,
        onStage,
        ...(manifest ? { manifest } : {}),
        ...(root !== undefined ? { root } : {}),
      });
  progress.finish();
  if (!bundle) {
    for (const d of diagnostics) io.stderr(formatDiagnostic(d) + '\n');
    return 1;
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (options.ir) io.stdout(printPolicy(bundle.policy));
  const out = path.resolve(options.output);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, bundle.tarGz);
  if (!options.quiet)
    io.stderr(
      `built ${options.output}: revision ${bundle.manifest.revision}, entrypoints ${bundle.manifest.wasm
        .map((w) => w.entrypoint)
        .join(', ')}, policy.wasm ${bundle.wasm.byteLength} bytes, in ${ms.toFixed(0)} ms\n`,
    );
  return 0;
}

export function register(program: Command): void {
  program
    .command('build')
    .description(
      'Compile Rego policies or a CASL rule set to WebAssembly and write an OPA-layout bundle (.tar.gz).',
    )
    .argument('<paths...>', 'policy and data files or directories')
    .requiredOption('-o, --output <file>', 'bundle file to write')
    .option(
      '-e, --entrypoint <path>',
      'rule to expose, as pkg/rule (repeatable; adds to the .manifest entrypoints)',
      collect,
      [],
    )
    .option('--ir', 'print the planned IR to standard output')
    .option('-q, --quiet', 'no summary line on success')
    .addHelpText(
      'after',
      '\nExamples:\n  $ verdict build examples/rbac -o rbac.tar.gz -e rbac/allow -e rbac/reasons\n  $ verdict build examples/casl -o casl.tar.gz   # a CASL rule set: entrypoint casl/decision\n',
    )
    .action(async (paths: string[], options: BuildOptions) => {
      process.exitCode = await runBuild(paths, options, {
        stdout: (t) => process.stdout.write(t),
        stderr: (t) => process.stderr.write(t),
        progress: process.stderr,
      });
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
