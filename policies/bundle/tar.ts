/**
 * Just enough of the tar format (POSIX ustar) for bundles: regular files with paths, written
 * in a fixed order with fixed metadata so the same content gives the same bytes, and read
 * back with the checks a bundle needs (no path traversal, no links, sizes that add up).
 */
import * as zlib from 'node:zlib';

/** One regular file of an archive. */
export interface TarEntry {
  /** Path inside the archive, `/`-separated, relative (`policy.wasm`, `rbac/policy.rego`). */
  readonly path: string;
  readonly data: Uint8Array;
}

const BLOCK = 512;

/**
 * An archive that is not (gzip-compressed) tar, is corrupt, or breaks a bundle rule: unsafe
 * paths, links or devices, too many files, too many bytes.
 */
export class TarError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TarError';
  }
}

/** Makes a .tar.gz of the entries (mtime 0, mode 0644, owner 0): reproducible bytes. */
export function writeTarGz(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const name = safePath(entry.path);
    parts.push(header(name, entry.data.byteLength));
    parts.push(Buffer.from(entry.data));
    const pad = (BLOCK - (entry.data.byteLength % BLOCK)) % BLOCK;
    if (pad > 0) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return zlib.gzipSync(Buffer.concat(parts), { level: 9 });
}

function header(name: string, size: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    // ustar splits long names at a slash: prefix (155 bytes) + name (100 bytes).
    const cut = name.lastIndexOf('/', 155);
    if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100)
      throw new TarError(`path too long for a bundle: ${name}`);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
  }
  h.write(base, 0, 100, 'utf8');
  h.write('0000644\0', 100, 'ascii');
  h.write('0000000\0', 108, 'ascii');
  h.write('0000000\0', 116, 'ascii');
  h.write(size.toString(8).padStart(11, '0') + '\0', 124, 'ascii');
  h.write('00000000000\0', 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write('0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

/** Normalizes an archive path and refuses absolute paths and `..` segments. */
export function safePath(raw: string): string {
  const trimmed = raw.replace(/^\.?\//, '');
  const parts = trimmed.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.some((p) => p === '..') || raw.includes('\0')) {
    throw new TarError(`unsafe path in bundle: ${JSON.stringify(raw)}`);
  }
  return parts.join('/');
}

/** Caps on what `readTarGz` unpacks, so a small archive cannot expand without bound. */
export interface ReadLimits {
  /** Largest total unpacked size accepted (bytes). */
  readonly maxBytes?: number;
  readonly maxEntries?: number;
}

/** Reads a .tar.gz (or plain .tar) into its regular files; refuses anything unsafe. */
export function readTarGz(bytes: Uint8Array, limits: ReadLimits = {}): TarEntry[] {
  const maxBytes = limits.maxBytes ?? 256 * 1024 * 1024;
  let tar: Buffer;
  try {
    tar =
      bytes[0] === 0x1f && bytes[1] === 0x8b
        ? zlib.gunzipSync(bytes, { maxOutputLength: maxBytes })
        : Buffer.from(bytes);
  } catch (err) {
    throw new TarError(
      `not a gzip-compressed tar archive: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  if (tar.length < BLOCK) throw new TarError('not a tar archive: shorter than one tar block');
  const entries: TarEntry[] = [];
  let offset = 0;
  while (offset + BLOCK <= tar.length) {
    const h = tar.subarray(offset, offset + BLOCK);
    if (h.every((b) => b === 0)) break;
    if (!checksumOk(h)) throw new TarError(`corrupt tar header at byte ${offset}`);
    const name = cString(h.subarray(0, 100));
    const prefix =
      h.subarray(257, 262).toString('ascii') === 'ustar' ? cString(h.subarray(345, 500)) : '';
    const size = parseInt(cString(h.subarray(124, 136)).trim() || '0', 8);
    const type = String.fromCharCode(h[156] ?? 0x30);
    if (!Number.isFinite(size) || size < 0)
      throw new TarError(`corrupt size in tar header at byte ${offset}`);
    const start = offset + BLOCK;
    const end = start + size;
    if (end > tar.length) throw new TarError('truncated tar archive');
    const full = prefix ? `${prefix}/${name}` : name;
    if (type === '0' || type === '\0') {
      entries.push({ path: safePath(full), data: tar.subarray(start, end) });
      if (limits.maxEntries !== undefined && entries.length > limits.maxEntries)
        throw new TarError('too many files in bundle');
    } else if (type !== '5' && type !== 'x' && type !== 'g') {
      throw new TarError(
        `unsupported entry ${JSON.stringify(full)} in bundle: only regular files and folders are allowed`,
      );
    }
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  return entries;
}

function cString(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.subarray(0, nul < 0 ? b.length : nul).toString('utf8');
}

function checksumOk(h: Buffer): boolean {
  const stored = parseInt(cString(h.subarray(148, 156)).trim(), 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (h[i] ?? 0);
  return stored === sum;
}
