/**
 * Builds an OPA-layout bundle: `/.manifest`, `/data.json`, `/policy.wasm` and the sources
 * (Rego modules, or a CASL rule set), as a reproducible .tar.gz. The revision is a hash of the
 * content.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { Diagnostic } from '../diagnostic';
import { toJSONText, type ObjectValue } from '../ir/value';
import type { Policy } from '../ir/types';
import { buildCaslWasm, CASL_ENTRYPOINT } from '../casl';
import { compileRuleSetSource, type CaslSource } from '../casl/source';
import { compileSources, type SourceFile } from '../query';
import { buildWasm } from '../wasm/compile';
import type { ManifestSource } from './manifest';
import { writeTarGz, type TarEntry } from './tar';

/**
 * What `buildBundle` needs: the Rego modules and data, the entrypoints to compile, and the
 * author's manifest.
 */
export interface BuildRequest {
  readonly modules: readonly SourceFile[];
  readonly data: ObjectValue;
  /** Entrypoints as `pkg/rule` paths (`rbac/allow`); added to the manifest's. */
  readonly entrypoints: readonly string[];
  /** The author's `.manifest` (name, version, roots, engine, entrypoints, metadata). */
  readonly manifest?: ManifestSource;
  /** Sources are stored in the bundle relative to this folder. */
  readonly root?: string;
  /** Told each stage as it starts (compiling, planning, generating WebAssembly, writing). */
  readonly onStage?: (stage: string) => void;
}

/** How many stages `onStage` reports. */
export const BUILD_STAGES = 4;

/**
 * A built bundle: the .tar.gz to ship, plus the manifest, wasm and policy it holds, so callers
 * need not unpack it again.
 */
export interface BuiltBundle {
  readonly tarGz: Buffer;
  readonly manifest: Manifest;
  readonly wasm: Uint8Array;
  readonly policy: Policy;
}

/**
 * The `.manifest` a built bundle carries: the author's keys completed with the revision, the
 * entrypoints and the wasm list.
 */
export interface Manifest {
  readonly name?: string;
  readonly version?: string;
  readonly revision: string;
  readonly roots: readonly string[];
  readonly engine: 'rego' | 'casl';
  readonly entrypoints: readonly string[];
  readonly wasm: readonly { readonly entrypoint: string; readonly module: string }[];
  readonly metadata?: Readonly<Record<string, unknown>>;
  readonly mask?: readonly string[];
  readonly cache?: 'auto' | 'on' | 'off';
}

/**
 * Builds a Rego bundle. Compile errors, and entrypoints that name no rule or package, come back
 * as diagnostics with no bundle.
 */
export async function buildBundle(
  request: BuildRequest,
): Promise<{ bundle?: BuiltBundle; diagnostics: Diagnostic[] }> {
  const source = request.manifest ?? {};
  if (source.engine === 'casl') {
    return {
      diagnostics: [
        compileError(
          'the .manifest says engine "casl", but no CASL rule set (rules.json or rules.yaml) was given',
        ),
      ],
    };
  }
  const wanted = [...new Set([...(source.entrypoints ?? []), ...request.entrypoints])];
  if (wanted.length === 0) {
    return {
      diagnostics: [
        {
          code: 'rego_compile_error',
          message: 'no entrypoint given: name at least one with -e pkg/rule',
        },
      ],
    };
  }
  const onStage = request.onStage ?? (() => undefined);
  onStage('compiling');
  const compiled = compileSources(request.modules);
  if (!compiled.program) return { diagnostics: compiled.diagnostics };
  const program = compiled.program;
  const missing: Diagnostic[] = [];
  const entrypoints = wanted.map((e) => {
    const path = e
      .replace(/^data[./]/, '')
      .split(/[/.]/)
      .filter((p) => p !== '');
    const node = program.tree.node(path);
    if (
      !node ||
      (node.defs.length === 0 && node.defaultDef === undefined && node.children.size === 0)
    ) {
      missing.push({
        code: 'rego_compile_error',
        message: `entrypoint ${e} names no rule or package (data.${path.join('.')} is not defined by the policy)`,
      });
    }
    return { name: path.join('/'), path };
  });
  if (missing.length > 0) return { diagnostics: missing };
  const built = await buildWasm(program, entrypoints, [], onStage);
  if (!built.wasm || !built.policy) return { diagnostics: built.diagnostics };
  onStage('writing the bundle');

  const encoder = new TextEncoder();
  const sources: TarEntry[] = request.modules.map((m) => ({
    path: storedPath(m.file, request.root),
    data: encoder.encode(m.text),
  }));
  const roots =
    source.roots ??
    [...new Set(program.modules.map((m) => m.package.path[0] ?? ''))]
      .filter((r) => r !== '')
      .sort();
  const { tarGz, manifest } = assemble({
    source,
    engine: 'rego',
    roots,
    entrypoints: entrypoints.map((e) => e.name),
    data: encoder.encode(toJSONText(request.data)),
    wasm: built.wasm,
    sources,
  });
  return { bundle: { tarGz, manifest, wasm: built.wasm, policy: built.policy }, diagnostics: [] };
}

