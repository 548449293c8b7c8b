/**
 * The reader of a module's declared memory minimum, on modules encoded here byte by byte (each
 * also compiled by V8, so the encoding is real WASM) and on malformed input.
 */
import { declaredMemoryMinimum } from '../../../../policies/wasm/memory-import';

/** V8's compiler, typed locally: @types/node 20 does not declare the WebAssembly global. */
const compile = (bytes: Uint8Array): unknown =>
  new (
    globalThis as unknown as { WebAssembly: { Module: new (b: Uint8Array) => unknown } }
  ).WebAssembly.Module(bytes);

const preamble = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

function leb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return out;
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...leb(bytes.length), ...bytes];
}

function section(id: number, contents: number[]): number[] {
  return [id, ...leb(contents.length), ...contents];
}

/** A function type `() -> ()` (type section), so function imports have a type to name. */
const typeSection = section(1, [1, 0x60, 0, 0]);

const functionImport = (field: string): number[] => [...name('env'), ...name(field), 0x00, 0];
const memoryImport = (module: string, field: string, min: number, max?: number): number[] => [
  ...name(module),
  ...name(field),
  0x02,
  ...(max === undefined ? [0x00, ...leb(min)] : [0x01, ...leb(min), ...leb(max)]),
];
const globalImport = [...name('env'), ...name('g'), 0x03, 0x7f, 0x00];
const tableImport = [...name('env'), ...name('t'), 0x01, 0x70, 0x00, 1];

function module(...imports: number[][]): Uint8Array {
  const bytes = new Uint8Array([
    ...preamble,
    ...typeSection,
    ...section(2, [...leb(imports.length), ...imports.flat()]),
    // A custom section after the imports, as tools add (names, producers).
    ...section(0, name('producers')),
  ]);
  expect(() => compile(bytes)).not.toThrow();
  return bytes;
}

describe('declaredMemoryMinimum', () => {
  it("reads env.memory's minimum, behind other imports of every kind", () => {
    expect(declaredMemoryMinimum(module(memoryImport('env', 'memory', 1)))).toBe(1);
    expect(
      declaredMemoryMinimum(
        module(
          functionImport('opa_abort'),
          globalImport,
          tableImport,
          memoryImport('env', 'memory', 2),
          functionImport('opa_builtin0'),
        ),
      ),
    ).toBe(2);
  });

  it('reads minimums that take several bytes, with or without a maximum', () => {
    expect(declaredMemoryMinimum(module(memoryImport('env', 'memory', 300)))).toBe(300);
    expect(declaredMemoryMinimum(module(memoryImport('env', 'memory', 17, 4096)))).toBe(17);
    expect(declaredMemoryMinimum(module(memoryImport('env', 'memory', 0)))).toBe(0);
  });

  it('answers undefined when the module imports no env.memory', () => {
    expect(declaredMemoryMinimum(module(functionImport('opa_abort')))).toBeUndefined();
    expect(declaredMemoryMinimum(module(memoryImport('other', 'memory', 4)))).toBeUndefined();
    expect(declaredMemoryMinimum(new Uint8Array(preamble))).toBeUndefined();
    // Sections past the imports (here a memory section of its own) end the search.
    const ownMemory = new Uint8Array([...preamble, ...section(5, [1, 0x00, 3])]);
    expect(() => compile(ownMemory)).not.toThrow();
    expect(declaredMemoryMinimum(ownMemory)).toBeUndefined();
  });

  it('answers undefined for bytes that are not a readable module', () => {
    expect(declaredMemoryMinimum(new Uint8Array([1, 2, 3]))).toBeUndefined();
    expect(declaredMemoryMinimum(new TextEncoder().encode('not a wasm module'))).toBeUndefined();
    const whole = module(functionImport('opa_abort'), memoryImport('env', 'memory', 9));
    const importsEnd = whole.length - section(0, name('producers')).length;
    // Cut in the preamble, in the type section, and anywhere in the import section.
    for (let cut = 6; cut < importsEnd; cut++) {
      expect(declaredMemoryMinimum(whole.subarray(0, cut))).toBeUndefined();
    }
    expect(declaredMemoryMinimum(whole.subarray(0, importsEnd))).toBe(9);
    const unknownKind = new Uint8Array([
      ...preamble,
      ...section(2, [1, ...name('env'), ...name('x'), 0x09]),
    ]);
    expect(declaredMemoryMinimum(unknownKind)).toBeUndefined();
  });
});
