/**
 * Bundles for the registry tests, built the way users build them (buildBundle and
 * buildCaslBundle over the examples), plus hand-made archives the toolchain would never write:
 * sources only, a path that climbs out of the bundle, a corrupt header.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { buildBundle, buildCaslBundle, type BuiltBundle } from '../../../policies/bundle/build';
import { parseManifest, type ManifestSource } from '../../../policies/bundle/manifest';
import { loadSources } from '../../../policies/bundle/sources';
import { readTarGz, writeTarGz, type TarEntry } from '../../../policies/bundle/tar';

const examples = path.resolve(__dirname, '../../../examples');

function exampleManifest(dir: string): ManifestSource {
  const parsed = parseManifest(fs.readFileSync(path.join(dir, '.manifest'), 'utf8'));
  if (parsed.manifest === undefined) throw new Error(parsed.problems.join('; '));
  return parsed.manifest;
}

function built(result: { bundle?: BuiltBundle; diagnostics: readonly unknown[] }): BuiltBundle {
  if (result.bundle === undefined) throw new Error(JSON.stringify(result.diagnostics));
  return result.bundle;
}

/** examples/rbac built, with the manifest's name and version replaced when given. */
export async function rbacBundle(overrides: Partial<ManifestSource> = {}): Promise<BuiltBundle> {
  const dir = path.join(examples, 'rbac');
  const sources = loadSources([dir]);
  return built(
    await buildBundle({
      modules: sources.modules,
      data: sources.data,
      entrypoints: [],
      manifest: { ...exampleManifest(dir), ...overrides },
      root: dir,
    }),
  );
}

/** examples/casl built. */
export async function caslBundle(overrides: Partial<ManifestSource> = {}): Promise<BuiltBundle> {
  const dir = path.join(examples, 'casl');
  const rulesFile = path.join(dir, 'rules.json');
  return built(
    await buildCaslBundle({
      rules: { file: rulesFile, text: fs.readFileSync(rulesFile, 'utf8') },
      manifest: { ...exampleManifest(dir), ...overrides },
      root: dir,
    }),
  );
}

const encoder = new TextEncoder();

export function file(filePath: string, content: string | Uint8Array): TarEntry {
  return { path: filePath, data: typeof content === 'string' ? encoder.encode(content) : content };
}

export function jsonFile(filePath: string, value: unknown): TarEntry {
  return file(filePath, JSON.stringify(value));
}

/** The example's Rego policy and data, as an OPA-style bundle without policy.wasm. */
export function rbacSources(): TarEntry[] {
  const dir = path.join(examples, 'rbac');
  return [
    file('rbac/policy.rego', fs.readFileSync(path.join(dir, 'policy.rego'))),
    file('data.json', fs.readFileSync(path.join(dir, 'data.json'))),
  ];
}

/** The entries of a built bundle, with some replaced or added. */
export function withEntries(tarGz: Uint8Array, replaced: readonly TarEntry[]): Buffer {
  const names = new Set(replaced.map((e) => e.path));
  return writeTarGz([...readTarGz(tarGz).filter((e) => !names.has(e.path)), ...replaced]);
}

/** A ustar header for `name`, written by hand so that unsafe names can be made. */
function rawHeader(name: string, size: number, typeflag = '0', linkName = ''): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100, 'ascii');
  h.write('0000000\0', 108, 'ascii');
  h.write('0000000\0', 116, 'ascii');
  h.write(size.toString(8).padStart(11, '0') + '\0', 124, 'ascii');
  h.write('00000000000\0', 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(typeflag, 156, 'ascii');
  h.write(linkName, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

/**
 * A .tar.gz with one entry under any name at all (`../evil.rego`): a file by default, or a
 * link (`typeflag` 1 or 2) to `linkName`.
 */
export function rawTarGz(name: string, content: string, typeflag = '0', linkName = ''): Buffer {
  const data = Buffer.from(content);
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  return zlib.gzipSync(
    Buffer.concat([
      rawHeader(name, data.length, typeflag, linkName),
      data,
      pad,
      Buffer.alloc(1024),
    ]),
  );
}

/** A .tar.gz whose first header's checksum no longer adds up. */
export function corruptHeaderTarGz(): Buffer {
  const tar = zlib.gunzipSync(writeTarGz([file('policy.rego', 'package x\n')]));
  tar[0] = 'q'.charCodeAt(0);
  return zlib.gzipSync(tar);
}
