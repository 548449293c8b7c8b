/**
 * Test harness for the WASM runtime (dist/wasm/runtime.wasm): instantiates it with its own
 * memory and stub imports, and moves Rego values (policies/ir/value.ts) in and out through the
 * runtime's own exports, so every test goes through the real module.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { parseJSONValue } from '../../../../policies/ir/json';
import {
  isArray,
  normalizeNumber,
  ObjectValue,
  SetValue,
  type Value,
} from '../../../../policies/ir/value';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
export const RUNTIME_WASM = path.join(ROOT, 'dist', 'wasm', 'runtime.wasm');

/** Builds the runtime when an earlier build (npm test's pretest) has not. */
export function runtimeBytes(): Buffer {
  if (!existsSync(RUNTIME_WASM)) {
    execFileSync('npm', ['run', 'build:wasm-runtime', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  }
  return readFileSync(RUNTIME_WASM);
}

/**
 * The part of the WebAssembly JS API used here. @types/node 20 does not declare the global, so
 * it is typed locally instead of pulling in the DOM library.
 */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmModule {
  readonly kind?: never;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemory;
  Module: (new (bytes: Uint8Array) => WasmModule) & {
    imports(module: WasmModule): { module: string; name: string; kind: string }[];
  };
  Instance: new (module: WasmModule, imports: object) => { exports: object };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

type Fn<A extends unknown[], R> = (...args: A) => R;
type Unary = Fn<[number], number>;
type Binary = Fn<[number, number], number>;
type Ternary = Fn<[number, number, number], number>;

/** The exports the tests use, typed. Builtins are looked up by name with `builtin`. */
export interface RuntimeExports {
  readonly opa_malloc: Unary;
  readonly opa_free: Fn<[number], void>;
  readonly opa_heap_ptr_get: Fn<[], number>;
  readonly opa_heap_ptr_set: Fn<[number], void>;
  readonly opa_json_parse: Binary;
  readonly opa_json_dump: Unary;
  readonly opa_value_parse: Binary;
  readonly opa_value_dump: Unary;
  readonly opa_value_add_path: Ternary;
  readonly opa_value_remove_path: Binary;
  readonly opa_eval_ctx_new: Fn<[], number>;
  readonly opa_eval_ctx_set_input: Fn<[number, number], void>;
  readonly opa_eval_ctx_set_data: Fn<[number, number], void>;
  readonly opa_eval_ctx_set_entrypoint: Fn<[number, number], void>;
  readonly opa_eval_ctx_get_result: Unary;
  readonly vd_ctx_input: Unary;
  readonly vd_ctx_data: Unary;
  readonly vd_ctx_entrypoint: Unary;
  readonly vd_ctx_set_result: Fn<[number, number], void>;
  readonly vd_null: Fn<[], number>;
  readonly vd_boolean: Unary;
  readonly vd_int: Fn<[bigint], number>;
  readonly vd_float: Fn<[number], number>;
  readonly vd_number_text: Binary;
  readonly vd_string: Binary;
  readonly vd_string_ptr: Unary;
  readonly vd_string_len: Unary;
  readonly vd_array: Fn<[], number>;
  readonly vd_object: Fn<[], number>;
  readonly vd_set: Fn<[], number>;
  readonly vd_array_append: Fn<[number, number], void>;
  readonly vd_set_add: Fn<[number, number], void>;
  readonly vd_object_insert: Fn<[number, number, number], void>;
  readonly vd_object_insert_once: Ternary;
  readonly vd_object_insert_path: Fn<[number, number, number, number], number>;
  readonly vd_object_merge: Fn<[number, number], void>;
  readonly vd_upsert: Ternary;
  readonly vd_get: Binary;
  readonly vd_set_of: Unary;
  readonly vd_host_transport: Fn<[number], void>;
  readonly vd_type: Unary;
  readonly vd_length: Unary;
  readonly vd_iter_key: Binary;
  readonly vd_iter_value: Binary;
  readonly vd_equal: Binary;
  readonly vd_compare: Binary;
  readonly vd_truthy: Unary;
  readonly vd_error_code: Fn<[], number>;
  readonly vd_error_message: Fn<[], number>;
  readonly vd_error_clear: Fn<[], void>;
  readonly vd_error_set: Ternary;
  readonly vd_error_prefix: Fn<[number], void>;
}

/** What the stub imports saw. */
export interface HostLog {
  readonly printed: string[];
  readonly aborted: string[];
}

export class Runtime {
  readonly exports: RuntimeExports;
  readonly memory: WasmMemory;
  readonly module: WasmModule;
  readonly host: HostLog = { printed: [], aborted: [] };
  private readonly all: Record<string, unknown>;

  constructor(bytes: Buffer, initialPages = 2) {
    this.memory = new wasm.Memory({ initial: initialPages });
    this.module = new wasm.Module(bytes);
    const text = (addr: number): string => this.cString(addr);
    const noHost = (): number => {
      throw new Error('host builtins are not part of these tests');
    };
    const env = {
      memory: this.memory,
      opa_abort: (addr: number): never => {
        this.host.aborted.push(text(addr));
        throw new Error(`opa_abort: ${text(addr)}`);
      },
      opa_println: (addr: number): void => {
        this.host.printed.push(text(addr));
      },
      opa_builtin0: noHost,
      opa_builtin1: noHost,
      opa_builtin2: noHost,
      opa_builtin3: noHost,
      opa_builtin4: noHost,
    };
    const instance = new wasm.Instance(this.module, { env });
    this.all = instance.exports as Record<string, unknown>;
    this.exports = this.all as unknown as RuntimeExports;
  }

  /** A native builtin by Rego name (`object.get` → vd_builtin_object_get), if exported. */
  builtin(name: string): ((...args: number[]) => number) | undefined {
    const fn = this.all[`vd_builtin_${name.replace(/\./g, '_')}`];
    return typeof fn === 'function' ? (fn as (...args: number[]) => number) : undefined;
  }

  /** `module.name` of every import of the module. */
  importNames(): string[] {
    return wasm.Module.imports(this.module).map((i) => `${i.module}.${i.name}`);
  }

  exportNames(): string[] {
    return Object.keys(this.all);
  }

  bytes(addr: number, len: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, addr, len);
  }

  /** NUL-terminated UTF-8 text at addr. */
  cString(addr: number): string {
    const mem = new Uint8Array(this.memory.buffer);
    let end = addr;
    while (mem[end] !== 0) end++;
    return Buffer.from(mem.subarray(addr, end)).toString('utf8');
  }

  /** Copies bytes into freshly allocated memory; returns [address, length]. */
  write(data: Uint8Array | string): [number, number] {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const addr = this.exports.opa_malloc(buf.length);
    new Uint8Array(this.memory.buffer).set(buf, addr);
    return [addr, buf.length];
  }

  parseJSON(text: string): number {
    const [addr, len] = this.write(text);
    return this.exports.opa_json_parse(addr, len);
  }

  parseRego(text: string): number {
    const [addr, len] = this.write(text);
    return this.exports.opa_value_parse(addr, len);
  }

  dumpJSON(v: number): string {
    return this.cString(this.exports.opa_json_dump(v));
  }

  dumpRego(v: number): string {
    return this.cString(this.exports.opa_value_dump(v));
  }

  string(s: string): number {
    const [addr, len] = this.write(s);
    return this.exports.vd_string(addr, len);
  }

  /** Builds v in the runtime with the constructor exports (sets and objects in shuffled order). */
  toWasm(v: Value): number {
    const x = this.exports;
    if (v === null) return x.vd_null();
    switch (typeof v) {
      case 'boolean':
        return x.vd_boolean(v ? 1 : 0);
      case 'number':
        return Number.isInteger(v) && Number.isSafeInteger(v) ? x.vd_int(BigInt(v)) : x.vd_float(v);
      case 'bigint': {
        if (v >= -(2n ** 63n) && v < 2n ** 63n) return x.vd_int(v);
        const [addr, len] = this.write(v.toString());
        return x.vd_number_text(addr, len);
      }
      case 'string':
        return this.string(v);
      default:
        break;
    }
    if (isArray(v)) {
      const arr = x.vd_array();
      for (const e of v) x.vd_array_append(arr, this.toWasm(e));
      return arr;
    }
    if (v instanceof SetValue) {
      const set = x.vd_set();
      for (const e of interleaved(v.sorted())) x.vd_set_add(set, this.toWasm(e));
      return set;
    }
    const obj = x.vd_object();
    for (const [k, e] of interleaved(v.sortedEntries())) {
      x.vd_object_insert(obj, this.toWasm(k), this.toWasm(e));
    }
    return obj;
  }

  /** Reads a value back through the iteration exports. */
  fromWasm(addr: number): Value {
    const x = this.exports;
    switch (x.vd_type(addr)) {
      case 0:
        return null;
      case 1:
        return this.dumpJSON(addr) === 'true';
      case 2: {
        // A double is read from its bits (value.ts layout: kind 1 at +1, f64 at +8): its JSON
        // text, JavaScript's shortest form, does not say which integer an integral one is.
        const view = new DataView(this.memory.buffer);
        if (view.getUint8(addr + 1) === 1) return normalizeNumber(view.getFloat64(addr + 8, true));
        return parseJSONValue(this.dumpJSON(addr));
      }
      case 3:
        return Buffer.from(this.bytes(x.vd_string_ptr(addr), x.vd_string_len(addr))).toString(
          'utf8',
        );
      case 4: {
        const out: Value[] = [];
        for (let i = 0; i < x.vd_length(addr); i++)
          out.push(this.fromWasm(x.vd_iter_value(addr, i)));
        return out;
      }
      case 5: {
        const obj = new ObjectValue();
        for (let i = 0; i < x.vd_length(addr); i++) {
          obj.set(this.fromWasm(x.vd_iter_key(addr, i)), this.fromWasm(x.vd_iter_value(addr, i)));
        }
        return obj;
      }
      case 6: {
        const set = new SetValue();
        for (let i = 0; i < x.vd_length(addr); i++)
          set.add(this.fromWasm(x.vd_iter_value(addr, i)));
        return set;
      }
      default:
        throw new Error(`unknown value type at ${addr}`);
    }
  }

  error(): { code: number; message: string } {
    return {
      code: this.exports.vd_error_code(),
      message: this.cString(this.exports.vd_error_message()),
    };
  }
}

/** Ends-inwards order (last, first, second last, ...), so inserts are not in sorted order. */
function interleaved<T>(items: readonly T[]): T[] {
  const out: T[] = [];
  for (let i = 0, j = items.length - 1; i <= j; i++, j--) {
    out.push(items[j] as T);
    if (i !== j) out.push(items[i] as T);
  }
  return out;
}

/**
 * A value as text that tells every type apart (sets from arrays, numbers from strings) and
 * keeps the order members are iterated in: for comparing shapes, not just equality.
 */
export function shape(v: Value): string {
  if (v === null || typeof v === 'boolean') return String(v);
  if (typeof v === 'number' || typeof v === 'bigint') return `n:${numberShape(v)}`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (isArray(v)) return `[${v.map(shape).join(',')}]`;
  if (v instanceof SetValue) return `set(${v.sorted().map(shape).join(',')})`;
  return `{${v
    .sortedEntries()
    .map(([k, e]) => `${shape(k)}:${shape(e)}`)
    .join(',')}}`;
}

/** Numbers by exact value, whatever their JS representation. */
function numberShape(n: number | bigint): string {
  if (typeof n === 'bigint') return n.toString();
  if (Number.isInteger(n)) return BigInt(n).toString();
  return String(n);
}
