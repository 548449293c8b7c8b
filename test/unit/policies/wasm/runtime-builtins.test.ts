/**
 * Native builtins of the WASM runtime against the interpreter's builtins
 * (policies/rego/builtins): same arguments, same value (same JSON text and the same types, sets
 * included), or the same error code and message.
 */
import fc from 'fast-check';

import { ObjectValue, SetValue, toJSONText, type Value } from '../../../../policies/ir/value';
import { lookupBuiltin } from '../../../../policies/rego/builtins';
import { walkValue } from '../../../../policies/rego/builtins/graph';
import {
  BuiltinError,
  BuiltinTypeError,
  type BuiltinContext,
  type TypeSpec,
} from '../../../../policies/rego/builtins/types';
import { intArb, numberArb, SEED, valueArb } from './runtime-arbitraries';
import { Runtime, runtimeBytes, shape } from './runtime-harness';

let rt: Runtime;
let base: number;

beforeAll(() => {
  rt = new Runtime(runtimeBytes());
  base = rt.exports.opa_heap_ptr_get();
});

const ERR_TYPE = 1;
const ERR_BUILTIN = 2;

type Outcome =
  | { readonly kind: 'value'; readonly value: Value | undefined }
  | { readonly kind: 'error'; readonly code: number; readonly message: string };

function interpreted(name: string, args: readonly Value[]): Outcome {
  const def = lookupBuiltin(name);
  if (def === undefined) throw new Error(`no builtin ${name} in the catalogue`);
  const ctx: BuiltinContext = { nowNs: 0n, memo: new Map() };
  try {
    return { kind: 'value', value: def.impl(args, ctx) };
  } catch (err) {
    if (err instanceof BuiltinTypeError)
      return { kind: 'error', code: ERR_TYPE, message: err.message };
    if (err instanceof BuiltinError)
      return { kind: 'error', code: ERR_BUILTIN, message: err.message };
    throw err;
  }
}

function native(name: string, args: readonly Value[]): number {
  const fn = rt.builtin(name);
  if (fn === undefined) throw new Error(`the runtime does not export ${name}`);
  return fn(...args.map((a) => rt.toWasm(a)));
}

/** Runs both and expects the same outcome. */
function agree(name: string, args: readonly Value[]): void {
  rt.exports.opa_heap_ptr_set(base);
  rt.exports.vd_error_clear();
  const want = interpreted(name, args);
  const got = native(name, args);
  const error = rt.error();
  if (want.kind === 'error') {
    expect({ got, ...error }).toEqual({ got: 0, code: want.code, message: want.message });
    return;
  }
  expect(error).toEqual({ code: 0, message: '' });
  if (want.value === undefined) {
    expect(got).toBe(0);
    return;
  }
  expect(got).not.toBe(0);
  expect(shape(rt.fromWasm(got))).toBe(shape(want.value));
  expect(rt.dumpJSON(got)).toBe(toJSONText(want.value));
}

// ---------------------------------------------------------------------------------------------
// Arguments: generated from each builtin's declared types, with some wrongly typed ones mixed
// in; builtins whose interesting cases random values rarely hit get their own generators.

function ofType(spec: TypeSpec): fc.Arbitrary<Value> {
  switch (spec.kind) {
    case 'any':
      return valueArb;
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'number':
      return numberArb;
    case 'string':
      return textArb;
    case 'array':
      return fc.array(ofType(spec.of), { maxLength: 5 });
    case 'set':
      return fc.array(ofType(spec.of), { maxLength: 5 }).map((xs) => new SetValue(xs));
    case 'object':
      return fc
        .array(fc.tuple(ofType(spec.key), ofType(spec.value)), { maxLength: 4 })
        .map((es) => new ObjectValue(es));
    case 'anyOf':
      return fc.oneof(...spec.of.map(ofType));
  }
}

/** Mostly well-typed, sometimes anything (for the type errors). */
function typedArgs(name: string): fc.Arbitrary<Value[]> {
  const def = lookupBuiltin(name);
  if (def === undefined) throw new Error(`no builtin ${name}`);
  return fc.tuple(
    ...def.args.map((t) =>
      fc.oneof({ weight: 6, arbitrary: ofType(t) }, { weight: 1, arbitrary: valueArb }),
    ),
  );
}

