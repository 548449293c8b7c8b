/**
 * Reads the minimum size a WASM module declares for its imported memory (`env.memory`), in
 * 64 KiB pages, from the module's import section. The engine starts each instance's memory at
 * that size: smaller than the minimum fails instantiation, larger only costs memory.
 *
 * JavaScript's WebAssembly API does not say (`WebAssembly.Module.imports` lists names and
 * kinds, not limits), hence this small reader of the binary format: the preamble, then
 * sections as (id, size, contents), the import section (id 2) being a vector of
 * (module name, field name, kind, description).
 */

const IMPORT_SECTION = 2;
const KIND_FUNCTION = 0;
const KIND_TABLE = 1;
const KIND_MEMORY = 2;
const KIND_GLOBAL = 3;
const KIND_TAG = 4;

class Reader {
  offset = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.offset >= this.bytes.length;
  }

  /** Whether `length` more bytes follow. */
  has(length: number): boolean {
    return this.offset + length <= this.bytes.length;
  }

  byte(): number {
    const value = this.bytes[this.offset++];
    if (value === undefined) throw new RangeError('truncated module');
    return value;
  }

  /** Unsigned LEB128; arithmetic rather than bit operations so 64-bit limits do not wrap. */
  unsigned(): number {
    let result = 0;
    let scale = 1;
    for (;;) {
      const byte = this.byte();
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return result;
      scale *= 128;
      if (scale > 2 ** 63) throw new RangeError('malformed LEB128 number');
    }
  }

  name(): string {
    const length = this.unsigned();
    const end = this.offset + length;
    if (end > this.bytes.length) throw new RangeError('truncated module');
    const text = new TextDecoder().decode(this.bytes.subarray(this.offset, end));
    this.offset = end;
    return text;
  }

  skip(length: number): void {
    this.offset += length;
    if (this.offset > this.bytes.length) throw new RangeError('truncated module');
  }

  /** Limits: flags (bit 0: has a maximum), minimum, and the maximum when present. */
  limits(): number {
    const flags = this.byte();
    const minimum = this.unsigned();
    if (flags & 1) this.unsigned();
    return minimum;
  }
}

/**
 * The minimum page count the module declares for its imported `env.memory`; undefined when it
 * imports no such memory or is not a readable WASM binary (instantiation then reports why).
 */
export function declaredMemoryMinimum(wasm: Uint8Array): number | undefined {
  const magic = [0x00, 0x61, 0x73, 0x6d];
  if (wasm.length < 8 || magic.some((b, i) => wasm[i] !== b)) return undefined;
  const reader = new Reader(wasm);
  reader.skip(8); // magic and version
  try {
    while (!reader.done) {
      const id = reader.byte();
      const size = reader.unsigned();
      if (!reader.has(size)) return undefined;
      if (id !== IMPORT_SECTION) {
        // Sections come in order and custom ones (id 0) carry no imports: past id 2, none left.
        if (id > IMPORT_SECTION) return undefined;
        reader.skip(size);
        continue;
      }
      return memoryImportMinimum(reader);
    }
  } catch (err) {
    if (err instanceof RangeError) return undefined;
    throw err;
  }
  return undefined;
}

function memoryImportMinimum(reader: Reader): number | undefined {
  const count = reader.unsigned();
  for (let i = 0; i < count; i++) {
    const module = reader.name();
    const field = reader.name();
    const kind = reader.byte();
    switch (kind) {
      case KIND_FUNCTION:
        reader.unsigned(); // type index
        break;
      case KIND_TABLE:
        reader.byte(); // element type
        reader.limits();
        break;
      case KIND_MEMORY: {
        const minimum = reader.limits();
        if (module === 'env' && field === 'memory') return minimum;
        break;
      }
      case KIND_GLOBAL:
        reader.byte(); // value type
        reader.byte(); // mutability
        break;
      case KIND_TAG:
        reader.byte(); // attribute
        reader.unsigned(); // type index
        break;
      default:
        return undefined;
    }
  }
  return undefined;
}
