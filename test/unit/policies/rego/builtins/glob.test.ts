import { failure, show } from './call';

describe('glob.match', () => {
  it('stops * and ? at delimiters, with "." the default for an empty list', () => {
    expect(show('glob.match', '*:github:com', [':'], 'api:github:com')).toBe('true');
    expect(show('glob.match', '*.github.com', ['.'], 'api.not-github.com')).toBe('false');
    expect(show('glob.match', '*', [], 'foo.bar')).toBe('false');
    expect(show('glob.match', '*', null, 'foo.bar')).toBe('true');
    expect(show('glob.match', '?at', ['f'], 'fat')).toBe('false');
    expect(show('glob.match', '*?*', ['.', '/'], 'api.github.com')).toBe('false');
    expect(show('glob.match', '*?*', ['.', '/'], 'abc')).toBe('true');
  });

  it('lets ** cross delimiters but not stand in for literal text', () => {
    expect(show('glob.match', 'a/**/b', null, 'a/b')).toBe('false');
    expect(show('glob.match', 'a/**/b', null, 'a//b')).toBe('true');
    expect(show('glob.match', '**.com', ['.'], 'a.b.com')).toBe('true');
    expect(show('glob.match', '**/x', null, 'x')).toBe('false');
  });

  it('supports character lists, ranges, negations and alternatives', () => {
    expect(show('glob.match', '[abc]at', [], 'fat')).toBe('false');
    expect(show('glob.match', '[!abc]at', [], 'fat')).toBe('true');
    expect(show('glob.match', '[a-c]at', [], 'bat')).toBe('true');
    expect(show('glob.match', '[!a-c]at', [], 'bat')).toBe('false');
    expect(show('glob.match', '{cat,bat,[fr]at}', [], 'rat')).toBe('true');
    expect(show('glob.match', '{cat,bat,[fr]at}', [], 'at')).toBe('false');
    expect(show('glob.match', '{**/,}x', null, 'x')).toBe('true');
    expect(show('glob.match', '?', null, '')).toBe('false');
    expect(show('glob.match', '***', ['.'], '')).toBe('true');
    expect(show('glob.match', '\\*', null, '*')).toBe('true');
    expect(show('glob.match', '\\*', null, 'a')).toBe('false');
    expect(show('glob.match', 'a,b}', null, 'a,b}')).toBe('true'); // , and } are plain outside {}
    expect(show('glob.match', '😀?', null, '😀é')).toBe('true');
  });

  it('reports malformed patterns and delimiters', () => {
    expect(failure('glob.match', '[a', null, 'a')).toBe(
      'builtin: glob.match: unexpected end of input',
    );
    expect(failure('glob.match', '[]', null, 'a')).toBe(
      'builtin: glob.match: could not parse range',
    );
    expect(failure('glob.match', '[z-a]', null, 'a')).toBe(
      "builtin: glob.match: hi character 'a' should be greater than lo 'z'",
    );
    expect(failure('glob.match', 'a', ['ab'], 'a')).toBe(
      'type: glob.match: operand 2 must be array of runes but got array containing string',
    );
    expect(failure('glob.match', 'a', 'x', 'a')).toBe(
      'type: glob.match: operand 2 must be one of {array, null} but got string',
    );
  });
});

describe('glob.quote_meta', () => {
  it('escapes the glob meta characters', () => {
    expect(show('glob.quote_meta', '*.github.com')).toBe('"\\\\*.github.com"');
    expect(show('glob.quote_meta', '[a]{b}?\\')).toBe('"\\\\[a\\\\]\\\\{b\\\\}\\\\?\\\\\\\\"');
  });
});