/** Characters with case mappings in every supported script, and some without. */
const charArb = fc.oneof(
  fc.constantFrom('a', 'b', 'A', 'B', ' ', '\t', '\n', ',', '.', '-', 'x', 'µ', 'ß', '😀', '日'),
  fc.integer({ min: 0x41, max: 0x7a }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0xc0, max: 0x17f }).map((c) => String.fromCodePoint(c)),
  fc.integer({ min: 0x386, max: 0x3ce }).map((c) => String.fromCodePoint(c)),
  fc.integer({ min: 0x400, max: 0x45f }).map((c) => String.fromCodePoint(c)),
  fc.constantFrom('\u00a0', '\u2003', '\u3000', '\u0085', '\u200b', '\v', '\f', '\r'),
);
const textArb = fc.string({ unit: charArb, maxLength: 8 });

/** A string and a piece of it (or another string, or ''). */
const textAndPart = fc.oneof(
  textArb.chain((s) => {
    // Cut at code points: UTF-8 strings cannot hold half a surrogate pair.
    const cps = Array.from(s);
    return fc
      .tuple(fc.nat(cps.length), fc.nat(cps.length))
      .map(([i, j]) => [s, cps.slice(Math.min(i, j), Math.max(i, j)).join('')] as Value[]);
  }),
  fc.tuple(textArb, textArb),
  fc.tuple(textArb, fc.constant('')),
);

const smallInt = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: -4, max: 12 }) },
  { weight: 1, arbitrary: numberArb },
);

const smallIntSet = fc
  .array(fc.integer({ min: 0, max: 6 }), { maxLength: 5 })
  .map((xs) => new SetValue(xs));

const keyArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('a', 'b', 'c') },
  { weight: 1, arbitrary: fc.constantFrom<Value>(1, 2.5, null, true, ['a']) },
);

const { nested: nestedObject } = fc.letrec<{ nested: Value; inner: Value }>((tie) => ({
  nested: fc
    .array(fc.tuple(keyArb, tie('inner')), { maxLength: 4 })
    .map((es) => new ObjectValue(es)),
  inner: fc.oneof(
    { maxDepth: 2, depthIdentifier: 'nested' },
    fc.integer({ min: 0, max: 3 }),
    tie('nested'),
    smallIntSet,
    fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
  ),
}));

/** A collection and something that is often in it. */
function collectionAndMember(collection: fc.Arbitrary<Value>): fc.Arbitrary<[Value, Value]> {
  return collection.chain((c) => {
    const items: Value[] =
      c instanceof SetValue
        ? [...c.sorted()]
        : c instanceof ObjectValue
          ? c.values()
          : Array.isArray(c)
            ? [...(c as readonly Value[])]
            : [];
    const pick = items.length > 0 ? fc.constantFrom(...items) : valueArb;
    return fc.tuple(fc.constant(c), fc.oneof(pick, valueArb));
  });
}

const collectionArb = fc.oneof(
  fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 5 }),
  smallIntSet,
  nestedObject,
  valueArb,
);

const nodeArb = fc.constantFrom<Value>('a', 'b', 'c', 'd', 1);
const graphArb = fc
  .array(
    fc.tuple(
      nodeArb,
      fc.oneof(
        fc.array(nodeArb, { maxLength: 3 }),
        fc.array(nodeArb, { maxLength: 3 }).map((xs) => new SetValue(xs)),
        fc.constant<Value>('not edges'),
      ),
    ),
    { maxLength: 5 },
  )
  .map((es) => new ObjectValue(es));
const nodesArb = fc.oneof(
  fc.array(nodeArb, { maxLength: 3 }),
  fc.array(nodeArb, { maxLength: 3 }).map((xs) => new SetValue(xs)),
  valueArb,
);

const numberText = fc.oneof(
  fc.constantFrom(
    '1',
    '-0',
    '+1',
    '1.',
    '.5',
    '007',
    '1e5',
    '1E+5',
    '1.5e-3',
    ' 1',
    '1 ',
    '',
    '-',
    '+',
    '1e400',
    '-1e400',
    '1e10001',
    '0x10',
    '0x1p3',
    '0X1.8P1',
    '-0x1p-2',
    '0x.8p1',
    '0xp1',
    'inf',
    '-Infinity',
    'NaN',
    '+nan',
    'abc',
    '1_000',
    '1e',
    '12345678901234567890123',
    '1.0e2',
    '"q"',
    'ä',
  ),
  numberArb.map((n) => n.toString()),
);

