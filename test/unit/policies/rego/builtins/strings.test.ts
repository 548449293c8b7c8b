import { failure, json, set, show } from './call';

describe('concat', () => {
  it('joins arrays and sets of strings', () => {
    expect(show('concat', '/', ['', 'foo', 'bar', '0', 'baz'])).toBe('"/foo/bar/0/baz"');
    expect(show('concat', ',', set('b', 'a'))).toBe('"a,b"');
    expect(show('concat', ',', [])).toBe('""');
    expect(failure('concat', ',', [1])).toBe(
      'type: concat: operand 2 must be array of strings but got array containing number',
    );
    expect(failure('concat', ',', 'ab')).toBe(
      'type: concat: operand 2 must be one of {set, array} but got string',
    );
  });
});

describe('predicates and case', () => {
  it('contains, startswith, endswith', () => {
    expect(show('contains', 'abcdefgh', 'defg')).toBe('true');
    expect(show('startswith', 'abcdefgh', 'abcd')).toBe('true');
    expect(show('endswith', 'abcdefgh', 'fgh')).toBe('true');
    expect(show('endswith', 'abc', 'x')).toBe('false');
    expect(failure('contains', 1, 'a')).toBe(
      'type: contains: operand 1 must be string but got number',
    );
  });

  it('lower and upper map each character on its own, as Go does', () => {
    expect(show('lower', 'AbCdEf')).toBe('"abcdef"');
    expect(show('upper', 'AbCdEf')).toBe('"ABCDEF"');
    expect(show('upper', 'straße')).toBe('"STRAßE"');
    expect(show('lower', 'ΑΣ')).toBe('"ασ"');
    expect(show('lower', 'İ')).toBe('"i"');
  });
});

describe('split, replace and strings.replace_n', () => {
  it('split like Go', () => {
    expect(show('split', 'foo.bar.baz', '.')).toBe('["foo", "bar", "baz"]');
    expect(show('split', '', '.')).toBe('[""]');
    expect(show('split', 'test', '')).toBe('["t", "e", "s", "t"]');
    expect(show('split', '', '')).toBe('[]');
    expect(show('split', 'é😀', '')).toBe('["é", "😀"]');
  });

  it('replace every non-overlapping occurrence, and between characters for ""', () => {
    expect(show('replace', 'foo...bar', '..', ',,')).toBe('"foo,,.bar"');
    expect(show('replace', 'ab', '', 'X')).toBe('"XaXbX"');
    expect(show('replace', 'a$b', '$', '$&')).toBe('"a$&b"');
  });

  it('replace_n picks the first pattern in key order at each position', () => {
    expect(
      show('strings.replace_n', json('{"info": "X", "anotherinfo": "Y"}'), 'anotherinfo'),
    ).toBe('"Y"');
    expect(show('strings.replace_n', json('{"a": "YY", "bba": "bX"}'), 'bbab')).toBe('"bXb"');
    expect(show('strings.replace_n', json('{"a": "b", "b": "a"}'), 'abba')).toBe('"baab"');
    expect(show('strings.replace_n', json('{"": "-", "é": "e"}'), 'aéb')).toBe('"-a-e-b-"');
    expect(failure('strings.replace_n', json('{"f": 100}'), 'foo')).toBe(
      'type: strings.replace_n: operand 1 non-string value found in pattern object',
    );
  });
});

describe('trim', () => {
  it('trims runes of a cutset, prefixes, suffixes and Go whitespace', () => {
    expect(show('trim', '...foo.bar...', '.o')).toBe('"foo.bar"');
    expect(show('trim', '¡¡¡foo, bar!!!', 'i')).toBe('"¡¡¡foo, bar!!!"');
    expect(show('trim', '¡¡¡foo!!!', '¡!')).toBe('"foo"');
    expect(show('trim_left', '!!!foo', '!')).toBe('"foo"');
    expect(show('trim_right', 'foo!!!', '!')).toBe('"foo"');
    expect(show('trim_prefix', '¡¡¡foo, bar!!!', '¡¡¡foo')).toBe('", bar!!!"');
    expect(show('trim_suffix', '¡¡¡foo, bar!!!', ', bar!!!')).toBe('"¡¡¡foo"');
    expect(show('trim_suffix', 'foo', '')).toBe('"foo"');
    expect(show('trim_space', ' \t\n foo \u0085\u3000')).toBe('"foo"');
    expect(show('trim_space', '\ufefffoo')).toBe('"\\ufefffoo"'); // BOM is no Go space
  });
});

