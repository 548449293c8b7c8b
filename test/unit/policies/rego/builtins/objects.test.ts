import { ObjectValue } from '../../../../../policies/ir/value';
import { failure, json, set, show } from './call';

describe('object.get', () => {
  it('reads a key or a path, with a default', () => {
    expect(show('object.get', json('{"a": {"b": "c"}}'), 'a', true)).toBe('{"b": "c"}');
    expect(show('object.get', json('{"a": {"b": "c"}}'), 'b', true)).toBe('true');
    expect(show('object.get', json('{"a": {"b": [1, 2]}}'), ['a', 'b', 1], 0)).toBe('2');
    expect(show('object.get', json('{"a": {"b": [1, 2]}}'), ['a', 'x'], 'none')).toBe('"none"');
    expect(show('object.get', json('{"a": 1}'), [], 'none')).toBe('{"a": 1}');
    expect(show('object.get', new ObjectValue([[['k'], 'v']]), [['k']], 0)).toBe('"v"');
    expect(failure('object.get', [1], 'a', 0)).toBe(
      'type: object.get: operand 1 must be object but got array',
    );
  });
});

describe('object.remove and object.filter', () => {
  it('take keys from an array, a set or an object', () => {
    expect(show('object.remove', json('{"a": 1, "b": {"c": 3}}'), set('a'))).toBe(
      '{"b": {"c": 3}}',
    );
    expect(show('object.remove', json('{"a": 1, "b": 2, "d": 4}'), json('{"b": 1, "d": ""}'))).toBe(
      '{"a": 1}',
    );
    expect(show('object.filter', json('{"a": 1, "b": 2, "e": 9}'), ['a', 'e'])).toBe(
      '{"a": 1, "e": 9}',
    );
    expect(show('object.filter', json('{"a": 7}'), [])).toBe('{}');
    expect(
      show(
        'object.remove',
        new ObjectValue([
          ['a', 1],
          [[[7]], 2],
        ]),
        set([[7]]),
      ),
    ).toBe('{"a": 1}');
  });

  it('name the operand that has the wrong type', () => {
    expect(failure('object.filter', null, set('a'))).toBe(
      'type: object.filter: operand 1 must be object but got null',
    );
    expect(failure('object.remove', json('{"a": 1}'), 'foo')).toBe(
      'type: object.remove: operand 2 must be one of {object, set, array} but got string',
    );
  });
});

describe('object.union and object.union_n', () => {
  it('merge recursively, the right-hand side winning', () => {
    expect(show('object.union', json('{"a": 1}'), json('{"b": 2}'))).toBe('{"a": 1, "b": 2}');
    expect(show('object.union', json('{"a": {"b": 1, "c": 2}}'), json('{"a": {"b": 3}}'))).toBe(
      '{"a": {"b": 3, "c": 2}}',
    );
    expect(show('object.union', json('{"a": 1}'), json('{"a": {"b": {"c": 1}}, "d": 7}'))).toBe(
      '{"a": {"b": {"c": 1}}, "d": 7}',
    );
    expect(
      show('object.union_n', [json('{"a": {"b": 2}}'), json('{"a": 4}'), json('{"a": {"c": 3}}')]),
    ).toBe('{"a": {"c": 3}}');
    expect(show('object.union_n', [])).toBe('{}');
    expect(failure('object.union', json('{}'), [1])).toBe(
      'type: object.union: operand 2 must be object but got array',
    );
    expect(failure('object.union_n', [json('{}'), 'baz'])).toBe(
      'type: object.union_n: operand 1 must be array of objects but got array containing string',
    );
  });
});

describe('object.keys', () => {
  it('returns the keys as a set', () => {
    expect(show('object.keys', json('{"a": 1, "b": 2}'))).toBe('{"a", "b"}');
    expect(show('object.keys', json('{}'))).toBe('set()');
    expect(failure('object.keys', 'object')).toBe(
      'type: object.keys: operand 1 must be object but got string',
    );
  });
});

describe('object.subset', () => {
  it('recurses into objects; sets by membership; arrays as contiguous runs', () => {
    const sup = json('{"a": 5, "nested": {"x": 10, "y": 15, "set1": [1]}}');
    expect(show('object.subset', sup, json('{"nested": {"x": 10}}'))).toBe('true');
    expect(show('object.subset', sup, json('{"a": 6}'))).toBe('false');
    expect(show('object.subset', set(1, 2, 3), set(3, 2))).toBe('true');
    expect(show('object.subset', set(1, 2, 3, set('a', 'b')), set(set('a')))).toBe('false');
    expect(show('object.subset', [1, 2, 3, 4], [2, 3])).toBe('true');
    expect(show('object.subset', [1, 2, 3, 4], [2, 4])).toBe('false');
    expect(show('object.subset', [1, 2, 3], set(3, 1))).toBe('true');
    expect(failure('object.subset', set(1), [1])).toBe(
      'type: object.subset: both arguments object.subset must be of the same type or array and set',
    );
  });
});
