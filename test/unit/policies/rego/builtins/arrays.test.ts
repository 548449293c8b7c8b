import { failure, json, show } from './call';

describe('array builtins', () => {
  it('array.concat', () => {
    expect(show('array.concat', [1, 2], [3, 4])).toBe('[1, 2, 3, 4]');
    expect(failure('array.concat', json('{"a": 1}'), [3])).toBe(
      'type: array.concat: operand 1 must be array but got object',
    );
  });

  it('array.slice clamps both ends', () => {
    expect(show('array.slice', [1, 2, 3, 4, 5], 1, 3)).toBe('[2, 3]');
    expect(show('array.slice', [1, 2, 3], 0, 0)).toBe('[]');
    expect(show('array.slice', [1, 2, 3, 4, 5], -4, -1)).toBe('[]');
    expect(show('array.slice', [1, 2, 3], -1, 10)).toBe('[1, 2, 3]');
    expect(show('array.slice', [1, 2, 3], 2, 1)).toBe('[]');
  });

  it('array.reverse', () => {
    expect(show('array.reverse', [1, 'a', null])).toBe('[null, "a", 1]');
    expect(show('array.reverse', [])).toBe('[]');
  });

  it('array.flatten flattens one level', () => {
    expect(show('array.flatten', json('[[[1], [2, 3, []]], [[4, 5]]]'))).toBe(
      '[[1], [2, 3, []], [4, 5]]',
    );
    expect(show('array.flatten', json('[[1, 2], "s", [3, {"a": "b"}], 4.5]'))).toBe(
      '[1, 2, "s", 3, {"a": "b"}, 4.5]',
    );
    expect(failure('array.flatten', 42)).toBe(
      'type: array.flatten: operand 1 must be array but got number',
    );
  });
});
