/**
 * Turns an uploaded .tar.gz into what the registry stores: the checked manifest, the
 * policy.wasm to run (the one the bundle carries, after checking it loads and has its
 * entrypoints; else compiled here from the bundle's Rego or CASL sources), the data, and the
 * signature status. Plain bytes in, plain values out; every refusal is an `invalid_bundle`
 * VerdictError listing each problem on its own line (compile errors as file:line:col).
 */
import { createHash } from 'node:crypto';
import { VerdictError, messageOf } from '../../errors';
import type { BundleEngine, SignatureStatus } from '../../models/bundle-version';
import { buildBundle, buildCaslBundle, type BuiltBundle } from '../../../policies/bundle/build';
import { checkManifest, type ManifestSource } from '../../../policies/bundle/manifest';
import { SignatureError, SIGNATURES_FILE, verifyBundle } from '../../../policies/bundle/sign';
import { readTarGz, TarError, type TarEntry } from '../../../policies/bundle/tar';
import {
  BundleContentError,
  MANIFEST_FILE,
  unpackBundle,
  type DataDocument,
  type UnpackedBundle,
} from '../../../policies/bundle/unpack';
import { CASL_ENTRYPOINT } from '../../../policies/casl';
import { formatDiagnostic, type Diagnostic } from '../../../policies/diagnostic';
import { PolicyEngine } from '../../../policies/engine';
import { fromJS, type ObjectValue } from '../../../policies/ir/value';

/** Unpacked size and file count a bundle may reach (a gzip bomb stops here). */
export const maxUnpackedBytes = 128 * 1024 * 1024;
export const maxBundleFiles = 10_000;

/** Name and version for bundles whose manifest lacks them (OPA-built bundles). */
export interface UploadOverrides {
  readonly name?: string | undefined;
  readonly version?: string | undefined;
}

export interface SigningPolicy {
  /** The tenant's PEM Ed25519 public key; null when it has none. */
  readonly publicKey: string | null;
  /** Unsigned bundles are refused. */
  readonly required: boolean;
}

/** The manifest as stored: the author's keys plus what the server settled. */
export interface StoredManifest extends ManifestSource {
  readonly name: string;
  readonly version: string;
  readonly revision: string;
  readonly engine: BundleEngine;
  readonly roots: readonly string[];
  readonly entrypoints: readonly string[];
  readonly wasm: readonly { readonly entrypoint: string; readonly module: string }[];
}

export interface PreparedBundle {
  readonly manifest: StoredManifest;
  readonly wasm: Uint8Array;
  readonly data: DataDocument;
  readonly signatureStatus: SignatureStatus;
  /** True when the server compiled the wasm from the bundle's sources. */
  readonly compiled: boolean;
}

/** A compile error's place, for clients that point at it. */
export interface CompileErrorView {
  readonly code: string;
  readonly message: string;
  readonly file?: string;
  readonly line?: number;
  readonly col?: number;
}

export function invalidBundle(
  problems: readonly string[],
  errors?: readonly CompileErrorView[],
): VerdictError {
  const [first = 'the bundle is not valid'] = problems;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problems)` : '';
  return new VerdictError('invalid_bundle', `The bundle was refused: ${first}${more}.`, {
    extensions: { problems, ...(errors === undefined ? {} : { errors }) },
  });
}

function readEntries(tarGz: Uint8Array): TarEntry[] {
  try {
    return readTarGz(tarGz, { maxBytes: maxUnpackedBytes, maxEntries: maxBundleFiles });
  } catch (err) {
    if (err instanceof TarError)
      throw invalidBundle([`not a valid bundle archive: ${err.message}`]);
    // zlib's own "Cannot create a Buffer larger than" and friends.
    throw invalidBundle([`not a valid bundle archive: ${messageOf(err)}`]);
  }
}

function checkSignature(
  tarGz: Uint8Array,
  signed: boolean,
  signing: SigningPolicy,
): SignatureStatus {
  if (signing.required && signing.publicKey === null) {
    throw invalidBundle([
      'this tenant requires signed bundles but has no signing key: set one with PUT /v1/tenants/{tenant}/signing-key',
    ]);
  }
  if (!signed) {
    if (signing.required) {
      throw invalidBundle([
        `${SIGNATURES_FILE} is missing: this tenant accepts signed bundles only (sign with \`verdict sign\`)`,
      ]);
    }
    return 'unsigned';
  }
  // A signature nobody can check proves nothing: the bundle is kept as unsigned.
  if (signing.publicKey === null) return 'unsigned';
  let verification;
  try {
    verification = verifyBundle(tarGz, signing.publicKey);
  } catch (err) {
    if (!(err instanceof SignatureError)) throw err;
    throw invalidBundle([`the tenant's signing key cannot verify bundles: ${err.message}`]);
  }
  if (!verification.ok) {
    throw invalidBundle(verification.problems.map((p) => `bad signature: ${p}`));
  }
  return 'verified';
}