/** Short strings over few letters, so patterns and affixes often match. */
const smallText = fc.string({ unit: fc.constantFrom('a', 'b', 'é', '😀'), maxLength: 6 });
const patternsArb = fc
  .array(fc.tuple(smallText, smallText), { maxLength: 3 })
  .map((es) => new ObjectValue(es));
const affixesArb: fc.Arbitrary<Value> = fc.oneof(
  smallText,
  fc.array(smallText, { maxLength: 3 }),
  fc.array(smallText, { maxLength: 3 }).map((xs) => new SetValue(xs)),
  fc.array(fc.oneof(smallText, valueArb), { maxLength: 3 }).map((xs) => new SetValue(xs)),
  valueArb,
);

const ARGS: Record<string, fc.Arbitrary<Value[]>> = {
  equal: fc.oneof(
    fc.tuple(valueArb, valueArb),
    valueArb.map((v) => [v, v]),
  ),
  neq: fc.oneof(
    fc.tuple(valueArb, valueArb),
    valueArb.map((v) => [v, v]),
  ),
  lt: fc.tuple(valueArb, valueArb),
  minus: fc.oneof(
    fc.tuple(numberArb, numberArb),
    fc.tuple(smallIntSet, smallIntSet),
    fc.tuple(valueArb, valueArb),
    fc.tuple(smallIntSet, numberArb),
    fc.tuple(numberArb, valueArb),
  ),
  and: fc.oneof(fc.tuple(smallIntSet, smallIntSet), fc.tuple(valueArb, smallIntSet)),
  or: fc.oneof(fc.tuple(smallIntSet, smallIntSet), fc.tuple(smallIntSet, valueArb)),
  'internal.member_2': collectionAndMember(collectionArb),
  'internal.member_3': collectionArb.chain((c) =>
    fc.oneof(
      fc.tuple(fc.integer({ min: -1, max: 5 }), valueArb, fc.constant(c)),
      fc.tuple(keyArb, fc.integer({ min: 0, max: 3 }), fc.constant(c)),
      collectionAndMember(fc.constant(c)).map(([, m]) => [m, m, c]),
    ),
  ),
  'numbers.range': fc.tuple(smallInt, smallInt),
  'numbers.range_step': fc.tuple(smallInt, smallInt, smallInt),
  to_number: fc.tuple(
    fc.oneof({ weight: 4, arbitrary: numberText }, { weight: 1, arbitrary: valueArb }),
  ),
  sum: fc.tuple(
    fc.oneof(
      fc.array(numberArb, { maxLength: 4 }),
      fc.array(intArb).map((xs) => new SetValue(xs)),
      valueArb,
    ),
  ),
  product: fc.tuple(
    fc.oneof(
      fc.array(numberArb, { maxLength: 4 }),
      fc.array(intArb).map((xs) => new SetValue(xs)),
      valueArb,
    ),
  ),
  'object.get': nestedObject.chain((o) =>
    fc.tuple(
      fc.constant(o),
      fc.oneof(
        keyArb,
        fc.array(fc.oneof(keyArb, fc.integer({ min: 0, max: 3 })), { maxLength: 3 }),
      ),
      valueArb,
    ),
  ),
  'object.remove': fc.tuple(
    nestedObject,
    fc.oneof(
      fc.array(keyArb, { maxLength: 3 }),
      fc.array(keyArb, { maxLength: 3 }).map((xs) => new SetValue(xs)),
      nestedObject,
      valueArb,
    ),
  ),
  'object.filter': fc.tuple(
    nestedObject,
    fc.oneof(
      fc.array(keyArb, { maxLength: 3 }),
      fc.array(keyArb, { maxLength: 3 }).map((xs) => new SetValue(xs)),
      nestedObject,
      valueArb,
    ),
  ),
  'object.union': fc.tuple(
    nestedObject,
    fc.oneof({ weight: 5, arbitrary: nestedObject }, { weight: 1, arbitrary: valueArb }),
  ),
  'object.union_n': fc.tuple(
    fc.array(fc.oneof({ weight: 6, arbitrary: nestedObject }, { weight: 1, arbitrary: valueArb }), {
      maxLength: 4,
    }),
  ),
  'object.subset': fc.oneof(
    nestedObject.chain((o) =>
      fc.tuple(
        fc.constant(o),
        fc.subarray([...(o as ObjectValue).sortedEntries()]).map((es) => new ObjectValue(es)),
      ),
    ),
    fc.tuple(nestedObject, nestedObject),
    fc.tuple(smallIntSet, smallIntSet),
    fc.tuple(
      fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 5 }),
      fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
    ),
    fc.tuple(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 5 }), smallIntSet),
    fc.tuple(valueArb, valueArb),
  ),
  'array.slice': fc.tuple(fc.array(fc.integer(), { maxLength: 6 }), smallInt, smallInt),
  intersection: fc.tuple(
    fc.oneof(
      fc.array(smallIntSet, { maxLength: 4 }).map((xs) => new SetValue(xs)),
      fc.array(fc.oneof(smallIntSet, valueArb), { maxLength: 3 }).map((xs) => new SetValue(xs)),
      valueArb,
    ),
  ),
  union: fc.tuple(
    fc.oneof(
      fc.array(smallIntSet, { maxLength: 4 }).map((xs) => new SetValue(xs)),
      fc.array(fc.oneof(smallIntSet, valueArb), { maxLength: 3 }).map((xs) => new SetValue(xs)),
      valueArb,
    ),
  ),
  set_diff: fc.oneof(fc.tuple(smallIntSet, smallIntSet), fc.tuple(valueArb, valueArb)),
  concat: fc.tuple(
    fc.oneof({ weight: 6, arbitrary: textArb }, { weight: 1, arbitrary: valueArb }),
    fc.oneof(
      fc.array(textArb, { maxLength: 4 }),
      fc.array(textArb, { maxLength: 4 }).map((xs) => new SetValue(xs)),
      fc.array(fc.oneof(textArb, valueArb), { maxLength: 3 }),
      valueArb,
    ),
  ),
  contains: textAndPart,
  startswith: textAndPart,
  endswith: textAndPart,
  split: textAndPart,
  indexof: textAndPart,
  trim: textAndPart,
  trim_left: textAndPart,
  trim_right: textAndPart,
  trim_prefix: textAndPart,
  trim_suffix: textAndPart,
  substring: fc.tuple(textArb, smallInt, smallInt),
  'strings.replace_n': fc.tuple(
    fc.oneof(
      { weight: 6, arbitrary: patternsArb },
      {
        weight: 1,
        arbitrary: fc
          .tuple(patternsArb, keyArb, valueArb)
          .map(([o, k, v]) => new ObjectValue([...o, [k, v]])),
      },
      { weight: 1, arbitrary: valueArb },
    ),
    fc.oneof({ weight: 6, arbitrary: smallText }, { weight: 1, arbitrary: valueArb }),
  ),
  'strings.any_prefix_match': fc.tuple(affixesArb, affixesArb),
  'strings.any_suffix_match': fc.tuple(affixesArb, affixesArb),
  'graph.reachable': fc.tuple(graphArb, nodesArb),
  'graph.reachable_paths': fc.tuple(graphArb, nodesArb),
};