/** Where a source file sits in the bundle: relative to the bundle folder, with `/`. */
function storedPath(file: string, root: string | undefined): string {
  return root ? path.relative(root, file).split(path.sep).join('/') : file;
}

interface Assembly {
  readonly source: ManifestSource;
  readonly engine: 'rego' | 'casl';
  readonly roots: readonly string[];
  readonly entrypoints: readonly string[];
  readonly data: Uint8Array;
  readonly wasm: Uint8Array;
  readonly sources: readonly TarEntry[];
}

/** The manifest (with the content revision) and the reproducible .tar.gz of a built bundle. */
function assemble(a: Assembly): { tarGz: Buffer; manifest: Manifest } {
  const sources = [...a.sources].sort((x, y) => x.path.localeCompare(y.path));
  const hash = createHash('sha256');
  for (const entry of [
    { path: 'data.json', data: a.data },
    { path: 'policy.wasm', data: a.wasm },
    ...sources,
  ]) {
    hash.update(entry.path).update('\0').update(entry.data);
  }
  const manifest: Manifest = {
    ...(a.source.name !== undefined ? { name: a.source.name } : {}),
    ...(a.source.version !== undefined ? { version: a.source.version } : {}),
    revision: hash.digest('hex').slice(0, 16),
    roots: a.roots,
    engine: a.engine,
    entrypoints: a.entrypoints,
    wasm: a.entrypoints.map((e) => ({ entrypoint: e, module: '/policy.wasm' })),
    ...(a.source.metadata !== undefined ? { metadata: a.source.metadata } : {}),
    ...(a.source.mask !== undefined ? { mask: a.source.mask } : {}),
    ...(a.source.cache !== undefined ? { cache: a.source.cache } : {}),
  };
  const tarGz = writeTarGz([
    {
      path: '.manifest',
      data: new TextEncoder().encode(JSON.stringify(manifest, null, 2) + '\n'),
    },
    { path: 'data.json', data: a.data },
    { path: 'policy.wasm', data: a.wasm },
    ...sources,
  ]);
  return { tarGz, manifest };
}

/** What `buildCaslBundle` needs: the rule set file and the author's manifest. */
export interface CaslBuildRequest {
  /** The rule set file (rules.json or rules.yaml). */
  readonly rules: CaslSource;
  readonly manifest?: ManifestSource;
  /** The rule set is stored in the bundle relative to this folder. */
  readonly root?: string;
  readonly onStage?: (stage: string) => void;
}

/**
 * Builds a CASL bundle: the rule set compiled to policy.wasm with the entrypoint
 * `casl/decision`, the rule set file itself (servers read it for per-user packed rules), an
 * empty data.json and a manifest with `"engine": "casl"`.
 */
export async function buildCaslBundle(
  request: CaslBuildRequest,
): Promise<{ bundle?: BuiltBundle; diagnostics: Diagnostic[] }> {
  const source = request.manifest ?? {};
  const problems: Diagnostic[] = [];
  if (source.engine === 'rego')
    problems.push(
      compileError(
        'the .manifest says engine "rego", but this folder is a CASL rule set: set "engine": "casl"',
      ),
    );
  const wrong = (source.entrypoints ?? []).filter((e) => e !== CASL_ENTRYPOINT);
  if (wrong.length > 0)
    problems.push(
      compileError(
        `a CASL bundle has the one entrypoint ${CASL_ENTRYPOINT}; remove ${wrong.join(', ')} from the manifest`,
      ),
    );
  if (source.roots !== undefined && source.roots.join() !== 'casl')
    problems.push(
      compileError('a CASL bundle\'s roots are ["casl"]; remove "roots" from the manifest'),
    );
  if (problems.length > 0) return { diagnostics: problems };
  const onStage = request.onStage ?? (() => undefined);
  onStage('compiling');
  const compiled = compileRuleSetSource(request.rules);
  if (!compiled.program) return { diagnostics: [...compiled.diagnostics] };
  const built = await buildCaslWasm(compiled.program, onStage);
  if (!built.wasm || !built.policy) return { diagnostics: built.diagnostics };
  onStage('writing the bundle');
  const encoder = new TextEncoder();
  const { tarGz, manifest } = assemble({
    source,
    engine: 'casl',
    roots: ['casl'],
    entrypoints: [CASL_ENTRYPOINT],
    data: encoder.encode('{}'),
    wasm: built.wasm,
    sources: [
      {
        path: storedPath(request.rules.file, request.root),
        data: encoder.encode(request.rules.text),
      },
    ],
  });
  return { bundle: { tarGz, manifest, wasm: built.wasm, policy: built.policy }, diagnostics: [] };
}

function compileError(message: string): Diagnostic {
  return { code: 'rego_compile_error', message };
}
