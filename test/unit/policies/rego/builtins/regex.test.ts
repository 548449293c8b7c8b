import { failure, show } from './call';

describe('regex.match and regex.is_valid', () => {
  it('search with RE2 syntax', () => {
    expect(show('regex.match', '^[a-z]+\\[[0-9]+\\]$', 'foo[1]')).toBe('true');
    expect(show('regex.match', '', 'x')).toBe('true');
    expect(show('regex.match', '^$', 'something')).toBe('false');
    expect(show('regex.match', '(?i)ABC', 'xabcx')).toBe('true');
    expect(show('regex.match', '^\\pL+$', 'héllo')).toBe('true');
    expect(show('re_match', 'b', 'abc')).toBe('true');
  });

  it('report syntax errors with Go messages', () => {
    expect(failure('regex.match', '$^[[[', 'x')).toBe(
      'builtin: regex.match: error parsing regexp: missing closing ]: `[[[`',
    );
    expect(failure('regex.match', '(?=a)', 'x')).toBe(
      'builtin: regex.match: error parsing regexp: invalid or unsupported Perl syntax: `(?=`',
    );
  });

  it('is_valid is false for bad patterns and non-strings', () => {
    expect(show('regex.is_valid', '.+')).toBe('true');
    expect(show('regex.is_valid', '++')).toBe('false');
    expect(show('regex.is_valid', 10)).toBe('false');
  });
});

describe('regex.split', () => {
  it('splits like Go, keeping empty parts at anchored ends', () => {
    expect(show('regex.split', 'a', 'banana')).toBe('["b", "n", "n", ""]');
    expect(show('regex.split', 'z+', 'pizza')).toBe('["pi", "a"]');
    expect(show('regex.split', '^[a-z]+', 'foobar baz')).toBe('["", " baz"]');
    expect(show('regex.split', '[a-z]+$', 'foobar baz')).toBe('["foobar ", ""]');
    expect(show('regex.split', '^[a-z ]+$', 'foobar baz')).toBe('["", ""]');
    expect(show('regex.split', 'x', '')).toBe('[""]');
  });
});

describe('regex.find_n and regex.find_all_string_submatch_n', () => {
  it('find up to n matches (all when n < 0)', () => {
    expect(show('regex.find_n', 'a.', 'paranormal', -1)).toBe('["ar", "an", "al"]');
    expect(show('regex.find_n', 'a.', 'paranormal', 2)).toBe('["ar", "an"]');
    expect(show('regex.find_n', 'a.', 'paranormal', 0)).toBe('[]');
    expect(show('regex.find_n', 'a*', 'baaab', -1)).toBe('["", "aaa", ""]');
  });

  it('returns groups, with "" for a group that did not take part', () => {
    expect(show('regex.find_all_string_submatch_n', 'a(x*)b', '-ab-axb-', -1)).toBe(
      '[["ab", ""], ["axb", "x"]]',
    );
    expect(
      show('regex.find_all_string_submatch_n', '[^aouiye]([aouiye])([^aouiye])?', 'somestri', -1),
    ).toBe('[["som", "o", "m"], ["ri", "i", ""]]');
    expect(show('regex.find_all_string_submatch_n', 'a(x*)b', '-', -1)).toBe('[]');
  });
});

describe('regex.replace', () => {
  it('replaces every match and expands $1, ${name} and $$', () => {
    expect(show('regex.replace', '-wy-wxxy-', 'w(x*)y', '0')).toBe('"-0-0-"');
    expect(show('regex.replace', 'foo', '(foo)', '$1$1')).toBe('"foofoo"');
    expect(show('regex.replace', 'ab', '(?P<first>a)', '[${first}]')).toBe('"[a]b"');
    expect(show('regex.replace', 'ab', 'a', '$$')).toBe('"$b"');
    expect(show('regex.replace', 'ab', '(a)', '$1x')).toBe('"b"'); // "$1x" names group "1x"
    expect(show('regex.replace', 'abc', 'x*', '-')).toBe('"-a-b-c-"');
    expect(failure('regex.replace', 'foo', '[', '$1')).toBe(
      'builtin: regex.replace: error parsing regexp: missing closing ]: `[`',
    );
  });
});

describe('regex.template_match', () => {
  it('matches literal text around delimited patterns', () => {
    expect(show('regex.template_match', 'urn:foo:{.*}', 'urn:foo:bar:baz', '{', '}')).toBe('true');
    expect(show('regex.template_match', 'urn:foo.<[0-9]+>', 'urn:foo.123', '<', '>')).toBe('true');
    expect(show('regex.template_match', 'urn:foo.<[0-9]+>', 'urn:fooX123', '<', '>')).toBe('false');
  });

  it('checks delimiters and balance', () => {
    expect(failure('regex.template_match', 'a{b', 'ab', '{', '}')).toBe(
      'builtin: regex.template_match: unbalanced braces in "a{b"',
    );
    expect(failure('regex.template_match', 'a', 'a', '{{', '}')).toBe(
      'builtin: regex.template_match: start delimiter has to be exactly one character long but is 2 long',
    );
  });
});
