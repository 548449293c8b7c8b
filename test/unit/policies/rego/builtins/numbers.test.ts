import { MAX_RANGE_LENGTH } from '../../../../../policies/rego/builtins/numbers';
import { failure, show } from './call';

describe('abs, round, ceil, floor', () => {
  it('keep integers exact and round halves away from zero', () => {
    expect(show('abs', -5)).toBe('5');
    expect(show('abs', -9223372036854775808n)).toBe('9223372036854775808');
    expect(show('abs', -2.5)).toBe('2.5');
    expect(show('round', 2.5)).toBe('3');
    expect(show('round', -2.5)).toBe('-3');
    expect(show('round', 2.4)).toBe('2');
    expect(show('round', 0.49999999999999994)).toBe('0');
    expect(show('ceil', 1.01)).toBe('2');
    expect(show('ceil', -1.5)).toBe('-1');
    expect(show('floor', -1.001)).toBe('-2');
    expect(show('floor', 99.99999)).toBe('99');
    expect(show('floor', 2n ** 70n)).toBe('1180591620717411303424');
  });

  it('want numbers', () => {
    expect(failure('abs', 'x')).toBe('type: abs: operand 1 must be number but got string');
  });
});

describe('numbers.range and numbers.range_step', () => {
  it('count up or down, both ends included', () => {
    expect(show('numbers.range', 0, 0)).toBe('[0]');
    expect(show('numbers.range', -2, 3)).toBe('[-2, -1, 0, 1, 2, 3]');
    expect(show('numbers.range', 2, -1)).toBe('[2, 1, 0, -1]');
    expect(show('numbers.range_step', 0, 10, 4)).toBe('[0, 4, 8]');
    expect(show('numbers.range_step', 10, 3, 2)).toBe('[10, 8, 6, 4]');
    expect(show('numbers.range_step', 0, 10, 99999999999999999999n)).toBe('[0]');
  });

  it('reject non-integers, non-positive steps and ranges too long to build', () => {
    expect(failure('numbers.range', 1.5, 3)).toBe(
      'type: numbers.range: operand 1 must be integer number but got floating-point number',
    );
    expect(failure('numbers.range', 'a', 3)).toBe(
      'type: numbers.range: operand 1 must be integer but got string',
    );
    expect(failure('numbers.range_step', 0, 10, -2)).toBe(
      'builtin: numbers.range_step: step must be a positive integer',
    );
    expect(failure('numbers.range', 0, MAX_RANGE_LENGTH)).toBe(
      `builtin: numbers.range: range of ${MAX_RANGE_LENGTH + 1} numbers exceeds the limit of ${MAX_RANGE_LENGTH}`,
    );
  });
});

describe('bits.*', () => {
  it('operate on integers of any size', () => {
    expect(show('bits.and', 50, 0)).toBe('0');
    expect(show('bits.or', 5, 2)).toBe('7');
    expect(show('bits.xor', 42, 3)).toBe('41');
    expect(show('bits.negate', 42)).toBe('-43');
    expect(show('bits.lsh', 9223372036854775807n, 1)).toBe('18446744073709551614');
    expect(show('bits.rsh', 8, 3)).toBe('1');
    expect(show('bits.rsh', -8, 1)).toBe('-4');
  });

  it('reject floats and negative shifts', () => {
    expect(failure('bits.and', 7.2, 42)).toBe(
      'type: bits.and: operand 1 must be integer number but got floating-point number',
    );
    expect(failure('bits.lsh', 1, -1)).toBe(
      'type: bits.lsh: operand 2 must be an unsigned integer number but got a negative integer',
    );
  });
});

describe('to_number', () => {
  it('converts null, booleans, numbers and number strings', () => {
    expect(show('to_number', null)).toBe('0');
    expect(show('to_number', true)).toBe('1');
    expect(show('to_number', false)).toBe('0');
    expect(show('to_number', 2.5)).toBe('2.5');
    expect(show('to_number', '3')).toBe('3');
    expect(show('to_number', '-1.5e3')).toBe('-1500');
    expect(show('to_number', '+.5')).toBe('0.5');
    expect(show('to_number', '123456789012345678901234567890')).toBe(
      '123456789012345678901234567890',
    );
    expect(show('to_number', '0x1p-2')).toBe('0.25');
  });

  it('rejects what Go cannot parse, and infinities and NaN as type errors', () => {
    expect(failure('to_number', 'broken')).toBe(
      'builtin: to_number: strconv.ParseFloat: parsing "broken": invalid syntax',
    );
    expect(failure('to_number', ' 1')).toBe(
      'builtin: to_number: strconv.ParseFloat: parsing " 1": invalid syntax',
    );
    expect(failure('to_number', '1e400')).toBe(
      'builtin: to_number: strconv.ParseFloat: parsing "1e400": value out of range',
    );
    for (const s of ['nan', '-NaN', 'inf', 'iNf', '-Infinity']) {
      expect(failure('to_number', s)).toBe(
        'type: to_number: operand 1 must be valid number string but got string',
      );
    }
    expect(failure('to_number', [1])).toBe(
      'type: to_number: operand 1 must be one of {null, boolean, number, string} but got array',
    );
  });
});

describe('format_int', () => {
  it('truncates toward zero and writes in base 2, 8, 10 or 16', () => {
    expect(show('format_int', 15.5, 16)).toBe('"f"');
    expect(show('format_int', -15.5, 16)).toBe('"-f"');
    expect(show('format_int', 5, 2)).toBe('"101"');
    expect(show('format_int', 8, 8)).toBe('"10"');
    expect(show('format_int', 2n ** 64n, 10)).toBe('"18446744073709551616"');
    expect(failure('format_int', 1, 3)).toBe(
      'type: format_int: operand 2 must be one of {2, 8, 10, 16}',
    );
  });
});
