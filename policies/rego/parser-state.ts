/**
 * The parser's cursor over the token list: lookahead, diagnostics, backtracking marks,
 * wildcard numbering and the nesting guard. The term and module parsers build on it.
 *
 * Backtracking: Rego needs a little speculation (`{ x }` is a set or a body, `a, b in c` may
 * or may not be a key-value membership). `mark()`/`reset()` restore the cursor, the
 * diagnostics and the wildcard counter, so an abandoned attempt leaves no trace.
 */
import type { Diagnostic, Position } from '../diagnostic';
import type { Token } from './lexer';

/** Words that can never be variable names in Rego v1 (`contains` is handled by context). */
const RESERVED = new Set([
  'as',
  'default',
  'else',
  'every',
  'false',
  'if',
  'import',
  'in',
  'not',
  'null',
  'package',
  'some',
  'true',
  'with',
]);

/** Deepest nesting of terms and bodies the parser accepts; keeps recursion far from the stack limit. */
export const MAX_NESTING = 250;

/** A saved parser position to backtrack to; see `mark()` and `reset()`. */
export interface Mark {
  readonly pos: number;
  readonly diagnostics: number;
  readonly wildcard: number;
}

/** The cursor the term and module parsers share; see the file comment. */
export class ParserState {
  protected pos = 0;
  protected readonly diagnostics: Diagnostic[] = [];
  protected wildcard = 0;
  private depth = 0;
  /** Parsing work done so far (nested parses entered); tests bound it by the token count. */
  steps = 0;
  /** Keywords enabled by imports on top of Rego v1's (`and`, `or`). */
  protected readonly extraKeywords = new Set<string>();

  constructor(
    protected readonly tokens: readonly Token[],
    protected readonly file: string,
  ) {}

  protected get tok(): Token {
    return this.at(this.pos);
  }

  protected at(index: number): Token {
    const tokens = this.tokens;
    return tokens[Math.min(index, tokens.length - 1)] as Token;
  }

  protected peek(n = 1): Token {
    return this.at(this.pos + n);
  }

  protected advance(): Token {
    const t = this.tok;
    if (t.kind !== 'eof') this.pos++;
    return t;
  }

  protected isPunct(text: string, t: Token = this.tok): boolean {
    return t.kind === 'punct' && t.text === text;
  }

  /** True when `t` is the keyword `word` (not a plain identifier that happens to match). */
  protected isKeyword(word: string, t: Token = this.tok): boolean {
    return t.kind === 'ident' && t.text === word && this.isReserved(word);
  }

  protected isReserved(word: string): boolean {
    return RESERVED.has(word) || this.extraKeywords.has(word);
  }

  /** An identifier usable as a variable (`contains` included: it is also a builtin's name). */
  protected isVarToken(t: Token = this.tok): boolean {
    return t.kind === 'ident' && !this.isReserved(t.text);
  }

  /** The token after `t` touches it (no whitespace or comment in between). */
  protected touchesNext(index = this.pos): boolean {
    const next = this.at(index + 1);
    return next.kind !== 'eof' && !next.spaceBefore;
  }

  /** A keyword directly followed by `.` or `[` is the head of a ref (`input.if` style names). */
  protected keywordStartsRef(index = this.pos): boolean {
    const t = this.at(index);
    if (t.kind !== 'ident' || !this.isReserved(t.text)) return false;
    if (t.text === 'true' || t.text === 'false' || t.text === 'null') return false;
    const next = this.at(index + 1);
    return !next.spaceBefore && next.kind === 'punct' && (next.text === '.' || next.text === '[');
  }

  protected position(t: Token = this.tok): Position {
    return { file: this.file, line: t.line, col: t.col, offset: t.offset };
  }

  protected endOf(t: Token): Position {
    return { file: this.file, line: t.endLine, col: t.endCol, offset: t.end };
  }

  /** End of the last consumed token. */
  protected lastEnd(): Position {
    return this.endOf(this.at(this.pos - 1));
  }

  protected mark(): Mark {
    return { pos: this.pos, diagnostics: this.diagnostics.length, wildcard: this.wildcard };
  }

  protected reset(m: Mark): void {
    this.pos = m.pos;
    this.diagnostics.length = m.diagnostics;
    this.wildcard = m.wildcard;
  }

  /** How a token is named in messages. */
  protected describe(t: Token): string {
    switch (t.kind) {
      case 'eof':
        return 'end of file';
      case 'ident':
        return this.isReserved(t.text) ? `keyword ${t.text}` : `name ${t.text}`;
      case 'number':
        return `number ${t.text}`;
      case 'string':
        return t.raw ? 'raw string' : `string ${t.text}`;
      default:
        return `token ${t.text}`;
    }
  }

  /**
   * Records a syntax error at `t` and returns undefined, so callers can `return this.fail(...)`.
   * An `illegal` token already carries the lexer's diagnostic, so nothing is added for it.
   */
  protected fail(message: string, t: Token = this.tok, at?: Position): undefined {
    if (t.kind === 'illegal') return undefined;
    this.diagnostics.push({
      code: 'rego_parse_error',
      message,
      position: at ?? this.position(t),
      token: t.kind === 'eof' ? '' : t.text,
    });
    return undefined;
  }

  /** `unexpected <token>: <what was expected>`. */
  protected unexpected(expected?: string, t: Token = this.tok): undefined {
    const what = `unexpected ${this.describe(t)}`;
    this.fail(expected === undefined ? what : `${what}: ${expected}`, t);
  }

  protected wildcardName(): string {
    return `$_${this.wildcard++}`;
  }

  /** Enters one level of nesting; false (with a diagnostic) when the input nests too deeply. */
  protected enter(): boolean {
    this.steps++;
    if (this.depth >= MAX_NESTING) {
      this.fail(`expression nested more than ${MAX_NESTING} levels deep: split it into rules`);
      return false;
    }
    this.depth++;
    return true;
  }

  protected leave(): void {
    this.depth--;
  }
}
