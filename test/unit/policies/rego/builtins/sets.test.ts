import { failure, set, show } from './call';

describe('intersection and union', () => {
  it('combine a set of sets', () => {
    expect(show('intersection', set(set(1, 2, 3), set(2, 3, 4)))).toBe('{2, 3}');
    expect(show('intersection', set(set(), set(1, 2)))).toBe('set()');
    expect(show('intersection', set())).toBe('set()');
    expect(show('union', set(set(1, 2), set(2, 3)))).toBe('{1, 2, 3}');
    expect(show('union', set())).toBe('set()');
  });

  it('want sets of sets', () => {
    expect(failure('union', [set(1)])).toBe('type: union: operand 1 must be set but got array');
    expect(failure('intersection', set(1))).toBe(
      'type: intersection: operand 1 must be set but got number',
    );
  });

  it('set_diff (deprecated) is set difference', () => {
    expect(show('set_diff', set(1, 2, 'c'), set('c', 1))).toBe('{2}');
  });
});
