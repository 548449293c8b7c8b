import { failure, json, set, show } from './call';

describe('count', () => {
  it('counts elements, members, keys and code points', () => {
    expect(show('count', [1, 2, 3, 4])).toBe('4');
    expect(show('count', set(1, 1, 2))).toBe('2');
    expect(show('count', json('{"a": 1, "b": 2}'))).toBe('2');
    expect(show('count', 'héllo😀')).toBe('6');
    expect(failure('count', 1)).toBe(
      'type: count: operand 1 must be one of {array, object, set, string} but got number',
    );
  });
});

describe('sum and product', () => {
  it('stay exact for integers of any size', () => {
    expect(show('sum', set(1, 2, 3, 4))).toBe('10');
    expect(show('sum', [18446744073709551617n, 1])).toBe('18446744073709551618');
    expect(show('sum', [9223372036854775807n, 1])).toBe('9223372036854775808');
    expect(show('product', [18446744073709551617n, 2])).toBe('36893488147419103234');
    expect(show('product', [])).toBe('1');
    expect(show('sum', [])).toBe('0');
  });

  it('use doubles for fractions', () => {
    expect(show('sum', [1.5, 2.5])).toBe('4');
    expect(show('sum', [1, 2.5])).toBe('3.5');
    expect(show('product', [1.5, 2])).toBe('3');
  });

  it('want collections of numbers', () => {
    expect(failure('sum', [1, 'a'])).toBe(
      'type: sum: operand 1 must be array of numbers but got array containing string',
    );
    expect(failure('product', set('a'))).toBe(
      'type: product: operand 1 must be set of numbers but got set containing string',
    );
    expect(failure('sum', 1)).toBe(
      'type: sum: operand 1 must be one of {set, array} but got number',
    );
  });
});

describe('max, min and sort', () => {
  it('use Rego ordering and are undefined on empty collections', () => {
    expect(show('max', set(1, 2, 3, 4))).toBe('4');
    expect(show('min', [3, 2, 1, 4, 6, -7, 10])).toBe('-7');
    expect(show('max', [1, 'a', null])).toBe('"a"');
    expect(show('max', [])).toBe('undefined');
    expect(show('min', set())).toBe('undefined');
    expect(show('sort', [4, 3, 2, 1])).toBe('[1, 2, 3, 4]');
    expect(show('sort', set('b', 'a'))).toBe('["a", "b"]');
    expect(show('sort', [2.5, 1, 2n ** 64n, 3])).toBe('[1, 2.5, 3, 18446744073709551616]');
    expect(failure('sort', 'x')).toBe(
      'type: sort: operand 1 must be one of {set, array} but got string',
    );
  });
});

describe('all and any (deprecated)', () => {
  it('test for true members', () => {
    expect(show('all', [true, true])).toBe('true');
    expect(show('all', [true, 1])).toBe('false');
    expect(show('all', [])).toBe('true');
    expect(show('any', set(false, true))).toBe('true');
    expect(show('any', [])).toBe('false');
    expect(failure('any', 1)).toBe(
      'type: any: operand 1 must be one of {array, set} but got number',
    );
  });
});
