/**
 * units.parse ("10Ki", "500m", "1.5G") and units.parse_bytes ("10KB", "1.5GiB"), computed on
 * exact rationals so "0.0005K" is exactly 0.5.
 */
import { normalizeNumber, parseNumber, type RegoNumber } from '../../ir/value';
import { stringArg } from './args';
import { builtin, T } from './spec';
import { BuiltinError, type BuiltinDef } from './types';

/** OPA refuses exponents with more digits than this. */
const MAX_EXPONENT_DIGITS = 6;
/** Exponents are expanded exactly up to this size; beyond, the number would be enormous. */
const MAX_EXPONENT = 10_000;

const KILO = 1000n;
const KIBI = 1024n;

/** Splits "10.5Ki" into its number ("10.5") and unit ("Ki") as OPA does. */
function splitAmount(s: string): { num: string; unit: string } | 'exponent too large' {
  const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] ?? '';
    if (isDigit(c) || c === '.' || c === '+' || c === '-') continue;
    if (c === 'e' || c === 'E') {
      const next = s[i + 1];
      if (isDigit(next) || next === '+' || next === '-') {
        let j = i + 1;
        if (next === '+' || next === '-') j++;
        const start = j;
        while (isDigit(s[j])) j++;
        if (j - start > MAX_EXPONENT_DIGITS) return 'exponent too large';
        i = next === '+' || next === '-' ? i + 1 : i;
        continue;
      }
    }
    return { num: s.slice(0, i), unit: s.slice(i) };
  }
  return { num: s, unit: '' };
}

interface Rational {
  num: bigint;
  den: bigint;
}

/** A decimal number ("-3.5E2", ".5", "5.") as an exact fraction; undefined when malformed. */
function parseDecimal(text: string): Rational | undefined | 'too large' {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return undefined;
  const [, sign = '', whole = '', frac = '', exp = '0'] = m;
  if (whole === '' && frac === '') return undefined;
  const e = Number(exp) - frac.length;
  if (Math.abs(e) > MAX_EXPONENT) return 'too large';
  let num = BigInt(whole + frac || '0');
  if (sign === '-') num = -num;
  return e >= 0 ? { num: num * 10n ** BigInt(e), den: 1n } : { num, den: 10n ** BigInt(-e) };
}

/** An exact integer, or the fraction rounded to 10 decimals (as OPA prints it). */
function toNumber(r: Rational): RegoNumber {
  if (r.num % r.den === 0n) return normalizeNumber(r.num / r.den);
  const scaled = r.num * 10n ** 10n;
  const neg = scaled < 0n;
  const abs = neg ? -scaled : scaled;
  let q = abs / r.den;
  if ((abs % r.den) * 2n >= r.den) q++; // halves round away from zero
  const digits = q.toString().padStart(11, '0');
  const text = `${neg ? '-' : ''}${digits.slice(0, -10)}.${digits.slice(-10)}`;
  const n = parseNumber(text);
  if (typeof n === 'number' && !Number.isFinite(n)) {
    throw new BuiltinError('units.parse', 'amount out of range');
  }
  return n;
}

function parseAmount(
  name: string,
  raw: string,
  lowercase: boolean,
  noun: string,
  multiplier: (unit: string) => Rational | undefined,
  exact: boolean,
): RegoNumber {
  let s = raw.replace(/"/g, '');
  if (lowercase) s = s.toLowerCase();
  if (s.includes(' ')) throw new BuiltinError(name, 'spaces not allowed in resource strings');
  const split = splitAmount(s);
  if (split === 'exponent too large') throw new BuiltinError(name, 'exponent too large');
  if (split.num === '') throw new BuiltinError(name, `no ${noun} provided`);
  const unit =
    lowercase || split.unit.length <= 1
      ? split.unit
      : split.unit.slice(0, 1) + split.unit.slice(1).toLowerCase();
  const factor = multiplier(unit);
  if (factor === undefined) {
    throw new BuiltinError(name, `${lowercase ? 'byte unit' : 'unit'} ${unit} not recognized`);
  }
  const amount = parseDecimal(split.num);
  if (amount === 'too large') throw new BuiltinError(name, 'exponent too large');
  if (amount === undefined) throw new BuiltinError(name, `could not parse ${noun} to a number`);
  const product = { num: amount.num * factor.num, den: amount.den * factor.den };
  if (exact) return toNumber(product);
  return normalizeNumber(product.num / product.den); // truncated toward zero
}

const DECIMAL_UNITS = ['', 'k', 'm', 'g', 't', 'p', 'e'];

function power(base: bigint, n: number): Rational {
  return { num: base ** BigInt(n), den: 1n };
}

/** units.parse: case matters only for m (milli) vs M (mega); "i" marks binary units. */
function unitsMultiplier(unit: string): Rational | undefined {
  if (unit === 'm') return { num: 1n, den: 1000n };
  if (unit === 'M') return power(KILO, 2);
  const lower = unit.toLowerCase();
  const binary = lower.length === 2 && lower.endsWith('i');
  const prefix = binary ? (lower[0] ?? '') : lower;
  const n = DECIMAL_UNITS.indexOf(prefix);
  if (n < 0 || (n === 0 && binary)) return undefined;
  return power(binary ? KIBI : KILO, n);
}

/** units.parse_bytes: "kb"/"k" decimal, "kib"/"ki" binary, all lowercase. */
function bytesMultiplier(unit: string): Rational | undefined {
  const m = /^([kmgtpe]?)(i?)(b?)$/.exec(unit);
  if (!m) return undefined;
  const [, prefix = '', i = '', b = ''] = m;
  if (prefix === '' && (i !== '' || b !== '')) return undefined;
  return power(i === '' ? KILO : KIBI, DECIMAL_UNITS.indexOf(prefix));
}

export const UNITS_BUILTINS: readonly BuiltinDef[] = [
  builtin('units.parse', [T.string], T.number, (args) =>
    parseAmount(
      'units.parse',
      stringArg('units.parse', args, 1),
      false,
      'amount',
      unitsMultiplier,
      true,
    ),
  ),
  builtin('units.parse_bytes', [T.string], T.number, (args) =>
    parseAmount(
      'units.parse_bytes',
      stringArg('units.parse_bytes', args, 1),
      true,
      'byte amount',
      bytesMultiplier,
      false,
    ),
  ),
];
