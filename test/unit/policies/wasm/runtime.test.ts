/**
 * The WASM runtime (policies/wasm/runtime, built to dist/wasm/runtime.wasm) against the
 * TypeScript value model and builtins: every check goes through the module's exports.
 * Property tests run at a fixed seed; fast-check prints the seed and the shrunk input on failure.
 */
import fc from 'fast-check';

import { isValidJSON, parseJSONValue } from '../../../../policies/ir/json';
import {
  compare,
  equal,
  normalizeNumber,
  ObjectValue,
  parseNumber,
  SetValue,
  toJSONText,
  type Value,
} from '../../../../policies/ir/value';
import { valueToRego } from '../../../../policies/ir/value-text';
import { jsonArb, numberArb, SEED, stringArb, valueArb } from './runtime-arbitraries';
import { Runtime, runtimeBytes, shape } from './runtime-harness';

let rt: Runtime;
let base: number;

beforeAll(() => {
  rt = new Runtime(runtimeBytes());
  base = rt.exports.opa_heap_ptr_get();
});

/** Each case starts from an empty heap and no error. */
function fresh(): void {
  rt.exports.opa_heap_ptr_set(base);
  rt.exports.vd_error_clear();
}

// ---------------------------------------------------------------------------------------------

describe('module', () => {
  it('imports only what the OPA SDK provides', () => {
    expect(rt.importNames().sort()).toEqual(
      [
        'env.memory',
        'env.opa_abort',
        'env.opa_println',
        'env.opa_builtin0',
        'env.opa_builtin1',
        'env.opa_builtin2',
        'env.opa_builtin3',
        'env.opa_builtin4',
      ].sort(),
    );
  });

  it('exports the runtime contract of docs/wasm.md', () => {
    const names = new Set(rt.exportNames());
    for (const name of [
      'opa_malloc',
      'opa_free',
      'opa_heap_ptr_get',
      'opa_heap_ptr_set',
      'opa_json_parse',
      'opa_json_dump',
      'opa_value_parse',
      'opa_value_dump',
      'opa_value_add_path',
      'opa_value_remove_path',
      'opa_eval_ctx_new',
      'opa_eval_ctx_set_input',
      'opa_eval_ctx_set_data',
      'opa_eval_ctx_set_entrypoint',
      'opa_eval_ctx_get_result',
      'vd_null',
      'vd_boolean',
      'vd_int',
      'vd_float',
      'vd_number_text',
      'vd_string',
      'vd_array',
      'vd_object',
      'vd_set',
      'vd_array_append',
      'vd_set_add',
      'vd_object_insert',
      'vd_object_insert_once',
      'vd_object_insert_path',
      'vd_object_merge',
      'vd_upsert',
      'vd_get',
      'vd_type',
      'vd_length',
      'vd_iter_key',
      'vd_iter_value',
      'vd_equal',
      'vd_compare',
      'vd_truthy',
      'vd_error_code',
      'vd_error_message',
      'vd_error_clear',
      'vd_error_set',
      'vd_builtin_count',
      'vd_builtin_plus',
      'vd_builtin_internal_member_2',
    ]) {
      expect(names.has(name)).toBe(true);
    }
  });

  it('has no start function and no AssemblyScript allocator (the heap is ours alone)', () => {
    const bytes = runtimeBytes();
    // The name section keeps function names (--debug): none of the managed runtime may be in.
    expect(bytes.includes(Buffer.from('~lib/rt/stub/__alloc'))).toBe(false);
    expect(bytes.includes(Buffer.from('~lib/rt/stub/__new'))).toBe(false);
    expect(bytes.includes(Buffer.from('policies/wasm/runtime/alloc/opa_malloc'))).toBe(true);
    // Instantiating ran no code: nothing was allocated and memory was not touched beyond data.
    const other = new Runtime(bytes);
    expect(other.exports.opa_heap_ptr_get()).toBe(base);
  });
});

