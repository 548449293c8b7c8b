/**
 * Every registered builtin, fed random values (mostly of its declared argument types, some of
 * any type): it must answer a value, answer undefined, or throw a BuiltinError — never another
 * exception, never a non-finite number — and finish quickly. The run is fixed by SEED; a
 * failure report names the seed and the counterexample.
 */
import fc from 'fast-check';
import { BUILTINS } from '../../../../../policies/rego/builtins';
import {
  BuiltinError,
  type BuiltinContext,
  type TypeSpec,
} from '../../../../../policies/rego/builtins/types';
import { ObjectValue, SetValue, type Value } from '../../../../../policies/ir/value';
import { valueToRego } from '../../../../../policies/ir/value-text';

const SEED = 20_240_611;
const RUNS_PER_BUILTIN = 120;

/** Strings that reach past the first checks of many builtins. */
const INTERESTING_STRINGS = [
  '',
  'a',
  'abc',
  'é😀',
  '10.0.0.0/8',
  '192.168.1.1',
  '2001:db8::/120',
  '1.2.3',
  '1.2.3-alpha.1+b',
  '2006-01-02T15:04:05Z07:00',
  '2017-06-02T19:00:00-07:00',
  '15:04',
  '100ms',
  '1h2m3.5s',
  '10Ki',
  '1.5GiB',
  '%v %d %s %.2f %x %q',
  '%*d %[2]s %!',
  '^a+$',
  '(a)|b',
  '[[',
  '{a,b}*.c',
  '[!a-c]?',
  '{"a": [1, 2.5]}',
  '[1, {"b": null}]',
  'a: [1, 2]',
  'aGVsbG8=',
  'a%20b+c',
  'a=1&b=2&a=3',
  '6869',
  '00000000-0000-4000-8000-000000000000',
  'eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfQ.sig',
  'America/New_York',
  'RFC3339',
  '/a/0',
  '~0~1',
];

const scalar: fc.Arbitrary<Value> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -1000, max: 1000 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc
    .bigInt({ min: -(2n ** 80n), max: 2n ** 80n })
    .map((b) =>
      b >= -BigInt(Number.MAX_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b,
    ),
  fc.constantFrom(...INTERESTING_STRINGS),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
);

const { value: anyValue } = fc.letrec<{ value: Value }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.array(tie('value'), { maxLength: 4 }).map((xs) => new SetValue(xs)),
    fc
      .array(fc.tuple(fc.oneof(fc.string({ maxLength: 6 }), scalar), tie('value')), {
        maxLength: 4,
      })
      .map((entries) => new ObjectValue(entries)),
  ),
}));

/** Values of a declared type (with a few of any type mixed in to reach type errors). */
function valueFor(spec: TypeSpec): fc.Arbitrary<Value> {
  const typed = ((): fc.Arbitrary<Value> => {
    switch (spec.kind) {
      case 'any':
        return anyValue;
      case 'null':
        return fc.constant(null);
      case 'boolean':
        return fc.boolean();
      case 'number':
        return fc.oneof(
          fc.integer({ min: -100, max: 100 }),
          scalar.filter((v) => typeof v === 'number' || typeof v === 'bigint'),
        );
      case 'string':
        return fc.oneof(fc.constantFrom(...INTERESTING_STRINGS), fc.string({ maxLength: 16 }));
      case 'array':
        return fc.array(valueFor(spec.of), { maxLength: 4 });
      case 'set':
        return fc.array(valueFor(spec.of), { maxLength: 4 }).map((xs) => new SetValue(xs));
      case 'object':
        return fc
          .array(fc.tuple(valueFor(spec.key), valueFor(spec.value)), { maxLength: 4 })
          .map((entries) => new ObjectValue(entries));
      case 'anyOf':
        return fc.oneof(...spec.of.map(valueFor));
    }
  })();
  return fc.oneof({ weight: 4, arbitrary: typed }, { weight: 1, arbitrary: anyValue });
}

function isWellFormed(v: Value): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return (v as readonly Value[]).every(isWellFormed);
  if (v instanceof SetValue) return v.sorted().every(isWellFormed);
  if (v instanceof ObjectValue)
    return v.sortedEntries().every(([k, x]) => isWellFormed(k) && isWellFormed(x));
  return true;
}

describe('every builtin survives arbitrary arguments', () => {
  const names = [...BUILTINS.keys()].sort();

  it('has a catalogue to test', () => {
    expect(names.length).toBeGreaterThan(150);
  });

  it.each(names)('%s answers a value, undefined or a BuiltinError', (name) => {
    const def = BUILTINS.get(name);
    if (def === undefined) throw new Error(`no builtin ${name}`);
    const argArbs = def.args.map(valueFor);
    fc.assert(
      fc.property(fc.tuple(...argArbs), (args: Value[]) => {
        const ctx: BuiltinContext = { nowNs: 1_700_000_000_000_000_000n, memo: new Map() };
        try {
          if (def.relation) {
            let n = 0;
            for (const out of def.relation(args, ctx)) {
              expect(isWellFormed(out)).toBe(true);
              if (++n > 1000) break;
            }
          } else {
            const out = def.impl(args, ctx);
            if (out !== undefined) expect(isWellFormed(out)).toBe(true);
          }
        } catch (e) {
          if (!(e instanceof BuiltinError)) {
            throw new Error(
              `${name}(${args.map(valueToRego).join(', ')}) threw ${String(e)} (seed ${SEED})`,
            );
          }
          expect(e.message.startsWith(`${name}: `)).toBe(true);
        }
      }),
      { seed: SEED, numRuns: RUNS_PER_BUILTIN },
    );
  });
});