describe('indexes and lengths count characters', () => {
  it('indexof and indexof_n', () => {
    expect(show('indexof', 'μx', 'x')).toBe('1');
    expect(show('indexof', 'skön var våren', 'vår')).toBe('9');
    expect(show('indexof', '🍧🍨🧁🍰🍮', '🍮')).toBe('4');
    expect(show('indexof', 'μ', 'μμ')).toBe('-1');
    expect(show('indexof_n', 'dogcatdogcat', 'cat')).toBe('[3, 9]');
    expect(show('indexof_n', '😇😀😇😀😇😀', '😀')).toBe('[1, 3, 5]');
    expect(show('indexof_n', 'aaa', 'aa')).toBe('[0, 1]');
    expect(failure('indexof', 'abc', '')).toBe('builtin: indexof: empty search character');
  });

  it('substring', () => {
    expect(show('substring', 'abcdefgh', 2, -1)).toBe('"cdefgh"');
    expect(show('substring', 'aåäö', 2, -1)).toBe('"äö"');
    expect(show('substring', 'abcdefghåäö', 2, 10000)).toBe('"cdefghåäö"');
    expect(show('substring', 'åäö', 4, -1)).toBe('""');
    expect(show('substring', 'abc', 1, 1)).toBe('"b"');
    expect(failure('substring', 'abc', -1, 1)).toBe('builtin: substring: negative offset');
    expect(failure('substring', 'abc', 1.5, 1)).toBe(
      'type: substring: operand 2 must be integer number but got floating-point number',
    );
  });

  it('strings.count and strings.reverse', () => {
    expect(show('strings.count', 'cheese', 'e')).toBe('3');
    expect(show('strings.count', '11111', '11')).toBe('2');
    expect(show('strings.count', 'dummy', '')).toBe('6');
    expect(show('strings.count', '', '')).toBe('1');
    expect(show('strings.reverse', 'abc😀')).toBe('"😀cba"');
  });
});

describe('strings.any_prefix_match and strings.any_suffix_match', () => {
  it('match strings or collections of strings', () => {
    expect(show('strings.any_prefix_match', ['a/b/c', 'e/f/g'], ['x/', 'e/f'])).toBe('true');
    expect(show('strings.any_prefix_match', 'a/b/c', 'a/')).toBe('true');
    expect(show('strings.any_prefix_match', [], ['a'])).toBe('false');
    expect(show('strings.any_suffix_match', set('a/b/c'), set('/c'))).toBe('true');
    expect(show('strings.any_suffix_match', 'a/b/g', ['/c'])).toBe('false');
  });

  it('name the operand and the element that has the wrong type', () => {
    expect(failure('strings.any_prefix_match', [1], ['a'])).toBe(
      'type: strings.any_prefix_match: operand 1 must be array of strings but got array containing number',
    );
    expect(failure('strings.any_suffix_match', 'a', 1)).toBe(
      'type: strings.any_suffix_match: operand 2 must be one of {string, set, array} but got number',
    );
  });
});

describe('strings.split_n', () => {
  it('keeps the first n parts, the last -n parts, or none', () => {
    expect(show('strings.split_n', 'a.b.c.d', '.', 2)).toBe('["a", "b"]');
    expect(show('strings.split_n', 'a.b.c.d', '.', 10)).toBe('["a", "b", "c", "d"]');
    expect(show('strings.split_n', 'a.b.c.d', '.', 0)).toBe('[]');
    expect(show('strings.split_n', 'a.b.c.d', '.', -2)).toBe('["c", "d"]');
    expect(show('strings.split_n', '', '.', 2)).toBe('[""]');
    expect(show('strings.split_n', 'abc', '', -2)).toBe('["b", "c"]');
    expect(failure('strings.split_n', 'a.b', '.', 1.5)).toBe(
      'type: strings.split_n: operand 3 must be integer number but got floating-point number',
    );
  });
});

describe('sprintf', () => {
  it('formats Rego values with Go verbs', () => {
    expect(show('sprintf', 'hi %s', ['there'])).toBe('"hi there"');
    expect(show('sprintf', 'hi %02X.%02X', [127, 1])).toBe('"hi 7F.01"');
    expect(show('sprintf', 'hi %.2f', [3.1415])).toBe('"hi 3.14"');
    expect(show('sprintf', 'hi %s', [true])).toBe('"hi true"');
    expect(show('sprintf', 'hi %v', [['there', 5, 3.14]])).toBe('"hi [\\"there\\", 5, 3.14]"');
    expect(show('sprintf', '%s', [123456789123456789123n])).toBe('"123456789123456789123"');
    expect(show('sprintf', '%d', [5])).toBe('"5"');
    expect(show('sprintf', '%d %d', [1])).toBe('"1 %!d(MISSING)"');
  });

  it('wants a format string and an array', () => {
    expect(failure('sprintf', '%v', 1)).toBe(
      'type: sprintf: operand 2 must be array but got number',
    );
  });
});
