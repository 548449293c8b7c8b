/**
 * Numeric builtins: abs, round, ceil, floor, numbers.range(_step), bits.*, to_number and
 * format_int.
 */
import {
  isInteger,
  normalizeNumber,
  parseNumber,
  type RegoNumber,
  type Value,
} from '../../ir/value';
import { goQuote } from '../../ir/value-text';
import { bigIntArg, intArg, numberArg, operand, operandError, typeError } from './args';
import { absolute, ceiling, flooring, roundHalfAway } from './numeric';
import { builtin, T } from './spec';
import { BuiltinError, type BuiltinDef } from './types';

function unary(name: string, op: (n: RegoNumber) => RegoNumber): BuiltinDef {
  return builtin(name, [T.number], T.number, (args) => op(numberArg(name, args, 1)));
}

/** The most numbers `numbers.range` produces; a bigger range is an error, not a hang. */
export const MAX_RANGE_LENGTH = 1_000_000;

function range(name: string, from: bigint, to: bigint, step: bigint): Value[] {
  const span = from <= to ? to - from : from - to;
  const count = span / step + 1n;
  if (count > BigInt(MAX_RANGE_LENGTH)) {
    throw new BuiltinError(
      name,
      `range of ${count} numbers exceeds the limit of ${MAX_RANGE_LENGTH}`,
    );
  }
  const out: Value[] = [];
  const delta = from <= to ? step : -step;
  for (let i = 0n, x = from; i < count; i++, x += delta) out.push(normalizeNumber(x));
  return out;
}

const numbersRange = builtin('numbers.range', [T.number, T.number], T.array(T.number), (args) =>
  range(
    'numbers.range',
    bigIntArg('numbers.range', args, 1),
    bigIntArg('numbers.range', args, 2),
    1n,
  ),
);

const numbersRangeStep = builtin(
  'numbers.range_step',
  [T.number, T.number, T.number],
  T.array(T.number),
  (args) => {
    const name = 'numbers.range_step';
    const from = bigIntArg(name, args, 1);
    const to = bigIntArg(name, args, 2);
    const step = bigIntArg(name, args, 3);
    if (step <= 0n) throw new BuiltinError(name, 'step must be a positive integer');
    return range(name, from, to, step);
  },
);

// ---------------------------------------------------------------------------------------------
// bits.*

/** Shifts beyond this many bits would build numbers too large to be useful. */
const MAX_SHIFT = 1 << 20;

function bitsBinary(name: string, op: (a: bigint, b: bigint) => bigint): BuiltinDef {
  return builtin(name, [T.number, T.number], T.number, (args) =>
    normalizeNumber(op(bigIntArg(name, args, 1), bigIntArg(name, args, 2))),
  );
}

function shift(name: string, op: (a: bigint, s: bigint) => bigint): BuiltinDef {
  return builtin(name, [T.number, T.number], T.number, (args) => {
    const x = bigIntArg(name, args, 1);
    const s = intArg(name, args, 2);
    if (s < 0)
      operandError(name, 2, 'must be an unsigned integer number but got a negative integer');
    if (s > MAX_SHIFT)
      throw new BuiltinError(name, `shift of ${s} bits exceeds the limit of ${MAX_SHIFT}`);
    return normalizeNumber(op(x, BigInt(s)));
  });
}

// ---------------------------------------------------------------------------------------------
// to_number and format_int

/** Go's ParseFloat syntax: decimal with optional exponent, or a hex float with a p exponent. */
const DECIMAL_FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const HEX_FLOAT = /^([+-]?)0[xX]((?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+))[pP]([+-]?\d+)$/;

/** Parses a number string as Go's strconv.ParseFloat accepts it, keeping integers exact. */
function parseNumberString(s: string): RegoNumber {
  const lower = s.replace(/^[+-]+/, '').toLowerCase();
  if (lower === 'inf' || lower === 'infinity' || lower === 'nan') {
    typeError('to_number', 1, s, 'valid number string');
  }
  const invalid = (): never => {
    throw new BuiltinError(
      'to_number',
      `strconv.ParseFloat: parsing ${goQuote(s)}: invalid syntax`,
    );
  };
  const hexMatch = HEX_FLOAT.exec(s);
  let value: RegoNumber;
  if (hexMatch) {
    const [, sign = '', mantissa = '', exp = '0'] = hexMatch;
    const [whole = '', frac = ''] = mantissa.split('.');
    const digits = whole + frac;
    const x = parseInt(digits || '0', 16) * 2 ** (Number(exp) - 4 * frac.length);
    value = normalizeNumber(sign === '-' ? -x : x);
  } else {
    if (!DECIMAL_FLOAT.test(s)) invalid();
    value = parseNumber(s.startsWith('+') ? s.slice(1) : s);
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new BuiltinError(
      'to_number',
      `strconv.ParseFloat: parsing ${goQuote(s)}: value out of range`,
    );
  }
  if (typeof value === 'bigint' && !Number.isFinite(Number(value))) {
    throw new BuiltinError(
      'to_number',
      `strconv.ParseFloat: parsing ${goQuote(s)}: value out of range`,
    );
  }
  return value;
}

const toNumber = builtin(
  'to_number',
  [T.anyOf(T.null, T.boolean, T.number, T.string)],
  T.number,
  (args) => {
    const v = operand('to_number', args, 1);
    if (v === null) return 0;
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (typeof v === 'number' || typeof v === 'bigint') return v;
    if (typeof v === 'string') return parseNumberString(v);
    typeError('to_number', 1, v, 'null', 'boolean', 'number', 'string');
  },
);

const formatInt = builtin('format_int', [T.number, T.number], T.string, (args) => {
  const n = numberArg('format_int', args, 1);
  const base = numberArg('format_int', args, 2);
  const radix = Number(base);
  if (![2, 8, 10, 16].includes(radix) || !isInteger(base)) {
    operandError('format_int', 2, 'must be one of {2, 8, 10, 16}');
  }
  const whole = typeof n === 'bigint' ? n : BigInt(Math.trunc(n));
  return whole.toString(radix);
});

export const NUMBER_BUILTINS: readonly BuiltinDef[] = [
  unary('abs', absolute),
  unary('round', roundHalfAway),
  unary('ceil', ceiling),
  unary('floor', flooring),
  numbersRange,
  numbersRangeStep,
  bitsBinary('bits.and', (a, b) => a & b),
  bitsBinary('bits.or', (a, b) => a | b),
  bitsBinary('bits.xor', (a, b) => a ^ b),
  builtin('bits.negate', [T.number], T.number, (args) =>
    normalizeNumber(~bigIntArg('bits.negate', args, 1)),
  ),
  shift('bits.lsh', (a, s) => a << s),
  shift('bits.rsh', (a, s) => a >> s),
  toNumber,
  formatInt,
];
