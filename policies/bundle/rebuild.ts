/**
 * Rebuilds a bundle someone else made (an OPA bundle server's `bundle.tar.gz`, as readTarGz
 * returns its files) into a Verdict bundle: its Rego (or CASL rule set) compiled by Verdict's
 * own compiler, its data mounted as OPA mounts it, its manifest reduced to the keys Verdict
 * knows. A `policy.wasm` the bundle carries was compiled by someone else's toolchain: it is left
 * out, and the entrypoints its manifest lists are compiled from the sources instead, so the
 * rebuilt bundle's wasm always matches its Rego. Plain values in and out; every refusal is a
 * `RebuildError` listing its problems, one line each.
 */
import { formatDiagnostic, type Diagnostic } from '../diagnostic';
import { fromJS, type ObjectValue } from '../ir/value';
import { buildBundle, buildCaslBundle, type BuiltBundle } from './build';
import { checkManifest, type ManifestSource } from './manifest';
import type { TarEntry } from './tar';
import { BundleContentError, MANIFEST_FILE, unpackBundle, type UnpackedBundle } from './unpack';

/** Why a bundle cannot be rebuilt; `problems` holds one line per problem. */
export class RebuildError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
    this.name = 'RebuildError';
  }
}

/** The files of a foreign bundle and what to add to its manifest. */
export interface RebuildRequest {
  readonly files: readonly TarEntry[];
  /** Entrypoints to compile beyond those the manifest lists (`pkg/rule`). */
  readonly entrypoints: readonly string[];
  /** Name and version when the manifest has none (OPA manifests never do). */
  readonly name?: string | undefined;
  readonly version?: string | undefined;
}

/** The rebuilt bundle, with notes on what was dropped from the source for the caller to report. */
export interface Rebuilt {
  readonly bundle: BuiltBundle;
  /** The `revision` the source manifest gave, if any (the rebuilt bundle has its own). */
  readonly sourceRevision?: string;
  /** The source carried a policy.wasm, left out for the one compiled here. */
  readonly droppedWasm: boolean;
  /** The source was signed; its signatures do not cover the rebuilt files. */
  readonly droppedSignatures: boolean;
}

/** Manifest keys OPA writes that a Verdict bundle does not keep. */
const sourceOnlyKeys = ['revision', 'wasm', 'rego_version', 'file_rego_versions'] as const;

type RawManifest = Record<string, unknown>;

function rawManifest(unpacked: UnpackedBundle): RawManifest {
  const { manifest } = unpacked;
  if (manifest === undefined) return {};
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) {
    throw new RebuildError([`${MANIFEST_FILE}: must be a JSON object`]);
  }
  return manifest as RawManifest;
}

/** The entrypoints the manifest's `wasm` section names (what the source's policy.wasm had). */
function wasmEntrypoints(raw: RawManifest): string[] {
  if (!Array.isArray(raw.wasm)) return [];
  return raw.wasm
    .map((w: unknown) => (w as { entrypoint?: unknown } | null)?.entrypoint)
    .filter((e): e is string => typeof e === 'string')
    .map((e) => e.replace(/^\/+/, ''));
}

/** The author's manifest keys, with name and version given where it has none. */
function settleManifest(raw: RawManifest, request: RebuildRequest): ManifestSource {
  const kept: RawManifest = { ...raw };
  for (const key of sourceOnlyKeys) Reflect.deleteProperty(kept, key);
  const problems: string[] = [];
  for (const field of ['name', 'version'] as const) {
    const given = request[field];
    if (given === undefined) continue;
    if (kept[field] !== undefined && kept[field] !== given) {
      problems.push(
        `${MANIFEST_FILE} says ${field} ${JSON.stringify(kept[field])} but --${field} says ${JSON.stringify(given)}: drop the option or make them agree`,
      );
    }
    kept[field] = given;
  }
  if (problems.length > 0) throw new RebuildError(problems);
  const checked = checkManifest(kept);
  if (checked.manifest === undefined) {
    throw new RebuildError(checked.problems.map((p) => `${MANIFEST_FILE}: ${p}`));
  }
  return checked.manifest;
}

function unpack(files: readonly TarEntry[]): UnpackedBundle {
  if (files.length === 0) throw new RebuildError(['the archive holds no files']);
  try {
    return unpackBundle(files);
  } catch (err) {
    if (err instanceof BundleContentError) throw new RebuildError(err.problems);
    throw err;
  }
}

/** Compile errors, with a hint when the manifest says the Rego is OPA's v0 syntax. */
function compileProblems(diagnostics: readonly Diagnostic[], raw: RawManifest): RebuildError {
  const problems = diagnostics.map(formatDiagnostic);
  if (raw.rego_version === 0) {
    problems.push(
      `${MANIFEST_FILE} says rego_version 0: Verdict compiles Rego v1 (rules with \`if\`, multi-value rules with \`contains\`); add \`import rego.v1\` and update the policy, or ask for the bundle built from v1 sources`,
    );
  }
  return new RebuildError(problems);
}

/** Rebuilds a foreign bundle from its sources; throws `RebuildError` when it cannot. */
export async function rebuildBundle(request: RebuildRequest): Promise<Rebuilt> {
  const unpacked = unpack(request.files);
  const raw = rawManifest(unpacked);
  const manifest = settleManifest(raw, request);
  const sourceRevision = typeof raw.revision === 'string' ? raw.revision : undefined;
  const notes = {
    ...(sourceRevision === undefined || sourceRevision === '' ? {} : { sourceRevision }),
    droppedWasm: unpacked.wasm !== undefined,
    droppedSignatures: unpacked.signed,
  };
  if ((manifest.engine ?? 'rego') === 'casl') {
    if (unpacked.ruleSet === undefined) {
      throw new RebuildError([
        'the manifest says engine "casl" but the bundle has no rule set (rules.json or rules.yaml at its top)',
      ]);
    }
    const built = await buildCaslBundle({ rules: unpacked.ruleSet, manifest });
    if (built.bundle === undefined) throw compileProblems(built.diagnostics, raw);
    return { bundle: built.bundle, ...notes };
  }
  if (unpacked.modules.length === 0) {
    throw new RebuildError([
      unpacked.wasm === undefined
        ? 'the bundle has no Rego sources (.rego files): nothing to compile'
        : 'the bundle carries a compiled policy.wasm but no Rego sources: Verdict compiles bundles from their sources; ask the bundle server for one built with the .rego files, or push the file as it is with `verdict push` (the server loads an OPA-built policy.wasm)',
    ]);
  }
  const entrypoints = [...wasmEntrypoints(raw), ...request.entrypoints];
  if (entrypoints.length === 0 && (manifest.entrypoints ?? []).length === 0) {
    throw new RebuildError([
      `no entrypoint: the bundle's ${MANIFEST_FILE} names none; name the rules to serve with -e pkg/rule (like -e authz/allow)`,
    ]);
  }
  const built = await buildBundle({
    modules: unpacked.modules,
    data: fromJS(unpacked.data) as ObjectValue,
    entrypoints,
    manifest,
  });
  if (built.bundle === undefined) throw compileProblems(built.diagnostics, raw);
  return { bundle: built.bundle, ...notes };
}
