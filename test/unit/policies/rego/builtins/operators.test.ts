import { ObjectValue } from '../../../../../policies/ir/value';
import { failure, json, set, show } from './call';

describe('comparison operators', () => {
  it('order values by Rego order across and within types', () => {
    expect(show('lt', 1, 2)).toBe('true');
    expect(show('lt', 2, 1)).toBe('false');
    expect(show('lt', null, false)).toBe('true');
    expect(show('lt', 'b', 'a')).toBe('false');
    expect(show('lte', 3, 3)).toBe('true');
    expect(show('gt', [1, 2], [1])).toBe('true');
    expect(show('gte', set(1), [1])).toBe('true'); // sets sort after arrays
  });

  it('compare integers and big integers exactly', () => {
    expect(show('lt', 2n ** 64n, 2n ** 64n + 1n)).toBe('true');
    expect(show('gt', 2n ** 64n, 1e19)).toBe('true');
    expect(show('equal', 2n ** 53n + 0n, 2 ** 53)).toBe('true');
  });

  it('test equality structurally', () => {
    expect(show('equal', json('{"a": [1, 2]}'), json('{"a": [1, 2]}'))).toBe('true');
    expect(show('neq', set(1, 2), set(2, 1))).toBe('false');
    expect(show('equal', 1, '1')).toBe('false');
  });
});

describe('arithmetic operators', () => {
  it('keep integers exact beyond 64 bits', () => {
    expect(show('plus', 18446744073709551617n, 1)).toBe('18446744073709551618');
    expect(show('minus', -18446744073709551617n, 1)).toBe('-18446744073709551618');
    expect(show('mul', 18446744073709551617n, 2)).toBe('36893488147419103234');
    expect(show('plus', 9007199254740991, 2)).toBe('9007199254740993');
    expect(show('mul', 2147483647, 2147483647)).toBe('4611686014132420609');
  });

  it('use doubles once a float is involved', () => {
    expect(show('plus', 1, 2.5)).toBe('3.5');
    expect(show('mul', 2.5, 2)).toBe('5');
    expect(show('minus', 0.5, 0.25)).toBe('0.25');
  });

  it('divide exactly when the divisor divides the dividend, else as floats', () => {
    expect(show('div', 6, 3)).toBe('2');
    expect(show('div', -6, 3)).toBe('-2');
    expect(show('div', 1, 4)).toBe('0.25');
    expect(show('div', 0, 5)).toBe('0');
    expect(show('div', 2n ** 70n, 2n ** 68n)).toBe('4');
  });

  it('refuse to divide by zero', () => {
    expect(failure('div', 1, 0)).toBe('builtin: div: divide by zero');
    expect(failure('div', 1, 0.0)).toBe('builtin: div: divide by zero');
  });

  it('take the remainder of integers with the sign of the dividend', () => {
    expect(show('rem', -17, 5)).toBe('-2');
    expect(show('rem', 17, -5)).toBe('2');
    expect(show('rem', 4.0, 3)).toBe('1');
    expect(show('rem', 10, 18446744073709551616n)).toBe('10');
    expect(show('rem', 18446744073709551617n, 18446744073709551616n)).toBe('1');
    expect(failure('rem', 1.1, 1)).toBe('builtin: rem: modulo on floating-point number');
    expect(failure('rem', 1, 0)).toBe('builtin: rem: modulo by zero');
  });

  it('report operands of the wrong type as OPA words it', () => {
    expect(failure('plus', 1, 'a')).toBe('type: plus: operand 2 must be number but got string');
    expect(failure('mul', null, 1)).toBe('type: mul: operand 1 must be number but got null');
    expect(failure('minus', set(1), 1)).toBe('type: minus: operand 2 must be set but got number');
    expect(failure('minus', 1, set(1))).toBe('type: minus: operand 2 must be number but got set');
    expect(failure('minus', 'a', 1)).toBe(
      'type: minus: operand 1 must be one of {number, set} but got string',
    );
  });
});

describe('set operators', () => {
  it('difference, intersection and union', () => {
    expect(show('minus', set(1, 2, 'c'), set('c', 1))).toBe('{2}');
    expect(show('and', set(1, 2, 3), set(2, 3, 4))).toBe('{2, 3}');
    expect(show('or', set(1), set(2))).toBe('{1, 2}');
    expect(show('and', set(1), set(2))).toBe('set()');
    expect(failure('or', set(1), [1])).toBe('type: or: operand 2 must be set but got array');
  });
});

describe('membership (x in xs, k, v in xs)', () => {
  it('finds members of sets, elements of arrays and values of objects', () => {
    expect(show('internal.member_2', 1, set(1))).toBe('true');
    expect(show('internal.member_2', 1, [2, 1])).toBe('true');
    expect(show('internal.member_2', 1, json('{"foo": 1}'))).toBe('true');
    expect(show('internal.member_2', 'foo', json('{"foo": 1}'))).toBe('false');
    expect(show('internal.member_2', json('{"a": [1]}'), [json('{"a": [1]}')])).toBe('true');
  });

  it('is false (not an error) for a scalar collection', () => {
    expect(show('internal.member_2', 1, 'foo')).toBe('false');
    expect(show('internal.member_2', 'foo', 1)).toBe('false');
    expect(show('internal.member_3', 1, 'foo', 1)).toBe('false');
  });

  it('checks keys and indexes with three operands', () => {
    expect(show('internal.member_3', 'foo', 1, json('{"foo": 1}'))).toBe('true');
    expect(show('internal.member_3', 1, 'two', ['one', 'two'])).toBe('true');
    expect(show('internal.member_3', 0, 'two', ['one', 'two'])).toBe('false');
    expect(show('internal.member_3', 1.5, 'two', ['one', 'two'])).toBe('false');
    expect(show('internal.member_3', 2, 2, set(2))).toBe('true');
    expect(show('internal.member_3', 2, 3, set(2))).toBe('false');
    expect(show('internal.member_3', 'x', 1, new ObjectValue())).toBe('false');
  });
});
