/**
 * Rego arithmetic on the value model's numbers: integers stay exact (bigint once they leave
 * the safe range, normalized back afterwards), anything else is a double.
 */
import { isInteger, normalizeNumber, type RegoNumber } from '../../ir/value';
import { BuiltinError } from './types';

type IntOp = (x: bigint, y: bigint) => bigint;
type FloatOp = (x: number, y: number) => number;

/** A double result, refused when it is not a finite number (Rego has no NaN or Infinity). */
export function finite(name: string, x: number): RegoNumber {
  if (!Number.isFinite(x)) throw new BuiltinError(name, 'numeric result out of range');
  return normalizeNumber(x);
}

function exactOrFloat(
  name: string,
  a: RegoNumber,
  b: RegoNumber,
  int: IntOp,
  float: FloatOp,
): RegoNumber {
  if (
    typeof a === 'number' &&
    typeof b === 'number' &&
    Number.isInteger(a) &&
    Number.isInteger(b)
  ) {
    const r = float(a, b);
    if (Number.isSafeInteger(r) && Number.isSafeInteger(a) && Number.isSafeInteger(b)) {
      return normalizeNumber(r);
    }
  }
  if (isInteger(a) && isInteger(b)) return normalizeNumber(int(BigInt(a), BigInt(b)));
  return finite(name, float(Number(a), Number(b)));
}

/**
 * `a + b`: exact for integers of any size, else a float; BuiltinError when the result is
 * not finite.
 */
export function add(name: string, a: RegoNumber, b: RegoNumber): RegoNumber {
  return exactOrFloat(
    name,
    a,
    b,
    (x, y) => x + y,
    (x, y) => x + y,
  );
}

/**
 * `a - b`: exact for integers of any size, else a float; BuiltinError when the result is
 * not finite.
 */
export function subtract(name: string, a: RegoNumber, b: RegoNumber): RegoNumber {
  return exactOrFloat(
    name,
    a,
    b,
    (x, y) => x - y,
    (x, y) => x - y,
  );
}

/**
 * `a * b`: exact for integers of any size, else a float; BuiltinError when the result is
 * not finite.
 */
export function multiply(name: string, a: RegoNumber, b: RegoNumber): RegoNumber {
  return exactOrFloat(
    name,
    a,
    b,
    (x, y) => x * y,
    (x, y) => x * y,
  );
}

function isZero(n: RegoNumber): boolean {
  return typeof n === 'bigint' ? n === 0n : n === 0;
}

/** Integer division when the divisor divides the dividend exactly, else a float quotient. */
export function divide(name: string, a: RegoNumber, b: RegoNumber): RegoNumber {
  if (isZero(b)) throw new BuiltinError(name, 'divide by zero');
  if (isInteger(a) && isInteger(b)) {
    const x = BigInt(a);
    const y = BigInt(b);
    if (x % y === 0n) return normalizeNumber(x / y);
  }
  return finite(name, Number(a) / Number(b));
}

/** Remainder with the dividend's sign; integers only. */
export function remainder(name: string, a: RegoNumber, b: RegoNumber): RegoNumber {
  if (!isInteger(a) || !isInteger(b)) {
    throw new BuiltinError(name, 'modulo on floating-point number');
  }
  if (isZero(b)) throw new BuiltinError(name, 'modulo by zero');
  if (typeof a === 'number' && typeof b === 'number') return normalizeNumber(a % b);
  return normalizeNumber(BigInt(a) % BigInt(b));
}

/** The absolute value, exact for big integers. */
export function absolute(n: RegoNumber): RegoNumber {
  if (typeof n === 'bigint') return normalizeNumber(n < 0n ? -n : n);
  return normalizeNumber(Math.abs(n));
}

/** Rounds half away from zero. */
export function roundHalfAway(n: RegoNumber): RegoNumber {
  if (isInteger(n)) return n;
  const x = n as number;
  const whole = Math.trunc(x);
  const frac = x - whole; // exact for doubles
  return normalizeNumber(Math.abs(frac) >= 0.5 ? whole + Math.sign(x) : whole);
}

/** The smallest integer not below `n` (`ceil`); integers come back as they are. */
export function ceiling(n: RegoNumber): RegoNumber {
  return isInteger(n) ? n : normalizeNumber(Math.ceil(n as number));
}

/** The largest integer not above `n` (`floor`); integers come back as they are. */
export function flooring(n: RegoNumber): RegoNumber {
  return isInteger(n) ? n : normalizeNumber(Math.floor(n as number));
}

/** The exact integer value of n, or undefined when n has a fractional part. */
export function exactInteger(n: RegoNumber): bigint | undefined {
  return isInteger(n) ? BigInt(n) : undefined;
}
