/**
 * Rego v1 parser: modules (package, imports, rules), queries and single terms.
 *
 * Public API — none of these functions throws, whatever the input:
 * - `parseModule(text, file)` → `{ module?, diagnostics }`: `module` is present exactly when
 *   `diagnostics` is empty. Each diagnostic has code `rego_parse_error`, a `file:line:col`
 *   position, a message saying what was expected and the offending token's text. After an error
 *   the parser skips to the next line that starts in column 1 and goes on, so one run reports
 *   the errors of several rules.
 * - `parseQuery(text, file?)` → `{ query?, diagnostics }`: a body such as `data.test.p = x`,
 *   literals separated by `;` or new lines.
 * - `parseTerm(text, file?)` → `{ term?, diagnostics }`: one term, such as an `input_term`.
 *
 * Each `_` becomes a distinct variable `$_N` (N counts per parse) so that later stages see
 * unrelated variables; the formatter prints them back as `_`.
 */
import type { Diagnostic, Position } from '../diagnostic';
import type {
  Annotation,
  Body,
  ElseClause,
  Import,
  Module,
  Package,
  Query,
  RefTerm,
  Rule,
  RuleHead,
  Term,
} from './ast';
import { attachAnnotations, type AnnotationTarget } from './annotations';
import { lex, type Token } from './lexer';
import { TermParser } from './parser-terms';

/** What `parseModule` gives: the module, present exactly when `diagnostics` is empty. */
export interface ModuleParseResult {
  readonly module?: Module;
  readonly diagnostics: Diagnostic[];
}

/** What `parseQuery` gives: the body, present exactly when `diagnostics` is empty. */
export interface QueryParseResult {
  readonly query?: Query;
  readonly diagnostics: Diagnostic[];
}

/** What `parseTerm` gives: the term, present exactly when `diagnostics` is empty. */
export interface TermParseResult {
  readonly term?: Term;
  readonly diagnostics: Diagnostic[];
}

/** More errors than this in one file are summarized: the rest are usually follow-ups. */
const MAX_DIAGNOSTICS = 100;

const IMPORT_ROOTS = ['data', 'input', 'future', 'rego'];
const FUTURE_KEYWORDS = ['contains', 'every', 'if', 'in', 'not', 'and', 'or'];

type Statement =
  | { readonly kind: 'package'; readonly node: Package }
  | { readonly kind: 'import'; readonly node: Import }
  | { readonly kind: 'rule'; readonly node: Rule };

/** A rule head before the keywords after it are read. */
interface HeadParts {
  readonly ref: readonly Term[];
  readonly args?: readonly Term[];
  readonly loc: Position;
}

/** True when the term has no variables, refs or calls (comprehensions count as not ground). */
function isGround(t: Term): boolean {
  switch (t.type) {
    case 'null':
    case 'boolean':
    case 'number':
    case 'string':
      return true;
    case 'array':
    case 'set':
      return t.items.every(isGround);
    case 'object':
      return t.entries.every(([k, v]) => isGround(k) && isGround(v));
    default:
      return false;
  }
}

/** Does the term contain a variable, ref or call outside of comprehensions? */
function findNonConstant(t: Term): string | undefined {
  switch (t.type) {
    case 'var':
      return 'a variable';
    case 'ref':
      return 'a reference';
    case 'call':
      return 'a function call';
    case 'array':
    case 'set':
      for (const item of t.items) {
        const found = findNonConstant(item);
        if (found) return found;
      }
      return undefined;
    case 'object':
      for (const [k, v] of t.entries) {
        const found = findNonConstant(k) ?? findNonConstant(v);
        if (found) return found;
      }
      return undefined;
    default:
      return undefined;
  }
}

class ModuleParser extends TermParser {
  private readonly statements: Statement[] = [];

  // -------------------------------------------------------------------------------------------
  // Entry points

