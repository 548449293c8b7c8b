import { failure, json, set, show } from './call';

describe('json.filter', () => {
  it('keeps only the given paths', () => {
    expect(
      show(
        'json.filter',
        json('{"a": {"b": {"c": 7, "d": 8, "x": 0}}, "e": 9}'),
        set('a/b/d', ['a', 'b', 'c']),
      ),
    ).toBe('{"a": {"b": {"c": 7, "d": 8}}}');
    expect(
      show('json.filter', json('{"a": [{"b": 7, "c": 8}, {"d": 9}]}'), set('a/0/b', 'a/1')),
    ).toBe('{"a": [{"b": 7}, {"d": 9}]}');
    expect(show('json.filter', json('{}'), set('a/b'))).toBe('{}');
    expect(show('json.filter', json('{"a/b": 1, "c": 2}'), ['a~1b'])).toBe('{"a/b": 1}');
  });
});

describe('json.remove', () => {
  it('drops the given paths, closing gaps in arrays', () => {
    expect(
      show('json.remove', json('{"a": {"b": {"c": 7, "d": 8}}, "e": 9}'), set('a/b/c', 'e')),
    ).toBe('{"a": {"b": {"d": 8}}}');
    expect(
      show('json.remove', json('{"a": [{"b": 7, "c": 8}, {"d": 9}]}'), set('a/0/b', 'a/1')),
    ).toBe('{"a": [{"c": 8}]}');
    expect(show('json.remove', json('{"a": {"b": 7}, "c": 1}'), set('a', 'a/b'))).toBe('{"c": 1}');
    expect(show('json.remove', json('{"a": 7}'), set())).toBe('{"a": 7}');
  });

  it('describes bad operands', () => {
    expect(failure('json.remove', 'foo', set('a'))).toBe(
      'type: json.remove: operand 1 must be object but got string',
    );
    expect(failure('json.remove', json('{}'), 22)).toBe(
      'type: json.remove: operand 2 must be one of {set, array} but got number',
    );
    expect(failure('json.remove', json('{}'), ['a', json('{"x": 1}')])).toBe(
      'type: json.remove: operand 2 must be one of {set, array} containing string paths or array of path segments but got object',
    );
  });
});

describe('json.patch', () => {
  const patch = (doc: string, ops: string): string => show('json.patch', json(doc), json(ops));

  it('applies RFC 6902 operations', () => {
    expect(patch('{"foo": "bar"}', '[{"op": "add", "path": "/baz", "value": "qux"}]')).toBe(
      '{"baz": "qux", "foo": "bar"}',
    );
    expect(
      patch('{"foo": ["bar", "baz"]}', '[{"op": "add", "path": "/foo/1", "value": "qux"}]'),
    ).toBe('{"foo": ["bar", "qux", "baz"]}');
    expect(patch('{"foo": ["bar"]}', '[{"op": "add", "path": "/foo/-", "value": ["a"]}]')).toBe(
      '{"foo": ["bar", ["a"]]}',
    );
    expect(patch('{"a": 1, "b": 2}', '[{"op": "remove", "path": "/a"}]')).toBe('{"b": 2}');
    expect(patch('{"a": 1}', '[{"op": "replace", "path": "/a", "value": 2}]')).toBe('{"a": 2}');
    expect(
      patch(
        '{"foo": ["all", "grass", "cows", "eat"]}',
        '[{"op": "move", "from": "/foo/1", "path": "/foo/3"}]',
      ),
    ).toBe('{"foo": ["all", "cows", "eat", "grass"]}');
    expect(patch('{"a": {"b": 1}}', '[{"op": "copy", "from": "/a", "path": "/c"}]')).toBe(
      '{"a": {"b": 1}, "c": {"b": 1}}',
    );
    expect(patch('{"/": 9, "~1": 10}', '[{"op": "test", "path": "/~01", "value": 10}]')).toBe(
      '{"/": 9, "~1": 10}',
    );
    expect(patch('{"foo": "bar"}', '[{"op": "replace", "path": "", "value": [1]}]')).toBe('[1]');
    expect(patch('{}', '[{"op": "add", "path": "/", "value": 1}]')).toBe('{"": 1}');
  });

  it('is undefined when a patch cannot apply', () => {
    expect(patch('{"baz": "qux"}', '[{"op": "test", "path": "/baz", "value": "bar"}]')).toBe(
      'undefined',
    );
    expect(patch('{"q": {}}', '[{"op": "add", "path": "/a/b", "value": 1}]')).toBe('undefined');
    expect(patch('{"bar": [1, 2]}', '[{"op": "add", "path": "/bar/8", "value": 5}]')).toBe(
      'undefined',
    );
    expect(patch('["foo", "bar"]', '[{"op": "test", "path": "/01", "value": "bar"}]')).toBe(
      'undefined',
    );
    expect(patch('["foo", "sil"]', '[{"op": "add", "path": "/bar", "value": 42}]')).toBe(
      'undefined',
    );
    expect(patch('{}', '[{"op": "add", "value": "bar"}]')).toBe('undefined');
    expect(patch('{"foo": 1}', '[{"op": "spam", "path": "/foo", "value": 1}]')).toBe('undefined');
    expect(patch('[1, 2, 3]', '[{"op": "add", "path": "1.2", "value": "foo"}]')).toBe('undefined');
  });

  it('wants an array of operations', () => {
    expect(failure('json.patch', json('{}'), json('{}'))).toBe(
      'type: json.patch: operand 2 must be array but got object',
    );
  });
});
