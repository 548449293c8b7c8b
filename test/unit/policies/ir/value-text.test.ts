import { parseJSONValue } from '../../../../policies/ir/json';
import { ObjectValue, SetValue } from '../../../../policies/ir/value';
import { goQuote, goSprintf, numberToText, valueToRego } from '../../../../policies/ir/value-text';

describe('valueToRego', () => {
  it('prints values as Rego writes them', () => {
    expect(valueToRego(null)).toBe('null');
    expect(valueToRego(true)).toBe('true');
    expect(valueToRego(2.5)).toBe('2.5');
    expect(valueToRego(2n ** 70n)).toBe('1180591620717411303424');
    expect(valueToRego('a"b')).toBe('"a\\"b"');
    expect(valueToRego(['x', 1])).toBe('["x", 1]');
    expect(valueToRego(new SetValue())).toBe('set()');
    expect(valueToRego(new SetValue([2, 1, 'a']))).toBe('{1, 2, "a"}');
    expect(valueToRego(parseJSONValue('{"b": {"c": []}, "a": 1}'))).toBe(
      '{"a": 1, "b": {"c": []}}',
    );
    expect(valueToRego(new ObjectValue([[[1], new SetValue([true])]]))).toBe('{[1]: {true}}');
  });

  it('writes integral numbers in full', () => {
    expect(numberToText(1e21)).toBe('1000000000000000000000');
    expect(numberToText(-0)).toBe('0');
    expect(numberToText(0.1)).toBe('0.1');
  });
});

describe('goQuote', () => {
  it('escapes as strconv.Quote does', () => {
    expect(goQuote('plain é 😀')).toBe('"plain é 😀"');
    expect(goQuote('\u0001\u007f\n\t\\"')).toBe('"\\x01\\x7f\\n\\t\\\\\\""');
    expect(goQuote('\u2028\ufeff')).toBe('"\\u2028\\ufeff"');
    expect(goQuote('\u{e0001}')).toBe('"\\U000e0001"');
    expect(goQuote('\ud800')).toBe('"\ufffd"');
    expect(goQuote('é', true)).toBe('"\\u00e9"');
  });
});

describe('goSprintf', () => {
  const f = goSprintf;

  it('formats integers', () => {
    expect(f('%d|%5d|%-5d|%05d|%+d', [42, 42, 42, -42, 5])).toBe('42|   42|42   |-0042|+5');
    expect(f('%x %X %#x %o %#o %O %b', [255, 255, 255, 8, 8, 8, 5])).toBe(
      'ff FF 0xff 10 010 0o10 101',
    );
    expect(f('%c %U %q', [65, 0x1f600, 65])).toBe("A U+1F600 'A'");
    expect(f('%.3d', [7])).toBe('007');
    expect(f('%v %d %s', [2n ** 70n, 2n ** 70n, 2n ** 70n])).toBe(
      '1180591620717411303424 1180591620717411303424 1180591620717411303424',
    );
  });

  it('formats floats from their exact value, rounding halves to even', () => {
    expect(f('%.2f', [3.1415])).toBe('3.14');
    expect(f('%.2f', [0.125])).toBe('0.12');
    expect(f('%.0f %.0f', [2.5, 3.5])).toBe('2 4');
    expect(f('%.1f', [0.05])).toBe('0.1');
    expect(f('%6.2f|%-8.3f|%08.3f', [1.005, 2.5, -3.14159])).toBe('  1.00|2.500   |-003.142');
    expect(f('%e %E %.2e', [1234.5678, 0.000123, 5])).toBe('1.234568e+03 1.230000E-04 5.00e+00');
    expect(f('%g %g %g %g', [1e-5, 100000.5, 1234567.5, 0.5])).toBe(
      '1e-05 100000.5 1.2345675e+06 0.5',
    );
    expect(f('%.3g %.3g %G', [1.0, 1234.5, 1e-10])).toBe('1 1.23e+03 1E-10');
    expect(f('%v %v %v', [0.0000001, -0.5, 1.5])).toBe('1e-07 -0.5 1.5');
  });

  it('formats integral numbers as floats under float verbs (Rego does not tell 3 from 3.0)', () => {
    expect(f('%.2f %e', [3, 10])).toBe('3.00 1.000000e+01');
  });

  it('formats strings and other values', () => {
    expect(f('%s|%v|%q|%x|% x|%X', ['hi', 'hi', 'a"b', 'hi', 'hi', 'hi'])).toBe(
      'hi|hi|"a\\"b"|6869|68 69|6869',
    );
    expect(f('%.3s|%10.4v|%-4s|', ['abcdef', 'abcdefgh', 'é'])).toBe('abc|      abcd|é   |');
    expect(f('%s %v %v', [true, ['there', 5, 3.14], new SetValue()])).toBe(
      'true ["there", 5, 3.14] set()',
    );
    expect(f('%T %T %T %T', [1, 1.5, 'x', 2n ** 70n])).toBe('int float64 string *big.Int');
  });

  it('marks mistakes the way Go does', () => {
    expect(f('%d %d', [1])).toBe('1 %!d(MISSING)');
    expect(f('%d', [1, 'a'])).toBe('1%!(EXTRA string=a)');
    expect(f('%d', ['x'])).toBe('%!d(string=x)');
    expect(f('%s', [5])).toBe('%!s(int=5)');
    expect(f('%d', [1.5])).toBe('%!d(float64=1.5)');
    expect(f('%f', [true])).toBe('%!f(string=true)');
    expect(f('%', [])).toBe('%!(NOVERB)');
    expect(f('%z', [1])).toBe('%!z(int=1)');
    expect(f('%[3]d', [1])).toBe('%!d(BADINDEX)');
    expect(f('%[2]d %[1]d', [1, 2])).toBe('2 1');
    expect(f('%*d', ['x', 1])).toBe('%!(BADWIDTH)1');
    expect(f('%*d|%-*d', [4, 1, 3, 2])).toBe('   1|2  ');
    expect(f('%9999999d', [1])).toBe('%!(BADWIDTH)1');
    expect(f('100%%', [])).toBe('100%');
  });
});