/** Every builtin the runtime implements natively. */
const NATIVE = [
  'equal',
  'neq',
  'lt',
  'lte',
  'gt',
  'gte',
  'plus',
  'minus',
  'mul',
  'div',
  'rem',
  'and',
  'or',
  'internal.member_2',
  'internal.member_3',
  'abs',
  'round',
  'ceil',
  'floor',
  'numbers.range',
  'numbers.range_step',
  'to_number',
  'count',
  'sum',
  'product',
  'max',
  'min',
  'sort',
  'all',
  'any',
  'object.get',
  'object.remove',
  'object.filter',
  'object.union',
  'object.union_n',
  'object.keys',
  'object.subset',
  'array.concat',
  'array.slice',
  'array.reverse',
  'array.flatten',
  'intersection',
  'union',
  'set_diff',
  'concat',
  'contains',
  'startswith',
  'endswith',
  'lower',
  'upper',
  'split',
  'trim',
  'trim_left',
  'trim_right',
  'trim_prefix',
  'trim_suffix',
  'trim_space',
  'indexof',
  'substring',
  'is_number',
  'is_string',
  'is_boolean',
  'is_array',
  'is_set',
  'is_object',
  'is_null',
  'type_name',
  'graph.reachable',
  'graph.reachable_paths',
  'strings.replace_n',
  'strings.any_prefix_match',
  'strings.any_suffix_match',
  'cast_array',
  'cast_set',
  'cast_string',
  'cast_boolean',
  'cast_null',
  'cast_object',
];

