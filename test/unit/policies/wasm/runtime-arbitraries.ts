/**
 * fast-check arbitraries for Rego values (policies/ir/value.ts), shared by the runtime tests.
 */
import fc from 'fast-check';

import { normalizeNumber, ObjectValue, SetValue, type Value } from '../../../../policies/ir/value';

/** Property tests run at a fixed seed; fast-check prints it with the shrunk input on failure. */
export const SEED = 20251127;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export const stringArb = fc
  .oneof(
    fc.string({ maxLength: 6 }),
    fc.string({ unit: 'grapheme', maxLength: 4 }),
    fc.string({ unit: 'binary', maxLength: 3 }),
    fc.constantFrom('', 'a', 'ab', 'b', 'é', '😀', '"\\\n\t\u0001', 'z'),
  )
  .filter((s) => !LONE_SURROGATE.test(s));

export const intArb: fc.Arbitrary<number | bigint> = fc.oneof(
  fc.integer({ min: -20, max: 20 }),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(normalizeNumber),
  fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(normalizeNumber),
  fc.constantFrom(2n ** 63n - 1n, -(2n ** 63n), 2n ** 63n, -(2n ** 63n) - 1n, 2n ** 64n, 0),
);

/** Non-integral doubles (integral ones are integers in the value model). */
export const fractionArb: fc.Arbitrary<number> = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Number.isInteger(x)),
  fc.constantFrom(0.5, -0.5, 1.5, 2.5, 0.1, 1e-7, 123.456, -2.75, 5e-324),
);

export const numberArb: fc.Arbitrary<number | bigint> = fc.oneof(intArb, fractionArb);

export const scalarArb: fc.Arbitrary<Value> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  numberArb,
  stringArb,
);

export const { value: valueArb } = fc.letrec<{
  value: Value;
  array: Value;
  set: Value;
  object: Value;
}>((tie) => ({
  value: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'value' },
    scalarArb,
    tie('array'),
    tie('set'),
    tie('object'),
  ),
  array: fc.array(tie('value'), { maxLength: 4 }),
  set: fc.array(tie('value'), { maxLength: 4 }).map((xs) => new SetValue(xs)),
  object: fc
    .array(
      fc.tuple(
        fc.oneof({ weight: 3, arbitrary: stringArb }, { weight: 1, arbitrary: tie('value') }),
        tie('value'),
      ),
      { maxLength: 4 },
    )
    .map((es) => new ObjectValue(es)),
}));

/** JSON data: no sets, string keys only. */
export const { json: jsonArb } = fc.letrec<{ json: Value }>((tie) => ({
  json: fc.oneof(
    { maxDepth: 4, depthIdentifier: 'json' },
    scalarArb,
    fc.array(tie('json'), { maxLength: 5 }),
    fc.array(fc.tuple(stringArb, tie('json')), { maxLength: 5 }).map((es) => new ObjectValue(es)),
  ),
}));
