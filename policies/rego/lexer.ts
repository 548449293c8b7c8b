/**
 * Rego lexer: turns source text into tokens, comments and lexical diagnostics in one pass.
 *
 * Words are all emitted as `ident` tokens; whether a word is a keyword depends on the parser's
 * context (`contains` is a keyword only in rule heads, `not`/`and`/`or` bodies depend on
 * imports), so the parser decides. Every token records whether whitespace or a newline came
 * before it: Rego refs (`a.b`, `a[0]`, `f(x)`) require their parts to touch, and newlines
 * separate the literals of a body.
 *
 * The lexer never throws: malformed input yields an `illegal` token plus a diagnostic.
 */
import { positionAt, type Diagnostic, type Position } from '../diagnostic';
import type { Comment } from './ast';

/** What a token is; keywords are `ident` tokens, told apart by the parser. */
export type TokenKind = 'ident' | 'number' | 'string' | 'punct' | 'illegal' | 'eof';

/** One token with its text, position and the whitespace before it. */
export interface Token {
  readonly kind: TokenKind;
  /** Exact source text of the token. */
  readonly text: string;
  /** For strings: the decoded value. */
  readonly value: string;
  /** For strings: written with backticks. */
  readonly raw: boolean;
  readonly offset: number;
  readonly line: number;
  readonly col: number;
  /** Offset just past the token, and the line/column there. */
  readonly end: number;
  readonly endLine: number;
  readonly endCol: number;
  /** Whitespace or a comment separates this token from the previous one. */
  readonly spaceBefore: boolean;
  /** A line break separates this token from the previous one. */
  readonly newlineBefore: boolean;
}

/** The tokens (ending with `eof`), the comments and the lexical errors of one text. */
export interface LexResult {
  readonly tokens: readonly Token[];
  readonly comments: readonly Comment[];
  readonly diagnostics: readonly Diagnostic[];
}

/** Operators and punctuation, longest first so that `:=` wins over `:`. */
const PUNCTUATION = [
  ':=',
  '==',
  '!=',
  '<=',
  '>=',
  '=',
  '<',
  '>',
  '+',
  '-',
  '*',
  '/',
  '%',
  '&',
  '|',
  ':',
  ';',
  ',',
  '.',
  '[',
  ']',
  '{',
  '}',
  '(',
  ')',
] as const;

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

function isAsciiLetter(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

const UNICODE_LETTER = /\p{L}/u;
const UNICODE_DIGIT = /\p{Nd}/u;

function isLetterAt(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c < 128) return isAsciiLetter(c);
  return UNICODE_LETTER.test(String.fromCodePoint(text.codePointAt(i) ?? 0));
}

function isIdentPartAt(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c < 128) return isAsciiLetter(c) || isDigit(c);
  const ch = String.fromCodePoint(text.codePointAt(i) ?? 0);
  return UNICODE_LETTER.test(ch) || UNICODE_DIGIT.test(ch);
}

/** Width in UTF-16 units of the code point at `i` (2 for astral characters). */
function charWidth(text: string, i: number): number {
  const c = text.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff && i + 1 < text.length ? 2 : 1;
}

/** Replaces unpaired surrogates by U+FFFD, as a JSON decoder does. */
function fixSurrogates(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += s.slice(i, i + 2);
        i++;
        continue;
      }
      out += '\uFFFD';
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      out += '\uFFFD';
    } else {
      out += s.charAt(i);
    }
  }
  return out;
}

class Lexer {
  private i = 0;
  private line = 1;
  private lineStart = 0;
  private readonly tokens: Token[] = [];
  private readonly comments: Comment[] = [];
  private readonly diagnostics: Diagnostic[] = [];
  private spaceBefore = false;
  private newlineBefore = false;
  /** Where the token being scanned starts (raw strings may span lines). */
  private tokenStartLine = 1;
  private tokenStartCol = 1;

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {}

  run(): LexResult {
    if (this.text.charCodeAt(0) === 0xfeff) this.i = 1; // byte-order mark
    for (;;) {
      this.skipSpaceAndComments();
      if (this.i >= this.text.length) break;
      this.scanToken();
    }
    this.tokenStartLine = this.line;
    this.tokenStartCol = this.i - this.lineStart + 1;
    this.push('eof', this.i, '', false);
    return { tokens: this.tokens, comments: this.comments, diagnostics: this.diagnostics };
  }

  /** Position of `offset`, which must lie on the current line. */
  private position(offset: number): Position {
    return { file: this.file, line: this.line, col: offset - this.lineStart + 1, offset };
  }

  private error(message: string, offset: number, token: string): void {
    this.diagnostics.push({
      code: 'rego_parse_error',
      message,
      position: positionAt(this.file, this.text, offset),
      token,
    });
  }

  /** Advances over one character, keeping line bookkeeping right. */
  private step(): void {
    if (this.text.charCodeAt(this.i) === 10) {
      this.line++;
      this.lineStart = this.i + 1;
    }
    this.i++;
  }

  private skipSpaceAndComments(): void {
    const text = this.text;
    while (this.i < text.length) {
      const c = text.charCodeAt(this.i);
      if (c === 32 || c === 9 || c === 13) {
        this.spaceBefore = true;
        this.i++;
      } else if (c === 10) {
        this.spaceBefore = true;
        this.newlineBefore = true;
        this.step();
      } else if (c === 35) {
        const start = this.i;
        let end = text.indexOf('\n', start);
        if (end < 0) end = text.length;
        let body = text.slice(start + 1, end);
        while (body.endsWith('\r')) body = body.slice(0, -1);
        this.comments.push({ loc: this.position(start), text: body });
        this.i = end;
        this.spaceBefore = true;
      } else {
        return;
      }
    }
  }