/** OPA writes these manifest keys; Verdict has no use for them. */
const opaOnlyManifestKeys = ['rego_version', 'file_rego_versions'];

function settleManifest(raw: unknown, overrides: UploadOverrides): ManifestSource {
  if (raw !== undefined && (typeof raw !== 'object' || raw === null || Array.isArray(raw))) {
    throw invalidBundle([`${MANIFEST_FILE}: must be a JSON object`]);
  }
  const given: Record<string, unknown> = { ...(raw as Record<string, unknown> | undefined) };
  for (const key of opaOnlyManifestKeys) Reflect.deleteProperty(given, key);
  const problems: string[] = [];
  for (const field of ['name', 'version'] as const) {
    const override = overrides[field];
    if (override === undefined) continue;
    if (given[field] !== undefined && given[field] !== override) {
      problems.push(
        `${MANIFEST_FILE} says ${field} ${JSON.stringify(given[field])} but ?${field}= says ${JSON.stringify(override)}: drop the parameter or make them agree`,
      );
    }
    given[field] = override;
  }
  if (problems.length > 0) throw invalidBundle(problems);
  const checked = checkManifest(given);
  if (checked.manifest === undefined) {
    throw invalidBundle(checked.problems.map((p) => `${MANIFEST_FILE}: ${p}`));
  }
  const missing = (['name', 'version'] as const)
    .filter((field) => checked.manifest?.[field] === undefined)
    .map(
      (field) =>
        `no bundle ${field}: add "${field}" to ${MANIFEST_FILE}, or pass ?${field}= with the upload`,
    );
  if (missing.length > 0) throw invalidBundle(missing);
  return checked.manifest;
}

/** The entrypoints an OPA manifest lists in its `wasm` section. */
function wasmEntrypoints(raw: unknown): string[] {
  const wasm = (raw as { wasm?: unknown } | undefined)?.wasm;
  if (!Array.isArray(wasm)) return [];
  return wasm
    .map((w: unknown) => (w as { entrypoint?: unknown } | null)?.entrypoint)
    .filter((e): e is string => typeof e === 'string');
}

/** A hash of the bundle's files (the signature file left out): the revision when none is given. */
function contentRevision(entries: readonly TarEntry[]): string {
  const hash = createHash('sha256');
  const files = entries
    .filter((e) => e.path !== SIGNATURES_FILE)
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const entry of files) hash.update(entry.path).update('\0').update(entry.data);
  return hash.digest('hex').slice(0, 16);
}

async function loadCarriedWasm(
  wasm: Uint8Array,
  declared: readonly string[],
  data: DataDocument,
): Promise<string[]> {
  let engine: PolicyEngine;
  try {
    engine = await PolicyEngine.load(wasm);
  } catch (err) {
    throw invalidBundle([
      `policy.wasm does not load as an OPA WebAssembly policy: ${messageOf(err)}`,
    ]);
  }
  const available = Object.keys(engine.entrypoints);
  const missing = declared.filter((e) => !available.includes(e));
  if (missing.length > 0) {
    throw invalidBundle(
      missing.map(
        (e) =>
          `entrypoint ${e} is not in policy.wasm (it has ${available.join(', ') || 'no entrypoints'})`,
      ),
    );
  }
  try {
    engine.setData(data);
  } catch (err) {
    throw invalidBundle([`policy.wasm does not accept the bundle's data: ${messageOf(err)}`]);
  }
  return declared.length > 0 ? [...declared] : available;
}

