import { lex } from '../../../../policies/rego/lexer';

const kinds = (text: string): string[] =>
  lex(text).tokens.map((t) => `${t.kind}:${t.kind === 'string' ? t.value : t.text}`);

describe('lex', () => {
  it('splits words, numbers, strings and operators, longest operator first', () => {
    expect(kinds('x := y[0] != 1.5e3 # c')).toEqual([
      'ident:x',
      'punct::=',
      'ident:y',
      'punct:[',
      'number:0',
      'punct:]',
      'punct:!=',
      'number:1.5e3',
      'eof:',
    ]);
    expect(kinds('a<=b>=c==d')).toEqual([
      'ident:a',
      'punct:<=',
      'ident:b',
      'punct:>=',
      'ident:c',
      'punct:==',
      'ident:d',
      'eof:',
    ]);
  });

  it('records positions, spacing and line breaks before each token', () => {
    const { tokens } = lex('a.b\n  c (d)', 'f.rego');
    const [a, dot, b, c, paren] = tokens;
    expect(a).toMatchObject({ line: 1, col: 1, offset: 0, spaceBefore: false });
    expect(dot).toMatchObject({ text: '.', spaceBefore: false, newlineBefore: false });
    expect(b).toMatchObject({ text: 'b', col: 3 });
    expect(c).toMatchObject({ line: 2, col: 3, spaceBefore: true, newlineBefore: true });
    expect(paren).toMatchObject({ text: '(', spaceBefore: true, newlineBefore: false });
  });

  it('decodes string escapes, surrogate pairs included, and replaces lone surrogates', () => {
    const [s] = lex(String.raw`"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00\ud800"`).tokens;
    expect(s?.kind).toBe('string');
    expect(s?.value).toBe('a"b\\c/d\b\f\n\r\té😀\uFFFD');
  });

  it('keeps raw strings verbatim across lines and tracks the lines after them', () => {
    const { tokens } = lex('`a\\n\nb` x');
    expect(tokens[0]).toMatchObject({ kind: 'string', raw: true, value: 'a\\n\nb', line: 1 });
    expect(tokens[0]).toMatchObject({ endLine: 2, endCol: 3 });
    expect(tokens[1]).toMatchObject({ text: 'x', line: 2, col: 4 });
  });

  it('collects comments with their positions, without the trailing carriage return', () => {
    const { comments, tokens } = lex('x # one\r\n# two\ny');
    expect(comments.map((c) => [c.text, c.loc.line, c.loc.col])).toEqual([
      [' one', 1, 3],
      [' two', 2, 1],
    ]);
    expect(tokens.map((t) => t.text)).toEqual(['x', 'y', '']);
  });

  it('accepts identifiers with letters beyond ASCII and skips a byte-order mark', () => {
    expect(kinds('\uFEFFcafé_1')).toEqual(['ident:café_1', 'eof:']);
  });

  it.each([
    ['"abc', 'non-terminated string', 1],
    ['"a\nb', 'non-terminated string', 1],
    ['"a\\x"', 'illegal escape sequence "\\\\x"', 3],
    ['"\\u12"', 'illegal escape sequence', 2],
    ['`abc', 'non-terminated raw string', 1],
    ['x ~ y', 'illegal character "~"', 3],
    ['1.x', 'expected fraction digits', 1],
    ['1e+', 'expected exponent digits', 1],
    ['0a2b', 'illegal number format in number 0a2b', 1],
  ])('reports %j as an error at its place', (text, message, col) => {
    const { diagnostics, tokens } = lex(text, 'f.rego');
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]?.message).toContain(message);
    expect(diagnostics[0]?.position).toMatchObject({ file: 'f.rego', line: 1, col });
    expect(diagnostics[0]?.code).toBe('rego_parse_error');
    expect(tokens.some((t) => t.kind === 'illegal')).toBe(true);
  });
});