describe('allocator', () => {
  beforeEach(fresh);

  it('grows memory past several pages and hands out disjoint, aligned blocks', () => {
    const before = rt.memory.buffer.byteLength;
    const blocks: number[] = [];
    for (let i = 0; i < 6; i++) blocks.push(rt.exports.opa_malloc(100_000));
    expect(rt.memory.buffer.byteLength).toBeGreaterThanOrEqual(before + 5 * 65536);
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i] as number;
      expect(b % 8).toBe(0);
      if (i > 0) expect(b).toBeGreaterThanOrEqual((blocks[i - 1] as number) + 100_000);
      // Every block is writable up to its last byte.
      new Uint8Array(rt.memory.buffer).fill(i + 1, b, b + 100_000);
    }
    expect(new Uint8Array(rt.memory.buffer)[(blocks[5] as number) + 99_999]).toBe(6);
  });

  it('reuses the heap after opa_heap_ptr_set, as the SDK does between evaluations', () => {
    const p = rt.exports.opa_malloc(40);
    rt.exports.opa_malloc(1000);
    rt.exports.opa_heap_ptr_set(p);
    expect(rt.exports.opa_malloc(8)).toBe(p);
    expect(rt.exports.opa_heap_ptr_get()).toBe(p + 8);
  });

  it('keeps constants outside the heap: null, booleans and small integers survive a reset', () => {
    const t = rt.exports.vd_boolean(1);
    const seven = rt.exports.vd_int(7n);
    rt.exports.opa_heap_ptr_set(base);
    rt.exports.opa_malloc(4096);
    expect(t).toBeLessThan(base);
    expect(seven).toBeLessThan(base);
    expect(rt.dumpJSON(t)).toBe('true');
    expect(rt.dumpJSON(seven)).toBe('7');
  });

  it('aborts through opa_abort when memory cannot grow', () => {
    const limited = new Runtime(runtimeBytes());
    expect(() => limited.exports.opa_malloc(0x7fffff00)).toThrow(/opa_abort: out of memory/);
    expect(limited.host.aborted).toEqual(['out of memory']);
  });
});