  parseModule(comments: Module['comments']): ModuleParseResult {
    while (this.tok.kind !== 'eof' && this.diagnostics.length < MAX_DIAGNOSTICS) {
      const start = this.pos;
      const before = this.diagnostics.length;
      if (!this.parseStatement()) {
        if (this.diagnostics.length === before) this.unexpected();
        this.recover(start, before);
      }
    }
    if (this.diagnostics.length >= MAX_DIAGNOSTICS) {
      this.fail(`too many errors (${MAX_DIAGNOSTICS}): fix these and run again`);
    }
    this.checkPackageFirst();

    const targets: AnnotationTarget[] = this.statements.map((s) => ({
      kind: s.kind,
      loc: s.node.loc,
      ...(s.node.end ? { end: s.node.end } : {}),
    }));
    const annotations = attachAnnotations(comments, targets);
    this.diagnostics.push(...annotations.diagnostics);
    if (this.diagnostics.length > 0) return { diagnostics: this.diagnostics };

    const annotated = (i: number): readonly Annotation[] => annotations.byTarget.get(i) ?? [];
    let pkg: Package | undefined;
    const imports: Import[] = [];
    const rules: Rule[] = [];
    this.statements.forEach((s, i) => {
      if (s.kind === 'package') pkg = { ...s.node, annotations: annotated(i) };
      else if (s.kind === 'import') imports.push(s.node);
      else rules.push(annotated(i).length > 0 ? { ...s.node, annotations: annotated(i) } : s.node);
    });
    if (!pkg) return { diagnostics: this.diagnostics }; // reported by checkPackageFirst
    return {
      module: {
        file: this.file,
        package: pkg,
        imports,
        rules,
        comments,
        loc: { file: this.file, line: 1, col: 1, offset: 0 },
        end: this.endOf(this.tok),
      },
      diagnostics: [],
    };
  }

  parseQueryBody(): QueryParseResult {
    const start = this.tok;
    if (start.kind === 'eof') {
      this.fail('empty query: write an expression such as data.authz.allow');
      return { diagnostics: this.diagnostics };
    }
    const body = this.parseBody('eof');
    if (!body || this.diagnostics.length > 0) {
      if (this.diagnostics.length === 0) this.unexpected();
      return { diagnostics: this.diagnostics };
    }
    return { query: { body, loc: this.position(start), end: this.lastEnd() }, diagnostics: [] };
  }

  parseSingleTerm(): TermParseResult {
    const term = this.parseTermExpr();
    if (term && this.tok.kind !== 'eof') this.unexpected('expected the end of the term');
    if (!term || this.diagnostics.length > 0) {
      if (this.diagnostics.length === 0) this.unexpected();
      return { diagnostics: this.diagnostics };
    }
    return { term, diagnostics: [] };
  }

  /** Skips past a statement that failed to parse: to the next line starting with a word in column 1. */
  private recover(start: number, firstError: number): void {
    const error = this.diagnostics[firstError];
    const errorIndex = error?.position ? this.tokenIndexAt(error.position.offset) : start;
    this.pos = Math.max(start + 1, errorIndex);
    const startsStatement = (t: Token): boolean =>
      t.newlineBefore && t.col === 1 && t.kind === 'ident';
    while (this.tok.kind !== 'eof' && !startsStatement(this.tok)) this.advance();
    // Only the first error of a statement is reliable; the rest are follow-ups.
    this.diagnostics.length = Math.min(this.diagnostics.length, firstError + 1);
  }