describe('native builtins', () => {
  it('are exactly the builtins listed here, each with the catalogue’s arity', () => {
    const exported = rt
      .exportNames()
      .filter((n) => n.startsWith('vd_builtin_') && n !== 'vd_builtin_walk')
      .sort();
    expect(exported).toEqual(NATIVE.map((n) => `vd_builtin_${n.replace(/\./g, '_')}`).sort());
    for (const name of NATIVE) {
      expect(rt.builtin(name)?.length).toBe(lookupBuiltin(name)?.args.length);
    }
  });

  it.each(NATIVE)('%s agrees with the interpreter', (name) => {
    const args = ARGS[name] ?? typedArgs(name);
    fc.assert(
      fc.property(args, (xs) => {
        agree(name, xs);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it.each([
    ['plus', [1, 'x'], 'plus: operand 2 must be number but got string'],
    ['div', [1, 0], 'div: divide by zero'],
    ['rem', [1.5, 1], 'rem: modulo on floating-point number'],
    ['rem', [1, 0], 'rem: modulo by zero'],
    ['count', [1], 'count: operand 1 must be one of {array, object, set, string} but got number'],
    ['minus', [new SetValue([1]), 1], 'minus: operand 2 must be set but got number'],
    [
      'substring',
      ['abc', 1.5, 1],
      'substring: operand 2 must be integer number but got floating-point number',
    ],
    ['indexof', ['abc', ''], 'indexof: empty search character'],
    ['to_number', ['1x'], 'to_number: strconv.ParseFloat: parsing "1x": invalid syntax'],
    [
      'numbers.range',
      [0, 2_000_000],
      'numbers.range: range of 2000001 numbers exceeds the limit of 1000000',
    ],
  ] as [string, Value[], string][])('%s%j fails as OPA words it: %s', (name, args, message) => {
    agree(name, args);
    expect(rt.error().message).toBe(message);
  });

  it('keeps big and exact numbers exact through arithmetic', () => {
    agree('plus', [2n ** 63n - 1n, 1]);
    agree('mul', [10n ** 20n, 10n ** 20n]);
    agree('minus', [-(2n ** 63n), 1]);
    agree('div', [10n ** 30n, 10n ** 10n]);
    agree('div', [10n ** 30n + 1n, 10n ** 10n]);
    agree('rem', [10n ** 30n + 7n, 10n ** 10n]);
    agree('rem', [-(2n ** 63n), -1]);
    agree('div', [-(2n ** 63n), -1]);
    agree('abs', [-(2n ** 63n)]);
    agree('mul', [1e300, 1e300]);
    agree('plus', [0.1, 0.2]);
    agree('numbers.range', [2n ** 63n - 2n, 2n ** 63n + 1n]);
  });
});

/** Every code point but the surrogates, in strings of `size` code points. */
function* allCodePoints(size: number): Generator<number[]> {
  let chunk: number[] = [];
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    chunk.push(cp);
    if (chunk.length === size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

describe('case mapping', () => {
  it.each(['lower', 'upper'])('%s maps every code point as the interpreter does', (name) => {
    const mismatches: string[] = [];
    for (const cps of allCodePoints(8192)) {
      rt.exports.opa_heap_ptr_set(base);
      const text = String.fromCodePoint(...cps);
      const want = interpreted(name, [text]);
      const got = rt.fromWasm(native(name, [text]));
      if (want.kind !== 'value' || got === want.value) continue;
      // Find the code points that differ (strings map code point by code point).
      for (const cp of cps) {
        rt.exports.opa_heap_ptr_set(base);
        const one = String.fromCodePoint(cp);
        const w = interpreted(name, [one]);
        const g = rt.fromWasm(native(name, [one]));
        if (w.kind === 'value' && g !== w.value) mismatches.push(`U+${cp.toString(16)}`);
      }
    }
    expect(mismatches).toEqual([]);
  });
});

describe('walk', () => {
  it('lists every [path, value] pair depth first, the value itself first', () => {
    const walk = rt.builtin('walk');
    if (walk === undefined) throw new Error('vd_builtin_walk is not exported');
    fc.assert(
      fc.property(valueArb, (v) => {
        rt.exports.opa_heap_ptr_set(base);
        const got = walk(rt.toWasm(v));
        const want = [...walkValue(v)];
        expect(shape(rt.fromWasm(got))).toBe(shape(want));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});
