/**
 * Takes apart the files of an OPA-layout bundle (as readTarGz returns them): the `.manifest`
 * (parsed, not yet checked), the policy.wasm when there is one, the data (every `data.json` /
 * `data.yaml` mounted at the path of its folder, as OPA does), the Rego modules, and a CASL
 * rule set file at the top (`rules.json` / `rules.yaml`). Each problem is one line naming the
 * file.
 */
import { parse as parseYaml } from 'yaml';
import type { SourceFile } from '../query';
import { SIGNATURES_FILE } from './sign';
import type { TarEntry } from './tar';

export const MANIFEST_FILE = '.manifest';
export const WASM_FILE = 'policy.wasm';
const DATA_FILES = new Set(['data.json', 'data.yaml', 'data.yml']);
const RULE_SET_FILES = ['rules.json', 'rules.yaml', 'rules.yml'];

/** A data document as parsed from `data.json` / `data.yaml`: an object at the top. */
export type DataDocument = Record<string, unknown>;

/** The parts of a bundle, as `unpackBundle` sorts them out. */
export interface UnpackedBundle {
  /** The `.manifest`, parsed as JSON; undefined when the bundle has none. */
  readonly manifest: unknown;
  /** The module the manifest's `wasm` list names, else `/policy.wasm`; undefined when absent. */
  readonly wasm?: Uint8Array;
  readonly data: DataDocument;
  readonly modules: readonly SourceFile[];
  /** A CASL rule set file at the top of the bundle. */
  readonly ruleSet?: SourceFile;
  /** Whether the bundle carries `/.signatures.json`. */
  readonly signed: boolean;
}

/** What is wrong with a bundle's files, one line per problem naming the file. */
export class BundleContentError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
    this.name = 'BundleContentError';
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true });

function text(entry: TarEntry): string {
  try {
    return decoder.decode(entry.data);
  } catch {
    throw new BundleContentError([`${entry.path}: not UTF-8 text`]);
  }
}

function isObject(value: unknown): value is DataDocument {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseDataFile(entry: TarEntry): DataDocument {
  let value: unknown;
  try {
    value = entry.path.endsWith('.json') ? JSON.parse(text(entry)) : parseYaml(text(entry));
  } catch (err) {
    if (err instanceof BundleContentError) throw err;
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new BundleContentError([`${entry.path}: not valid data: ${reason ?? ''}`]);
  }
  // An empty YAML document is no data.
  if (value === null || value === undefined) return {};
  if (!isObject(value)) {
    throw new BundleContentError([`${entry.path}: data files must hold an object at the top`]);
  }
  return value;
}

/** Merges `source` into `target` key by key; a value met twice (not two objects) is an error. */
function merge(target: DataDocument, source: DataDocument, at: string[], file: string): void {
  for (const [key, value] of Object.entries(source)) {
    const existing = Object.hasOwn(target, key) ? target[key] : undefined;
    if (existing === undefined) {
      // defineProperty, not assignment: a key named `__proto__` stays plain data.
      Object.defineProperty(target, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else if (isObject(existing) && isObject(value)) {
      merge(existing, value, [...at, key], file);
    } else {
      const where = ['data', ...at, key].join('.');
      throw new BundleContentError([`${file}: ${where} is defined by another data file too`]);
    }
  }
}

function mount(data: DataDocument, entry: TarEntry): void {
  const folders = entry.path.split('/').slice(0, -1);
  let document: DataDocument = parseDataFile(entry);
  for (const folder of [...folders].reverse()) document = { [folder]: document };
  merge(data, document, [], entry.path);
}

/** The wasm module path the manifest names (OPA's `wasm: [{entrypoint, module}]`). */
function manifestModule(manifest: unknown): string | undefined {
  if (!isObject(manifest) || !Array.isArray(manifest.wasm)) return undefined;
  const modules = new Set(
    manifest.wasm
      .map((w: unknown) => (isObject(w) && typeof w.module === 'string' ? w.module : undefined))
      .filter((m): m is string => m !== undefined)
      .map((m) => m.replace(/^\/+/, '')),
  );
  if (modules.size > 1) {
    throw new BundleContentError([
      `${MANIFEST_FILE}: lists ${modules.size} wasm modules; Verdict runs bundles with one policy.wasm`,
    ]);
  }
  return [...modules][0];
}

function parseManifestText(entry: TarEntry): unknown {
  try {
    return JSON.parse(text(entry));
  } catch (err) {
    if (err instanceof BundleContentError) throw err;
    throw new BundleContentError([
      `${MANIFEST_FILE}: not JSON (${err instanceof Error ? err.message : String(err)})`,
    ]);
  }
}

/**
 * Sorts a bundle's files into manifest, wasm, data, modules and rule set; throws
 * `BundleContentError` for duplicate files, text that is not UTF-8, bad data or clashing mounts.
 */
export function unpackBundle(entries: readonly TarEntry[]): UnpackedBundle {
  const seen = new Set<string>();
  for (const entry of entries) {
    if (seen.has(entry.path)) {
      throw new BundleContentError([`${entry.path}: appears twice in the bundle`]);
    }
    seen.add(entry.path);
  }
  const manifestEntry = entries.find((e) => e.path === MANIFEST_FILE);
  const manifest = manifestEntry === undefined ? undefined : parseManifestText(manifestEntry);
  const wasmPath = manifestModule(manifest) ?? WASM_FILE;
  const wasmEntry = entries.find((e) => e.path === wasmPath);
  if (wasmEntry === undefined && wasmPath !== WASM_FILE) {
    throw new BundleContentError([
      `${MANIFEST_FILE}: names the wasm module /${wasmPath}, which is not in the bundle`,
    ]);
  }
  const data: DataDocument = {};
  const modules: SourceFile[] = [];
  const ruleSets: SourceFile[] = [];
  for (const entry of entries) {
    const name = entry.path.split('/').pop() ?? entry.path;
    if (entry.path.endsWith('.rego')) modules.push({ file: entry.path, text: text(entry) });
    else if (DATA_FILES.has(name)) mount(data, entry);
    else if (RULE_SET_FILES.includes(entry.path))
      ruleSets.push({ file: entry.path, text: text(entry) });
  }
  if (ruleSets.length > 1) {
    throw new BundleContentError([
      `holds ${ruleSets.map((r) => r.file).join(' and ')}: a CASL bundle has one rule set file`,
    ]);
  }
  const [ruleSet] = ruleSets;
  return {
    manifest,
    ...(wasmEntry === undefined ? {} : { wasm: wasmEntry.data }),
    data,
    modules,
    ...(ruleSet === undefined ? {} : { ruleSet }),
    signed: seen.has(SIGNATURES_FILE),
  };
}