  private tokenIndexAt(offset: number): number {
    let lo = 0;
    let hi = this.tokens.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.at(mid).offset < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private checkPackageFirst(): void {
    const first = this.statements[0];
    if (!first) {
      if (this.diagnostics.length === 0) {
        this.fail('empty module: start the file with a package declaration, like `package authz`');
      }
      return undefined;
    }
    if (first.kind !== 'package') {
      this.diagnostics.push({
        code: 'rego_parse_error',
        message:
          'package expected: start the file with a package declaration, like `package authz`',
        position: first.node.loc,
        token: '',
      });
    }
    for (const s of this.statements.slice(1)) {
      if (s.kind === 'package') {
        this.diagnostics.push({
          code: 'rego_parse_error',
          message: 'unexpected package: a file declares one package, at its top',
          position: s.node.loc,
          token: 'package',
        });
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Statements

  private parseStatement(): boolean {
    if (this.isKeyword('package') && !this.keywordStartsRef()) {
      const pkg = this.parsePackage();
      if (pkg) this.statements.push({ kind: 'package', node: pkg });
      return pkg !== undefined;
    }
    if (this.isKeyword('import') && !this.keywordStartsRef()) {
      const imp = this.parseImport();
      if (imp) this.statements.push({ kind: 'import', node: imp });
      return imp !== undefined;
    }
    const rules = this.parseRule();
    for (const node of rules ?? []) this.statements.push({ kind: 'rule', node });
    return rules !== undefined;
  }

  /** A dotted path whose first part may be any word (`package a.b`, `import future.keywords.in`). */
  private parsePath(what: string, example: string): RefTerm | undefined {
    const first = this.tok;
    if (first.kind !== 'ident') {
      this.unexpected(`expected ${what}, like \`${example}\``);
      return undefined;
    }
    this.advance();
    const term = this.parsePostfix({
      type: 'var',
      name: first.text,
      loc: this.position(first),
      end: this.endOf(first),
    });
    if (!term) return undefined;
    const ref: RefTerm =
      term.type === 'ref'
        ? term
        : { type: 'ref', head: term, path: [], loc: term.loc, end: term.end };
    if (ref.head.type !== 'var') {
      this.fail(`${what} must start with a name`, first);
      return undefined;
    }
    const bad = ref.path.find((p) => p.type !== 'string');
    if (bad) {
      this.fail(`${what} must be made of names or strings, like a.b["c-d"]`, first, bad.loc);
      return undefined;
    }
    return ref;
  }

  private parsePackage(): Package | undefined {
    const pkgTok = this.advance();
    const ref = this.parsePath('a package path', 'package authz.rbac');
    if (!ref) return undefined;
    const path = [
      ref.head.type === 'var' ? ref.head.name : '',
      ...ref.path.map((p) => (p.type === 'string' ? p.value : '')),
    ];
    return { path, annotations: [], loc: this.position(pkgTok), end: this.lastEnd() };
  }

  private parseImport(): Import | undefined {
    const importTok = this.advance();
    const path = this.parsePath('an import path', 'import data.roles');
    if (!path) return undefined;
    const root = path.head.type === 'var' ? path.head.name : '';
    const parts = path.path.map((p) => (p.type === 'string' ? p.value : ''));
    if (!IMPORT_ROOTS.includes(root)) {
      this.fail(
        `unexpected import path: it must begin with data, input, future or rego, got ${root}`,
        importTok,
        path.loc,
      );
      return undefined;
    }
    let alias: string | undefined;
    if (this.isKeyword('as')) {
      this.advance();
      if (!this.isVarToken()) {
        this.unexpected('expected an alias name after `as`');
        return undefined;
      }
      alias = this.advance().text;
    }
    const imp: Import = {
      path,
      ...(alias !== undefined ? { alias } : {}),
      loc: this.position(importTok),
      end: this.lastEnd(),
    };
    if (root === 'future') return this.futureImport(imp, parts, alias);
    if (root === 'rego') return this.regoImport(imp, parts);
    const last = parts.length > 0 ? (parts[parts.length - 1] ?? '') : root;
    if (alias === undefined && this.isReserved(last)) {
      this.fail(
        `import path must not end with the keyword ${last}: add an alias with \`as\``,
        importTok,
        path.loc,
      );
      return undefined;
    }
    return imp;
  }

  private futureImport(imp: Import, parts: string[], alias?: string): Import | undefined {
    const [keywords, keyword, ...rest] = parts;
    if (keywords !== 'keywords') {
      this.fail('invalid import: must be `future.keywords`', this.tok, imp.path.loc);
      return undefined;
    }
    if (alias !== undefined) {
      this.fail('`future` imports cannot be aliased', this.tok, imp.path.loc);
      return undefined;
    }
    if (rest.length > 0 || (keyword !== undefined && !FUTURE_KEYWORDS.includes(keyword))) {
      this.fail(
        `invalid future keyword import: must be one of ${FUTURE_KEYWORDS.map((k) => `future.keywords.${k}`).join(', ')}`,
        this.tok,
        imp.path.loc,
      );
      return undefined;
    }
    // `in`, `every`, `if` and `contains` are Rego v1 keywords already.
    if (keyword === 'not') this.notBodies = true;
    if (keyword === 'and' || keyword === 'or') this.extraKeywords.add(keyword);
    return imp;
  }

  private regoImport(imp: Import, parts: string[]): Import | undefined {
    const version = parts.length === 1 ? parts[0] : undefined;
    if (version !== 'v1' && version !== 'v2') {
      this.fail('invalid import: must be `rego.v1` or `rego.v2`', this.tok, imp.path.loc);
      return undefined;
    }
    if (version === 'v2') {
      // Rego v2's language: `not` bodies and the `and`/`or` keywords.
      this.notBodies = true;
      this.extraKeywords.add('and');
      this.extraKeywords.add('or');
    }
    return imp;
  }

  // -------------------------------------------------------------------------------------------
  // Rules

  private parseHeadParts(): HeadParts | undefined {
    const nameTok = this.tok;
    if (!this.isVarToken() && !this.keywordStartsRef()) {
      this.unexpected('expected a rule, an import or the package declaration');
      return undefined;
    }
    this.advance();
    const term = this.parsePostfix(this.makeVar(nameTok));
    if (!term) return undefined;
    const loc = this.position(nameTok);
    const invalid = (): undefined => {
      this.fail('a rule head must be a name, a ref like a.b[c] or a function like f(x)', nameTok);
    };
    switch (term.type) {
      case 'var':
        return { ref: [term], loc };
      case 'ref':
        if (term.head.type === 'var') return { ref: [term.head, ...term.path], loc };
        invalid();
        return undefined;
      case 'call': {
        const op = term.operator;
        if (op.head.type !== 'var') {
          invalid();
          return undefined;
        }
        return { ref: [op.head, ...op.path], args: term.args, loc };
      }
      default: {
        invalid();
        return undefined;
      }
    }
  }

  /** `default p := value`, with the checks OPA applies to defaults. */
  private finishDefault(start: Token, parts: HeadParts): Rule[] | undefined {
    const assignTok = this.tok;
    if (!this.isPunct(':=') && !this.isPunct('=')) {
      this.fail('a default rule needs a value, like `default allow := false`', start);
      return undefined;
    }
    this.advance();
    const value = this.parseTermExpr();
    if (!value) return undefined;
    const nonConstant = findNonConstant(value);
    if (nonConstant) {
      this.fail(`a default value cannot contain ${nonConstant}: use a constant`, start, value.loc);
      return undefined;
    }
    const seen = new Set<string>();
    for (const arg of parts.args ?? []) {
      if (arg.type !== 'var') {
        this.fail(
          'default function arguments must be variables, like `default f(_) := 0`',
          start,
          arg.loc,
        );
        return undefined;
      }
      if (!arg.name.startsWith('$_') && seen.has(arg.name)) {
        this.fail(`default function argument ${arg.name} is repeated`, start, arg.loc);
        return undefined;
      }
      seen.add(arg.name);
    }
    const head: RuleHead = {
      ref: parts.ref,
      ...(parts.args ? { args: parts.args } : {}),
      value,
      assign: assignTok.text === ':=',
      loc: parts.loc,
      end: this.lastEnd(),
    };
    return [
      {
        default: true,
        head,
        body: [],
        ifKeyword: false,
        else: [],
        annotations: [],
        loc: this.position(start),
        end: this.lastEnd(),
      },
    ];
  }

  private parseRule(): Rule[] | undefined {
    const start = this.tok;
    const isDefault = this.isKeyword('default') && !this.keywordStartsRef();
    if (isDefault) this.advance();
    const headStart = this.mark();
    const parts = this.parseHeadParts();
    if (!parts) return undefined;
    const first = parts.ref[0];
    if (first?.type === 'var' && this.isReserved(first.name)) {
      this.fail(`the keyword ${first.name} cannot be used as a rule name`, start, first.loc);
    }
    if (isDefault) return this.finishDefault(start, parts);

    const head = this.parseHeadTail(parts);
    if (!head) return undefined;
    const hasIf = this.isKeyword('if');
    const bodyStart = this.tok;
    const body = this.parseRuleBody(head);
    if (body === undefined) return undefined;

    const isFunction = head.args !== undefined;
    if (body.length > 0 && !hasIf) {
      this.fail(
        `\`if\` keyword is required before ${isFunction ? 'function' : 'rule'} body: write \`${isFunction ? 'f(x)' : 'p'} if { ... }\``,
        start,
        this.position(bodyStart),
      );
      if (!isFunction && head.ref.length === 2 && head.value === undefined && !head.key) {
        this.fail(
          '`contains` keyword is required for partial set rules: write `p contains x if { ... }`',
          start,
          this.position(start),
        );
      }
    }
    const elses = body.length > 0 ? this.parseElses(head) : [];
    if (!elses) return undefined;
    const rule: Rule = {
      default: false,
      head,
      body,
      ifKeyword: hasIf,
      else: elses,
      annotations: [],
      loc: this.position(start),
      end: this.lastEnd(),
    };
    const rules = [rule];
    if (body.length > 0) {
      // `p if { a } { b }` defines p twice, once per body.
      while (this.isPunct('{')) {
        if (elses.length > 0) {
          this.unexpected('expected `else`');
          return undefined;
        }
        const extra = this.parseExtraBody(headStart, rule);
        if (!extra) return undefined;
        rules.push(extra);
      }
    }
    return rules;
  }

  /** `contains key`, `:= value` or `= value` after the head's ref or arguments. */
  private parseHeadTail(parts: HeadParts): RuleHead | undefined {
    const base = { ref: parts.ref, ...(parts.args ? { args: parts.args } : {}), loc: parts.loc };
    if (this.tok.kind === 'ident' && this.tok.text === 'contains') {
      if (parts.args) {
        this.fail('`contains` cannot be used with a function: write `f(x) := value if { ... }`');
        return undefined;
      }
      this.advance();
      const key = this.parseTermExpr();
      if (!key) return undefined;
      return { ...base, key, assign: false, end: this.lastEnd() };
    }
    if (this.isPunct(':=') || this.isPunct('=')) {
      const assign = this.advance().text === ':=';
      const value = this.parseTermExpr();
      if (!value) return undefined;
      return { ...base, value, assign, end: this.lastEnd() };
    }
    return { ...base, assign: false, end: this.lastEnd() };
  }

  /** The rule's body: `if { ... }`, `if <literal>`, `{ ... }`, or none (returns []). */
  private parseRuleBody(head: RuleHead): Body | undefined {
    if (this.isKeyword('if')) {
      this.advance();
      if (this.isPunct('{')) {
        // `if {...}` is a body unless it reads as one literal that is not a set: `p if {} == x`.
        const m = this.mark();
        const literal = this.parseLiteral();
        const isSet = literal?.expr.type === 'term' && literal.expr.term.type === 'set';
        if (literal && !isSet) return [literal];
        this.reset(m);
        return this.parseBracedBody();
      }
      if (this.tok.kind === 'eof') {
        this.unexpected('expected a body after `if`');
        return undefined;
      }
      const literal = this.parseLiteral();
      return literal && [literal];
    }
    if (this.isPunct('{')) return this.parseBracedBody();
    if (head.key || head.value) return [];
    const kind = head.args ? 'function' : 'rule';
    this.fail(
      `${kind} must have a value assignment and/or a body: write \`:= <value>\` or \`if { ... }\``,
      this.tok,
      head.loc,
    );
    return undefined;
  }

  private parseBracedBody(): Body | undefined {
    this.advance(); // {
    const body = this.parseBody('}');
    if (!body) return undefined;
    this.advance();
    return body;
  }

  private parseElses(head: RuleHead): ElseClause[] | undefined {
    const elses: ElseClause[] = [];
    if (!this.isKeyword('else') || this.keywordStartsRef()) return elses;
    if (!head.ref.slice(1).every(isGround)) {
      this.fail('`else` cannot be used on rules with variables in the head');
      return undefined;
    }
    if (head.key) {
      this.fail('`else` cannot be used on multi-value (`contains`) rules');
      return undefined;
    }
    while (this.isKeyword('else')) {
      const elseTok = this.advance();
      let value: Term | undefined;
      let assign = false;
      if (this.isPunct(':=') || this.isPunct('=')) {
        assign = this.advance().text === ':=';
        value = this.parseTermExpr();
        if (!value) return undefined;
      } else if (!this.isPunct('{') && !this.isKeyword('if')) {
        this.unexpected('expected `:=`, `=`, `if` or "{" after `else`');
        return undefined;
      }
      let body: Body = [];
      const hasIf = this.isKeyword('if');
      if (hasIf) this.advance();
      if (this.isPunct('{')) {
        const braced = this.parseBracedBody();
        if (!braced) return undefined;
        body = braced;
      } else if (hasIf) {
        if (this.tok.kind === 'eof') {
          this.unexpected('expected a body after `if`');
          return undefined;
        }
        const literal = this.parseLiteral();
        if (!literal) return undefined;
        body = [literal];
      }
      elses.push({
        ...(value ? { value } : {}),
        assign,
        body,
        loc: this.position(elseTok),
        end: this.lastEnd(),
      });
    }
    return elses;
  }

  /** Another body for the same head: the head is read again so its `_`s get fresh names. */
  private parseExtraBody(
    headStart: ReturnType<ModuleParser['mark']>,
    rule: Rule,
  ): Rule | undefined {
    const bodyTok = this.tok;
    const resume = this.pos;
    this.pos = headStart.pos;
    const parts = this.parseHeadParts();
    const head = parts && this.parseHeadTail(parts);
    this.pos = resume;
    if (!head) return undefined;
    const body = this.parseBracedBody();
    if (!body) return undefined;
    return {
      ...rule,
      head,
      body,
      else: [],
      loc: this.position(bodyTok),
      end: this.lastEnd(),
    };
  }
}

/** Runs `work`, turning a stack overflow (absurdly deep input) into a diagnostic. */
function guarded<T extends { readonly diagnostics: Diagnostic[] }>(
  file: string,
  work: () => T,
): T | { readonly diagnostics: Diagnostic[] } {
  try {
    return work();
  } catch (err: unknown) {
    if (err instanceof RangeError) {
      return {
        diagnostics: [
          {
            code: 'rego_parse_error',
            message: 'input is nested too deeply to parse: split it into smaller rules',
            position: { file, line: 1, col: 1, offset: 0 },
          },
        ],
      };
    }
    throw err;
  }
}

function withLexerErrors(
  lexed: ReturnType<typeof lex>,
  diagnostics: readonly Diagnostic[],
): Diagnostic[] {
  const all = [...lexed.diagnostics, ...diagnostics];
  return all.sort((a, b) => (a.position?.offset ?? 0) - (b.position?.offset ?? 0));
}

/** Parses one Rego module; never throws (see the file comment for what errors look like). */
export function parseModule(text: string, file = ''): ModuleParseResult {
  return guarded(file, () => {
    const lexed = lex(text, file);
    const result = new ModuleParser(lexed.tokens, file).parseModule(lexed.comments);
    if (lexed.diagnostics.length === 0) return result;
    return { diagnostics: withLexerErrors(lexed, result.diagnostics) };
  });
}

/**
 * Parses a module and reports the work it took: `steps` counts nested parses entered, `tokens`
 * the input's tokens. Used by tests to check that parsing stays proportional to the input.
 */
export function measureParse(text: string): { steps: number; tokens: number } {
  const lexed = lex(text);
  const parser = new ModuleParser(lexed.tokens, '');
  guarded('', () => parser.parseModule(lexed.comments));
  return { steps: parser.steps, tokens: lexed.tokens.length };
}

/** Parses a query body (`data.test.p = x`, literals split by `;` or new lines); never throws. */
export function parseQuery(text: string, file = ''): QueryParseResult {
  return guarded(file, () => {
    const lexed = lex(text, file);
    const result = new ModuleParser(lexed.tokens, file).parseQueryBody();
    if (lexed.diagnostics.length === 0) return result;
    return { diagnostics: withLexerErrors(lexed, result.diagnostics) };
  });
}

/** Parses a single term, such as an `input_term`; never throws. */
export function parseTerm(text: string, file = ''): TermParseResult {
  return guarded(file, () => {
    const lexed = lex(text, file);
    const result = new ModuleParser(lexed.tokens, file).parseSingleTerm();
    if (lexed.diagnostics.length === 0) return result;
    return { diagnostics: withLexerErrors(lexed, result.diagnostics) };
  });
}
