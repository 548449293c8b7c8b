/**
 * Builds an OPA-layout bundle: `/.manifest`, `/data.json`, `/policy.wasm` and the Rego
 * sources, as a reproducible .tar.gz. The revision is a hash of the content.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { Diagnostic } from '../diagnostic';
import { toJSONText, type ObjectValue } from '../ir/value';
import type { Policy } from '../ir/types';
import { compileSources, type SourceFile } from '../query';
import { buildWasm } from '../wasm/compile';
import type { ManifestSource } from './manifest';
import { writeTarGz, type TarEntry } from './tar';

export interface BuildRequest {
  readonly modules: readonly SourceFile[];
  readonly data: ObjectValue;
  /** Entrypoints as `pkg/rule` paths (`rbac/allow`); added to the manifest's. */
  readonly entrypoints: readonly string[];
  /** The author's `.manifest` (name, version, roots, engine, entrypoints, metadata). */
  readonly manifest?: ManifestSource;
  /** Sources are stored in the bundle relative to this folder. */
  readonly root?: string;
}

export interface BuiltBundle {
  readonly tarGz: Buffer;
  readonly manifest: Manifest;
  readonly wasm: Uint8Array;
  readonly policy: Policy;
}

export interface Manifest {
  readonly name?: string;
  readonly version?: string;
  readonly revision: string;
  readonly roots: readonly string[];
  readonly engine: 'rego';
  readonly entrypoints: readonly string[];
  readonly wasm: readonly { readonly entrypoint: string; readonly module: string }[];
  readonly metadata?: Readonly<Record<string, unknown>>;
}

export async function buildBundle(
  request: BuildRequest,
): Promise<{ bundle?: BuiltBundle; diagnostics: Diagnostic[] }> {
  const source = request.manifest ?? {};
  if (source.engine === 'casl') {
    return {
      diagnostics: [
        {
          code: 'rego_compile_error',
          message:
            'engine "casl": CASL bundles are not built by this version yet; use engine "rego"',
        },
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
  const built = await buildWasm(program, entrypoints);
  if (!built.wasm || !built.policy) return { diagnostics: built.diagnostics };

  const encoder = new TextEncoder();
  const dataJSON = encoder.encode(toJSONText(request.data));
  const sources: TarEntry[] = [...request.modules]
    .sort((a, b) => a.file.localeCompare(b.file))
    .map((m) => ({
      path: request.root ? path.relative(request.root, m.file).split(path.sep).join('/') : m.file,
      data: encoder.encode(m.text),
    }));
  const roots =
    source.roots ??
    [...new Set(program.modules.map((m) => m.package.path[0] ?? ''))]
      .filter((r) => r !== '')
      .sort();
  const hash = createHash('sha256');
  for (const entry of [
    { path: 'data.json', data: dataJSON },
    { path: 'policy.wasm', data: built.wasm },
    ...sources,
  ]) {
    hash.update(entry.path).update('\0').update(entry.data);
  }
  const manifest: Manifest = {
    ...(source.name !== undefined ? { name: source.name } : {}),
    ...(source.version !== undefined ? { version: source.version } : {}),
    revision: hash.digest('hex').slice(0, 16),
    roots,
    engine: 'rego',
    entrypoints: entrypoints.map((e) => e.name),
    wasm: entrypoints.map((e) => ({ entrypoint: e.name, module: '/policy.wasm' })),
    ...(source.metadata !== undefined ? { metadata: source.metadata } : {}),
  };
  const tarGz = writeTarGz([
    { path: '.manifest', data: encoder.encode(JSON.stringify(manifest, null, 2) + '\n') },
    { path: 'data.json', data: dataJSON },
    { path: 'policy.wasm', data: built.wasm },
    ...sources,
  ]);
  return { bundle: { tarGz, manifest, wasm: built.wasm, policy: built.policy }, diagnostics: [] };
}
