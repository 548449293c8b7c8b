import {
  canonicalJson,
  isStorableText,
  storableText,
  toStorableJson,
} from '../../../../../api/services/audit/canonical';

describe('canonicalJson', () => {
  it('sorts keys at every depth and writes no white space', () => {
    expect(canonicalJson({ b: 1, a: [{ d: true, c: null }, 'x'], é: 'e' })).toBe(
      '{"a":[{"c":null,"d":true},"x"],"b":1,"é":"e"}',
    );
  });

  it('writes the same text for equal values built in a different order', () => {
    const one = { user: { roles: ['a'], id: 7 }, action: 'read' };
    const two = { action: 'read', user: { id: 7, roles: ['a'] } };
    expect(canonicalJson(one)).toBe(canonicalJson(two));
  });

  it('writes scalars as JSON.stringify does', () => {
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson(1e21)).toBe('1e+21');
    expect(canonicalJson(-0)).toBe('0');
    expect(canonicalJson('a"\n')).toBe('"a\\"\\n"');
  });
});

describe('toStorableJson', () => {
  it('replaces NUL and unpaired surrogates in strings and keys, keeps pairs', () => {
    expect(storableText('a\u0000b')).toBe('a\uFFFDb');
    expect(storableText('\uD800x\uDC00')).toBe('\uFFFDx\uFFFD');
    expect(storableText('😀')).toBe('😀');
    expect(isStorableText('😀 plain')).toBe(true);
    expect(isStorableText('a\u0000b')).toBe(false);
    // The same answer twice in a row: the global pattern starts over each time.
    expect(isStorableText('\uDC00')).toBe(false);
    expect(isStorableText('\uDC00')).toBe(false);
    expect(toStorableJson({ 'k\u0000': ['\uD83D'] })).toEqual({ 'k\uFFFD': ['\uFFFD'] });
  });

  it('drops or nulls what JSON cannot hold, as JSON.stringify does', () => {
    expect(toStorableJson(undefined)).toBeUndefined();
    expect(toStorableJson(() => 1)).toBeUndefined();
    expect(toStorableJson(10n)).toBeUndefined();
    expect(
      toStorableJson({ a: undefined, b: Number.NaN, c: [undefined, Infinity], d: false }),
    ).toEqual({
      b: null,
      c: [null, null],
      d: false,
    });
  });
});
