/**
 * rand.intn: a random integer in [0, n), the same for the same key and n within one query.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { normalizeNumber } from '../../ir/value';
import { intArg, stringArg } from './args';
import { builtin, T } from './spec';
import type { BuiltinDef } from './types';

/** A uniform random integer in [0, n) for any positive n. */
function randomBelow(n: number): number {
  if (n <= 2 ** 48) return randomInt(n);
  const limit = BigInt(n);
  // Rejection sampling over 64 random bits keeps the result uniform.
  const span = 2n ** 64n;
  const cutoff = span - (span % limit);
  for (;;) {
    const x = randomBytes(8).readBigUInt64BE();
    if (x < cutoff) return Number(normalizeNumber(x % limit));
  }
}

const intn = builtin(
  'rand.intn',
  [T.string, T.number],
  T.number,
  (args, ctx) => {
    const seed = stringArg('rand.intn', args, 1);
    let n = intArg('rand.intn', args, 2);
    if (n === 0) return 0;
    n = Math.abs(n);
    const key = `rand.intn:${JSON.stringify([seed, n])}`;
    const hit = ctx.memo.get(key);
    if (hit !== undefined) return hit;
    const value = randomBelow(n);
    ctx.memo.set(key, value);
    return value;
  },
  { nondeterministic: true },
);

export const RAND_BUILTINS: readonly BuiltinDef[] = [intn];