describe('JSON', () => {
  beforeEach(fresh);

  const roundTrip = (text: string): string => {
    fresh();
    const v = rt.parseJSON(text);
    return v === 0 ? '<invalid>' : rt.dumpJSON(v);
  };

  it.each([
    ['{"b":1,"a":[true,false,null]}', '{"a":[true,false,null],"b":1}'],
    ['123456789012345678901234567890', '123456789012345678901234567890'],
    ['-123456789012345678901234567890', '-123456789012345678901234567890'],
    ['9223372036854775807', '9223372036854775807'],
    ['9223372036854775808', '9223372036854775808'],
    ['-9223372036854775808', '-9223372036854775808'],
    ['1e30', '1000000000000000000000000000000'],
    ['2.50e2', '250'],
    ['1.5', '1.5'],
    ['2.0', '2'],
    ['-0', '0'],
    ['-0.0', '0'],
    ['0.1', '0.1'],
    ['1e-7', '1e-7'],
    ['1.7976931348623157e308', toJSONText(parseNumber('1.7976931348623157e308'))],
    ['5e-324', '5e-324'],
    ['1e400', toJSONText(parseNumber('1e400'))],
    ['1e10001', toJSONText(parseNumber('1e10001'))],
    [
      '"\\u00e9\\ud83d\\ude00 \\"q\\" \\\\ \\/ \\b\\f\\n\\r\\t"',
      '"é😀 \\"q\\" \\\\ / \\b\\f\\n\\r\\t"',
    ],
    ['"\\ud800x"', '"\ufffdx"'],
    ['"\\udc00"', '"\ufffd"'],
    ['"\u0001"', '<invalid>'],
    ['"\\u001f"', '"\\u001f"'],
    ['"日本語 ünïcödé"', '"日本語 ünïcödé"'],
    [' \n\t[ 1 , 2 ]\r\n', '[1,2]'],
    ['{"a":1,"a":2}', '{"a":2}'],
    ['{"b":{"y":1,"x":2},"a":[]}', '{"a":[],"b":{"x":2,"y":1}}'],
  ])('%s → %s', (text, want) => {
    expect(roundTrip(text)).toBe(want);
  });

  it.each([
    '',
    '[',
    '[1,]',
    '{"a":1,}',
    '{a:1}',
    '01',
    '1.',
    '.5',
    '1e',
    '-',
    '+1',
    'tru',
    'truex',
    'nul',
    '"abc',
    '"\\x41"',
    '"\\u12"',
    '[1 2]',
    '{"a" 1}',
    '{1:2}',
    'set()',
    '{1,2}',
    '1 2',
    'NaN',
    'Infinity',
  ])('rejects %j', (text) => {
    expect(roundTrip(text)).toBe('<invalid>');
  });

  it('parses nesting up to 1000 levels and refuses deeper, as the interpreter does', () => {
    const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);
    expect(roundTrip(deep(1000))).toBe(deep(1000));
    expect(roundTrip(deep(1001))).toBe('<invalid>');
    expect(isValidJSON(deep(1001))).toBe(false);
    const objects = '{"a":'.repeat(999) + '1' + '}'.repeat(999);
    expect(roundTrip(objects)).toBe(objects);
  });

  it('round-trips generated JSON exactly (keys sorted, big integers exact)', () => {
    fc.assert(
      fc.property(jsonArb, (v) => {
        const text = toJSONText(v);
        expect(roundTrip(text)).toBe(toJSONText(parseJSONValue(text)));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('reads JSON written with whitespace and in any key order', () => {
    const plain: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 4 });
    fc.assert(
      fc.property(plain, (x) => {
        const text = JSON.stringify(x, null, 2);
        expect(roundTrip(text)).toBe(toJSONText(parseJSONValue(text)));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('accepts and rejects the same texts as the interpreter’s parser', () => {
    const piece = fc.constantFrom(
      '[',
      ']',
      '{',
      '}',
      ',',
      ':',
      '"',
      '\\',
      'u',
      '0',
      '1',
      '-',
      '.',
      'e',
      '+',
      ' ',
      'a',
      'true',
      'null',
      '"k"',
      '1.5',
      '\\u0041',
      '\\ud83d',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 10 }), (parts) => {
        const text = parts.join('');
        expect(roundTrip(text) !== '<invalid>').toBe(isValidJSON(text));
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('dumps any Rego value as the interpreter writes JSON (sets as arrays, non-string keys as text)', () => {
    fc.assert(
      fc.property(valueArb, (v) => {
        fresh();
        expect(rt.dumpJSON(rt.toWasm(v))).toBe(toJSONText(v));
      }),
      { seed: SEED, numRuns: 500 },
    );
    fresh();
    const nested = new ObjectValue([[new ObjectValue([[[1, 'x'], 'in']]), 'out']]);
    expect(rt.dumpJSON(rt.toWasm(nested))).toBe(toJSONText(nested));
    expect(rt.dumpJSON(rt.toWasm(nested))).toBe('{"{\\"[1,\\\\\\"x\\\\\\"]\\":\\"in\\"}":"out"}');
  });

  it('moves numbers a double cannot hold as marked strings while host transport is on', () => {
    const values: Value[] = [2n ** 70n, 2 ** 53 - 1, 0.5, -(2n ** 60n), 'n:1'];
    let text = '';
    let back = 0;
    let notNumber = 0;
    rt.exports.vd_host_transport(1);
    try {
      text = rt.dumpJSON(rt.toWasm(values));
      back = rt.parseJSON(text);
      notNumber = rt.parseJSON('"\\u0000n:12x"');
    } finally {
      rt.exports.vd_host_transport(0);
    }
    expect(text).toBe(
      '["\\u0000n:1180591620717411303424",9007199254740991,0.5,"\\u0000n:-1152921504606846976","n:1"]',
    );
    expect(shape(rt.fromWasm(back))).toBe(shape(values));
    // A marked string that is not a number stays a string, and so does any without transport.
    expect(rt.fromWasm(notNumber)).toBe('\u0000n:12x');
    expect(rt.fromWasm(rt.parseJSON('"\\u0000n:12"'))).toBe('\u0000n:12');
  });

  it('keeps strings without escapes in place (no copy of the text)', () => {
    const [addr, len] = rt.write('["abc"]');
    const v = rt.exports.opa_json_parse(addr, len);
    const s = rt.exports.vd_iter_value(v, 0);
    expect(rt.exports.vd_string_ptr(s)).toBe(addr + 2);
  });
});

describe('numbers', () => {
  beforeEach(fresh);

  it('prints doubles as JavaScript does (shortest round-trip digits)', () => {
    const doubles = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e25, max: 1e25 }),
      fc.integer().map((i) => i / 1000),
      fc.constantFrom(
        1e21,
        1e-6,
        1e-7,
        123e-20,
        2 ** 53,
        2 ** 60,
        0.1 + 0.2,
        5e-324,
        2.2250738585072014e-308,
      ),
    );
    fc.assert(
      fc.property(doubles, (x) => {
        fresh();
        expect(rt.dumpJSON(rt.exports.vd_float(x))).toBe(toJSONText(normalizeNumber(x)));
      }),
      { seed: SEED, numRuns: 5000 },
    );
  });

  it('reads number text exactly as the interpreter (integers exact, doubles correctly rounded)', () => {
    const digits = fc.string({
      unit: fc.constantFrom('0', '1', '5', '9'),
      minLength: 1,
      maxLength: 30,
    });
    const literal = fc
      .tuple(
        fc.boolean(),
        digits,
        fc.option(digits, { nil: undefined }),
        fc.option(fc.integer({ min: -400, max: 400 }), { nil: undefined }),
      )
      .map(([neg, whole, frac, exp]) => {
        const w = whole.replace(/^0+(?=\d)/, '');
        return `${neg ? '-' : ''}${w}${frac !== undefined ? '.' + frac : ''}${exp !== undefined ? `e${exp}` : ''}`;
      });
    const fromDoubles = fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => String(x));
    fc.assert(
      fc.property(fc.oneof(literal, fromDoubles), (text) => {
        fresh();
        const [addr, len] = rt.write(text);
        const v = rt.exports.vd_number_text(addr, len);
        expect(v).not.toBe(0);
        expect(rt.dumpJSON(v)).toBe(toJSONText(parseNumber(text)));
      }),
      { seed: SEED, numRuns: 5000 },
    );
  });

  it('refuses text that is not a number', () => {
    for (const text of ['', 'abc', '1x', '--1', '01', '1e', '0x10']) {
      const [addr, len] = rt.write(text);
      expect(rt.exports.vd_number_text(addr, len)).toBe(0);
    }
  });

  it('stores integral doubles as integers and keeps 64-bit integers exact', () => {
    expect(rt.dumpJSON(rt.exports.vd_float(3))).toBe('3');
    expect(rt.dumpJSON(rt.exports.vd_float(-0))).toBe('0');
    expect(rt.exports.vd_equal(rt.exports.vd_float(3), rt.exports.vd_int(3n))).toBe(1);
    expect(rt.dumpJSON(rt.exports.vd_int(-(2n ** 63n)))).toBe('-9223372036854775808');
    expect(rt.dumpJSON(rt.exports.vd_int(2n ** 63n - 1n))).toBe('9223372036854775807');
  });
});

describe('order and equality', () => {
  beforeEach(fresh);

  const pairs = fc.oneof(
    fc.tuple(valueArb, valueArb),
    valueArb.map((v) => [v, v] as [Value, Value]),
    fc.tuple(numberArb, numberArb),
    fc.tuple(stringArb, stringArb),
  );

  it('orders and compares like policies/ir/value.ts', () => {
    fc.assert(
      fc.property(pairs, ([a, b]) => {
        fresh();
        const x = rt.toWasm(a);
        const y = rt.toWasm(b);
        expect(rt.exports.vd_compare(x, y)).toBe(Math.sign(compare(a, b)));
        expect(rt.exports.vd_compare(y, x)).toBe(Math.sign(compare(b, a)));
        expect(rt.exports.vd_equal(x, y)).toBe(equal(a, b) ? 1 : 0);
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('compares numbers of every representation exactly', () => {
    const cases: [Value, Value][] = [
      [1, 1.5],
      [2n ** 63n, 9223372036854775807n],
      [2n ** 63n, 2 ** 63],
      [2n ** 70n, 2 ** 70],
      [2n ** 70n + 1n, 2 ** 70],
      [-(2n ** 70n) - 1n, -(2 ** 70)],
      [9007199254740993n, 9007199254740992],
      [-(2n ** 63n), -(2 ** 63)],
      [10n ** 30n, 1e30],
      [1.5, 10n ** 30n],
      [-0.5, -(10n ** 30n)],
    ];
    for (const [a, b] of cases) {
      fresh();
      expect(rt.exports.vd_compare(rt.toWasm(a), rt.toWasm(b))).toBe(Math.sign(compare(a, b)));
    }
  });

  it('iterates sets and objects in sorted Rego order whatever the insertion order', () => {
    fc.assert(
      fc.property(valueArb, (v) => {
        fresh();
        expect(shape(rt.fromWasm(rt.toWasm(v)))).toBe(shape(v));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('treats only false as not truthy', () => {
    expect(rt.exports.vd_truthy(rt.exports.vd_boolean(0))).toBe(0);
    expect(rt.exports.vd_truthy(rt.exports.vd_boolean(1))).toBe(1);
    expect(rt.exports.vd_truthy(rt.exports.vd_null())).toBe(1);
    expect(rt.exports.vd_truthy(rt.exports.vd_int(0n))).toBe(1);
    expect(rt.exports.vd_truthy(0)).toBe(0);
  });
});

describe('Rego value text', () => {
  beforeEach(fresh);

  it('parses sets, set() and non-string keys', () => {
    const v = rt.parseRego('{"s": {3, 1, 2, 1}, "e": set(), [1]: {1: "x"}}');
    expect(v).not.toBe(0);
    expect(rt.dumpRego(v)).toBe('{"e": set(), "s": {1, 2, 3}, [1]: {1: "x"}}');
    expect(rt.dumpJSON(v)).toBe('{"e":[],"s":[1,2,3],"[1]":{"1":"x"}}');
    expect(rt.parseRego('{1, 2')).toBe(0);
    expect(rt.parseRego('{1: 2, 3}')).toBe(0);
  });

  it('prints values as the interpreter’s valueToRego (printable strings)', () => {
    const printable = fc.string({ maxLength: 6 });
    const { v } = fc.letrec<{ v: Value }>((tie) => ({
      v: fc.oneof(
        { maxDepth: 3, depthIdentifier: 'v' },
        fc.oneof(
          fc.constant(null),
          fc.boolean(),
          numberArb,
          printable,
          fc.constantFrom('\n', 'é😀', '\u0007\u007f'),
        ),
        fc.array(tie('v'), { maxLength: 3 }),
        fc.array(tie('v'), { maxLength: 3 }).map((xs) => new SetValue(xs)),
        fc.array(fc.tuple(tie('v'), tie('v')), { maxLength: 3 }).map((es) => new ObjectValue(es)),
      ),
    }));
    fc.assert(
      fc.property(v, (x) => {
        fresh();
        const text = valueToRego(x);
        expect(rt.dumpRego(rt.toWasm(x))).toBe(text);
        expect(shape(rt.fromWasm(rt.parseRego(text)))).toBe(shape(x));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});

describe('Go quoting', () => {
  it('quotes every code point as the interpreter’s goQuote', () => {
    const mismatches: string[] = [];
    let chunk: number[] = [];
    const check = (): void => {
      fresh();
      const text = String.fromCodePoint(...chunk);
      if (rt.dumpRego(rt.toWasm(text)) !== valueToRego(text)) {
        for (const cp of chunk) {
          fresh();
          const one = String.fromCodePoint(cp);
          if (rt.dumpRego(rt.toWasm(one)) !== valueToRego(one))
            mismatches.push(`U+${cp.toString(16)}`);
        }
      }
      chunk = [];
    };
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      chunk.push(cp);
      if (chunk.length === 8192) check();
    }
    check();
    expect(mismatches).toEqual([]);
  });
});

describe('collections', () => {
  beforeEach(fresh);

  const v = (x: Value): number => rt.toWasm(x);
  const path = (...keys: Value[]): number => rt.toWasm(keys);
  const obj = (record: Record<string, Value>): ObjectValue => ObjectValue.fromRecord(record);

  it('gets array elements by integer index, object values by key, set members', () => {
    const arr = v(['a', 'b']);
    expect(rt.dumpJSON(rt.exports.vd_get(arr, v(1)))).toBe('"b"');
    expect(rt.exports.vd_get(arr, v(2))).toBe(0);
    expect(rt.exports.vd_get(arr, v(-1))).toBe(0);
    expect(rt.exports.vd_get(arr, v(0.5))).toBe(0);
    expect(rt.exports.vd_get(arr, v('0'))).toBe(0);
    const o = v(
      new ObjectValue([
        ['k', 1],
        [2, 'two'],
        [[1], 'arr'],
      ]),
    );
    expect(rt.dumpJSON(rt.exports.vd_get(o, v('k')))).toBe('1');
    expect(rt.dumpJSON(rt.exports.vd_get(o, v(2)))).toBe('"two"');
    expect(rt.dumpJSON(rt.exports.vd_get(o, v(2.0)))).toBe('"two"');
    expect(rt.dumpJSON(rt.exports.vd_get(o, v([1])))).toBe('"arr"');
    expect(rt.exports.vd_get(o, v('missing'))).toBe(0);
    const s = v(new SetValue(['x', 1]));
    expect(rt.dumpJSON(rt.exports.vd_get(s, v('x')))).toBe('"x"');
    expect(rt.exports.vd_get(s, v('y'))).toBe(0);
    expect(rt.exports.vd_get(v('str'), v(0))).toBe(0);
  });

  it('finds every key of large objects built in any order', () => {
    fc.assert(
      fc.property(fc.uniqueArray(stringArb, { minLength: 1, maxLength: 200 }), (keys) => {
        fresh();
        const o = rt.exports.vd_object();
        keys.forEach((k, i) => {
          rt.exports.vd_object_insert(o, rt.string(k), rt.exports.vd_int(BigInt(i)));
        });
        expect(rt.exports.vd_length(o)).toBe(keys.length);
        keys.forEach((k, i) => {
          expect(rt.dumpJSON(rt.exports.vd_get(o, rt.string(k)))).toBe(String(i));
        });
        expect(rt.exports.vd_get(o, rt.string('\u{10ffff}missing'))).toBe(0);
      }),
      { seed: SEED, numRuns: 100 },
    );
  });

  it('reports iteration keys and values in order', () => {
    const arr = v(['a', 'b']);
    expect(rt.dumpJSON(rt.exports.vd_iter_key(arr, 1))).toBe('1');
    const o = v(obj({ b: 2, a: 1 }));
    expect(rt.dumpJSON(rt.exports.vd_iter_key(o, 0))).toBe('"a"');
    expect(rt.dumpJSON(rt.exports.vd_iter_value(o, 1))).toBe('2');
    const s = v(new SetValue([3, 1]));
    expect(rt.dumpJSON(rt.exports.vd_iter_key(s, 0))).toBe('1');
    expect(rt.dumpJSON(rt.exports.vd_iter_value(s, 1))).toBe('3');
    expect(rt.exports.vd_length(v('abc'))).toBe(-1);
    expect(rt.exports.vd_type(s)).toBe(6);
  });

  it('insert_once accepts equal values and reports a conflict for different ones', () => {
    const o = rt.exports.vd_object();
    expect(rt.exports.vd_object_insert_once(o, v('a'), v(1))).toBe(0);
    expect(rt.exports.vd_object_insert_once(o, v('a'), v(1.0))).toBe(0);
    expect(rt.exports.vd_object_insert_once(o, v('a'), v(2))).toBe(1);
    expect(rt.exports.vd_object_insert_once(o, v('b'), v(2))).toBe(0);
    expect(rt.dumpJSON(o)).toBe('{"a":1,"b":2}');
  });

  it('turns an array into a set (host results declared as sets) and leaves other values', () => {
    const s = rt.exports.vd_set_of(v([3, 1, 3, 'a']));
    expect(rt.dumpRego(s)).toBe('{1, 3, "a"}');
    const o = v(obj({ a: 1 }));
    expect(rt.exports.vd_set_of(o)).toBe(o);
    expect(rt.exports.vd_set_of(0)).toBe(0);
  });

  it('sets add each member once', () => {
    const s = rt.exports.vd_set();
    for (const x of [3, 1, 2, 1, 3.0, 'a']) rt.exports.vd_set_add(s, v(x));
    expect(rt.dumpJSON(s)).toBe('[1,2,3,"a"]');
  });

  it('insert_path creates objects, copies shared ones, adds to leaf sets, and detects conflicts', () => {
    const shared = v(obj({ x: 1 }));
    const o = rt.exports.vd_object();
    rt.exports.vd_object_insert(o, v('a'), shared);
    expect(rt.exports.vd_object_insert_path(o, path('a', 'y'), v(2), 0)).toBe(0);
    expect(rt.dumpJSON(o)).toBe('{"a":{"x":1,"y":2}}');
    expect(rt.dumpJSON(shared)).toBe('{"x":1}');
    expect(rt.exports.vd_object_insert_path(o, path('a', 'y'), v(2), 0)).toBe(0);
    expect(rt.exports.vd_object_insert_path(o, path('a', 'y'), v(3), 0)).toBe(1);
    expect(rt.exports.vd_object_insert_path(o, path('a', 'x', 'deeper'), v(3), 0)).toBe(1);
    expect(rt.exports.vd_object_insert_path(o, path('b', 'c', 'd'), v('s1'), 1)).toBe(0);
    expect(rt.exports.vd_object_insert_path(o, path('b', 'c', 'd'), v('s0'), 1)).toBe(0);
    expect(rt.dumpRego(o)).toBe('{"a": {"x": 1, "y": 2}, "b": {"c": {"d": {"s0", "s1"}}}}');
    expect(rt.exports.vd_object_insert_path(o, path('a', 'x'), v('s'), 1)).toBe(1);
  });

  it('merges objects deeply without changing the source objects', () => {
    const dst = rt.exports.vd_object();
    const inner = v(obj({ p: 1 }));
    rt.exports.vd_object_insert(dst, v('a'), inner);
    rt.exports.vd_object_insert(dst, v('k'), v('old'));
    rt.exports.vd_object_merge(dst, v(obj({ a: obj({ q: 2 }), k: 'new', z: [1] })));
    expect(rt.dumpJSON(dst)).toBe('{"a":{"p":1,"q":2},"k":"new","z":[1]}');
    expect(rt.dumpJSON(inner)).toBe('{"p":1}');
  });

  it('upsert returns a copy with the value placed, objects created on the way', () => {
    const doc = v(obj({ a: obj({ b: 1, c: 2 }), d: 3 }));
    const out = rt.exports.vd_upsert(doc, path('a', 'b'), v('x'));
    expect(rt.dumpJSON(out)).toBe('{"a":{"b":"x","c":2},"d":3}');
    expect(rt.dumpJSON(doc)).toBe('{"a":{"b":1,"c":2},"d":3}');
    expect(rt.dumpJSON(rt.exports.vd_upsert(doc, path('d', 'e'), v(1)))).toBe(
      '{"a":{"b":1,"c":2},"d":{"e":1}}',
    );
    expect(rt.dumpJSON(rt.exports.vd_upsert(0, path('n'), v(1)))).toBe('{"n":1}');
    expect(rt.dumpJSON(rt.exports.vd_upsert(doc, path(), v(1)))).toBe('1');
  });

  it('adds and removes data paths in place with OPA’s error codes', () => {
    const data = rt.parseJSON('{"a":{"b":1}}');
    expect(rt.exports.opa_value_add_path(data, path('a', 'c'), v(2))).toBe(0);
    expect(rt.exports.opa_value_add_path(data, path('x', 'y', 'z'), v(true))).toBe(0);
    expect(rt.dumpJSON(data)).toBe('{"a":{"b":1,"c":2},"x":{"y":{"z":true}}}');
    expect(rt.exports.opa_value_add_path(data, path(), v(1))).toBe(3);
    expect(rt.exports.opa_value_add_path(data, path('a', 'b', 'c'), v(1))).toBe(2);
    expect(rt.exports.opa_value_add_path(v([1]), path('a'), v(1))).toBe(2);
    expect(rt.exports.opa_value_remove_path(data, path('a', 'b'))).toBe(0);
    expect(rt.exports.opa_value_remove_path(data, path('nope', 'b'))).toBe(0);
    expect(rt.exports.opa_value_remove_path(data, path('x'))).toBe(0);
    expect(rt.dumpJSON(data)).toBe('{"a":{"c":2}}');
    expect(rt.exports.opa_value_remove_path(data, path())).toBe(3);
  });
});

describe('errors and the evaluation context', () => {
  beforeEach(fresh);

  it('records, reports and clears an error', () => {
    expect(rt.exports.vd_error_code()).toBe(0);
    expect(rt.cString(rt.exports.vd_error_message())).toBe('');
    const [addr, len] = rt.write('custom: détail');
    rt.exports.vd_error_set(3, addr, len);
    expect(rt.error()).toEqual({ code: 3, message: 'custom: détail' });
    rt.exports.vd_error_clear();
    expect(rt.error()).toEqual({ code: 0, message: '' });
  });

  it('puts a prefix before the message (where a strict-mode error happened)', () => {
    const [addr, len] = rt.write('div: divide by zero');
    rt.exports.vd_error_set(2, addr, len);
    const [prefix] = rt.write('p.rego:3:5: eval_builtin_error: \0');
    rt.exports.vd_error_prefix(prefix);
    expect(rt.error()).toEqual({
      code: 2,
      message: 'p.rego:3:5: eval_builtin_error: div: divide by zero',
    });
    const [long] = rt.write('y'.repeat(2000) + '\0');
    rt.exports.vd_error_prefix(long);
    expect(rt.error().message).toBe('y'.repeat(1023));
  });

  it('cuts messages that do not fit instead of overrunning', () => {
    const [addr, len] = rt.write('x'.repeat(5000));
    rt.exports.vd_error_set(2, addr, len);
    expect(rt.error().message).toBe('x'.repeat(1023));
  });

  it('holds input, data, entrypoint and result', () => {
    const ctx = rt.exports.opa_eval_ctx_new();
    const input = rt.parseJSON('{"user":"alice"}');
    const data = rt.parseJSON('{}');
    rt.exports.opa_eval_ctx_set_input(ctx, input);
    rt.exports.opa_eval_ctx_set_data(ctx, data);
    rt.exports.opa_eval_ctx_set_entrypoint(ctx, 3);
    expect(rt.exports.opa_eval_ctx_get_result(ctx)).toBe(0);
    expect(rt.exports.vd_ctx_input(ctx)).toBe(input);
    expect(rt.exports.vd_ctx_data(ctx)).toBe(data);
    expect(rt.exports.vd_ctx_entrypoint(ctx)).toBe(3);
    const result = rt.parseJSON('[{"result":true}]');
    rt.exports.vd_ctx_set_result(ctx, result);
    expect(rt.dumpJSON(rt.exports.opa_eval_ctx_get_result(ctx))).toBe('[{"result":true}]');
  });
});