function compileErrorView(d: Diagnostic): CompileErrorView {
  return {
    code: d.code,
    message: d.message,
    ...(d.position === undefined
      ? {}
      : { file: d.position.file, line: d.position.line, col: d.position.col }),
  };
}

async function compileSources(
  unpacked: UnpackedBundle,
  manifest: ManifestSource,
  engine: BundleEngine,
): Promise<BuiltBundle> {
  let result: { bundle?: BuiltBundle; diagnostics: Diagnostic[] };
  if (engine === 'casl') {
    if (unpacked.ruleSet === undefined) {
      throw invalidBundle([
        'the manifest says engine "casl" but the bundle has no policy.wasm and no rule set (rules.json or rules.yaml at its top)',
      ]);
    }
    result = await buildCaslBundle({ rules: unpacked.ruleSet, manifest });
  } else {
    if (unpacked.modules.length === 0) {
      throw invalidBundle([
        'the bundle has no policy.wasm and no Rego sources (.rego files): nothing to run',
      ]);
    }
    if ((manifest.entrypoints ?? []).length === 0) {
      throw invalidBundle([
        `the bundle has no policy.wasm and its ${MANIFEST_FILE} lists no entrypoints: add "entrypoints": ["pkg/rule"]`,
      ]);
    }
    result = await buildBundle({
      modules: unpacked.modules,
      data: fromJS(unpacked.data) as ObjectValue,
      entrypoints: [],
      manifest,
    });
  }
  if (result.bundle === undefined) {
    throw invalidBundle(
      result.diagnostics.map(formatDiagnostic),
      result.diagnostics.map(compileErrorView),
    );
  }
  return result.bundle;
}

export async function prepareBundle(
  tarGz: Uint8Array,
  options: { readonly overrides: UploadOverrides; readonly signing: SigningPolicy },
): Promise<PreparedBundle> {
  const entries = readEntries(tarGz);
  if (entries.length === 0) throw invalidBundle(['the archive holds no files']);
  let unpacked: UnpackedBundle;
  try {
    unpacked = unpackBundle(entries);
  } catch (err) {
    if (err instanceof BundleContentError) throw invalidBundle(err.problems);
    throw err;
  }
  const signatureStatus = checkSignature(tarGz, unpacked.signed, options.signing);
  const manifest = settleManifest(unpacked.manifest, options.overrides);
  const engine: BundleEngine = manifest.engine ?? 'rego';
  const declared =
    engine === 'casl'
      ? [CASL_ENTRYPOINT]
      : [...new Set([...(manifest.entrypoints ?? []), ...wasmEntrypoints(unpacked.manifest)])];
  // checkManifest has made sure a given revision is a string.
  const given = (manifest as { revision?: string }).revision;
  const revision = given !== undefined && given !== '' ? given : contentRevision(entries);

  let wasm: Uint8Array;
  let entrypoints: readonly string[];
  let roots: readonly string[];
  if (unpacked.wasm !== undefined) {
    wasm = unpacked.wasm;
    entrypoints = await loadCarriedWasm(wasm, declared, unpacked.data);
    roots = manifest.roots ?? (engine === 'casl' ? ['casl'] : ['']);
  } else {
    // A CASL manifest is passed as written: the CASL build explains entrypoints it cannot have.
    const source = engine === 'casl' ? manifest : { ...manifest, entrypoints: declared };
    const built = await compileSources(unpacked, source, engine);
    wasm = built.wasm;
    entrypoints = built.manifest.entrypoints;
    roots = built.manifest.roots;
  }
  const name = manifest.name as string;
  const version = manifest.version as string;
  return {
    manifest: {
      ...manifest,
      name,
      version,
      revision,
      engine,
      roots,
      entrypoints,
      wasm: entrypoints.map((entrypoint) => ({ entrypoint, module: '/policy.wasm' })),
    },
    wasm,
    data: unpacked.data,
    signatureStatus,
    compiled: unpacked.wasm === undefined,
  };
}