  private push(kind: TokenKind, start: number, value: string, raw: boolean): void {
    this.tokens.push({
      kind,
      text: this.text.slice(start, this.i),
      value,
      raw,
      offset: start,
      line: this.tokenStartLine,
      col: this.tokenStartCol,
      end: this.i,
      endLine: this.line,
      endCol: this.i - this.lineStart + 1,
      spaceBefore: this.spaceBefore,
      newlineBefore: this.newlineBefore,
    });
    this.spaceBefore = false;
    this.newlineBefore = false;
  }

  private scanToken(): void {
    const text = this.text;
    const start = this.i;
    this.tokenStartLine = this.line;
    this.tokenStartCol = start - this.lineStart + 1;
    const c = text.charCodeAt(start);

    if (isLetterAt(text, start)) {
      this.i += charWidth(text, start);
      while (this.i < text.length && isIdentPartAt(text, this.i)) this.i += charWidth(text, this.i);
      this.push('ident', start, '', false);
      return;
    }
    if (isDigit(c)) {
      this.scanNumber(start);
      return;
    }
    if (c === 34) {
      this.scanString(start);
      return;
    }
    if (c === 96) {
      this.scanRawString(start);
      return;
    }
    for (const p of PUNCTUATION) {
      if (text.startsWith(p, start)) {
        this.i += p.length;
        this.push('punct', start, '', false);
        return;
      }
    }
    // Anything else is illegal; one diagnostic covers a run of such characters.
    while (this.i < text.length && this.isIllegalStart(this.i)) this.i += charWidth(text, this.i);
    const bad = text.slice(start, this.i);
    this.error(`illegal character ${JSON.stringify(bad)}`, start, bad);
    this.push('illegal', start, '', false);
  }

  private isIllegalStart(i: number): boolean {
    const text = this.text;
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 35 || c === 34 || c === 96) {
      return false;
    }
    if (isLetterAt(text, i) || isDigit(c)) return false;
    return !PUNCTUATION.some((p) => text.startsWith(p, i));
  }

  private scanNumber(start: number): void {
    const text = this.text;
    while (isDigit(text.charCodeAt(this.i))) this.i++;
    let bad: string | undefined;
    if (text.charCodeAt(this.i) === 46) {
      this.i++;
      const fractionStart = this.i;
      while (isDigit(text.charCodeAt(this.i))) this.i++;
      if (this.i === fractionStart) bad = 'expected fraction digits after "."';
    }
    const e = text.charCodeAt(this.i);
    if (bad === undefined && (e === 101 || e === 69)) {
      this.i++;
      const sign = text.charCodeAt(this.i);
      if (sign === 43 || sign === 45) this.i++;
      const expStart = this.i;
      while (isDigit(text.charCodeAt(this.i))) this.i++;
      if (this.i === expStart) bad = 'expected exponent digits';
    }
    if (bad === undefined && this.i < text.length && isLetterAt(text, this.i)) {
      bad = 'illegal number format';
      while (this.i < text.length && isIdentPartAt(text, this.i)) this.i += charWidth(text, this.i);
    }
    if (bad !== undefined) {
      const lexeme = text.slice(start, this.i);
      this.error(`${bad} in number ${lexeme}`, start, lexeme);
      this.push('illegal', start, '', false);
      return;
    }
    this.push('number', start, '', false);
  }

  private scanString(start: number): void {
    const text = this.text;
    this.i++; // opening quote
    let value = '';
    let problem: { message: string; offset: number; token: string } | undefined;
    for (;;) {
      if (this.i >= text.length || text.charCodeAt(this.i) === 10) {
        const lexeme = text.slice(start, this.i);
        this.error('non-terminated string: add the closing "', start, lexeme);
        this.push('illegal', start, '', false);
        return;
      }
      const ch = text.charAt(this.i);
      if (ch === '"') {
        this.i++;
        break;
      }
      if (ch !== '\\') {
        value += ch;
        this.i++;
        continue;
      }
      const esc = text.charAt(this.i + 1);
      const simple = SIMPLE_ESCAPES[esc];
      if (simple !== undefined) {
        value += simple;
        this.i += 2;
      } else if (esc === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(this.i + 2, this.i + 6))) {
        value += String.fromCharCode(parseInt(text.slice(this.i + 2, this.i + 6), 16));
        this.i += 6;
      } else {
        const seq = esc === 'u' ? text.slice(this.i, this.i + 6) : text.slice(this.i, this.i + 2);
        problem ??= {
          message: `illegal escape sequence ${JSON.stringify(seq)} in string: use one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX`,
          offset: this.i,
          token: seq,
        };
        this.i += esc === '' || esc === '\n' ? 1 : 2;
      }
    }
    if (problem) {
      this.error(problem.message, problem.offset, problem.token);
      this.push('illegal', start, '', false);
      return;
    }
    this.push('string', start, fixSurrogates(value), false);
  }

  private scanRawString(start: number): void {
    const text = this.text;
    const close = text.indexOf('`', start + 1);
    if (close < 0) {
      while (this.i < text.length) this.step();
      this.error('non-terminated raw string: add the closing `', start, '`');
      this.push('illegal', start, '', false);
      return;
    }
    this.i++;
    while (this.i < close) this.step();
    this.i++; // closing backtick
    this.push('string', start, text.slice(start + 1, close), true);
  }
}

/** Tokenizes `text`; `file` is used in positions. Never throws. */
export function lex(text: string, file = ''): LexResult {
  return new Lexer(text, file).run();
}
