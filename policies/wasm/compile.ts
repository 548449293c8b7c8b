/**
 * Rego sources → policy.wasm: parse, compile, plan the entrypoints, generate code over the
 * runtime module.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Diagnostic } from '../diagnostic';
import { PolicyError } from '../diagnostic';
import { Planner, type PlanOptions } from '../ir/plan';
import type { Policy } from '../ir/types';
import type { CompiledProgram } from '../rego/compile';
import { CodegenError, generateWasm } from './codegen';

let runtimeBytes: Uint8Array | undefined;

/** The package root: the nearest folder above this file with a package.json. */
function packageRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the verdict package root');
    dir = up;
  }
  return dir;
}

/** dist/wasm/runtime.wasm, built by `npm run build`. */
export function runtimeWasm(): Uint8Array {
  if (!runtimeBytes) {
    const file = path.join(packageRoot(), 'dist', 'wasm', 'runtime.wasm');
    if (!fs.existsSync(file)) {
      throw new Error(`the WASM runtime is not built (${file} is missing): run npm run build`);
    }
    runtimeBytes = fs.readFileSync(file);
  }
  return runtimeBytes;
}

/** A rule to export from the module, by the name the SDK knows it by. */
export interface WasmEntrypoint {
  /** Name the SDK sees (`rbac/allow`). */
  readonly name: string;
  /** Rule path below data. */
  readonly path: readonly string[];
}

/** The module and the IR it came from, or the diagnostics that stopped the build. */
export interface WasmBuild {
  readonly wasm?: Uint8Array;
  readonly policy?: Policy;
  readonly diagnostics: Diagnostic[];
}

/** Plans the entrypoints (and named queries) of a compiled program and generates policy.wasm. */
/** The stages of a build, for progress reports. */
export type BuildStage = 'planning' | 'generating WebAssembly';

/**
 * Plans the entrypoints and queries of a compiled program and generates the policy.wasm;
 * planning and code generation errors come back as diagnostics.
 */
export async function buildWasm(
  program: CompiledProgram,
  entrypoints: readonly WasmEntrypoint[],
  queries: PlanOptions['queries'] = [],
  onStage: (stage: BuildStage) => void = () => undefined,
): Promise<WasmBuild> {
  let policy: Policy;
  onStage('planning');
  try {
    policy = new Planner(program.tree).plan({
      entrypoints: entrypoints.map((e) => e.path),
      queries,
    });
  } catch (err) {
    if (err instanceof PolicyError) return { diagnostics: [...err.diagnostics] };
    throw err;
  }
  const names = [...queries.map((q) => q.name), ...entrypoints.map((e) => e.path.join('/'))];
  onStage('generating WebAssembly');
  try {
    const wasm = await generateWasm(policy, { runtime: runtimeWasm(), entrypoints: names });
    return { wasm, policy, diagnostics: [] };
  } catch (err) {
    if (err instanceof CodegenError) {
      return { policy, diagnostics: [{ code: 'rego_compile_error', message: err.message }] };
    }
    throw err;
  }
}
