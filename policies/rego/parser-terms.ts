/**
 * Recursive-descent parsing of Rego terms, expressions, literals and bodies.
 *
 * Precedence follows OPA's parser (loosest first): `:=`/`=` (top of a literal only), `in`,
 * comparisons, `|`, `&`, `+ -`, `* / %`, then terms with their refs and calls. Every loop here
 * consumes at least one token per iteration, and nesting is bounded (see `enter`), so any input
 * ends in bounded time. Parsed terms are memoized by position: the few places where Rego is
 * ambiguous (`{ a | b }`, `{ x }` as set or body) re-read a term instead of re-parsing it.
 */
import type { Diagnostic, Position } from '../diagnostic';
import type {
  Body,
  CallTerm,
  Every,
  InfixOperator,
  Literal,
  NotBody,
  NumberTerm,
  ObjectTerm,
  RefTerm,
  SomeDecl,
  SomeIn,
  StringTerm,
  Term,
  TermExpr,
  VarTerm,
  WithModifier,
} from './ast';
import type { Token } from './lexer';
import { COMPARISON_OPERATORS, INFIX_BUILTINS, MEMBER_3 } from './operators';
import { ParserState } from './parser-state';

interface MemoEntry {
  readonly term: Term | undefined;
  readonly pos: number;
  readonly wildcard: number;
  readonly diagnostics: readonly Diagnostic[];
}

/** Decimal exponents beyond this overflow the 2^±100000 range OPA accepts for numbers. */
const MAX_DECIMAL_EXPONENT = 30102;

/** True when the number literal's magnitude is out of range (zero never is). */
function numberTooBig(raw: string): boolean {
  const m = /^-?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(raw);
  if (!m) return false;
  const intPart = m[1] ?? '';
  const fracPart = m[2] ?? '';
  const expText = m[3] ?? '0';
  const intDigits = intPart.replace(/^0+/, '');
  let magnitude: number;
  if (intDigits.length > 0) {
    magnitude = intDigits.length - 1;
  } else {
    const firstNonZero = fracPart.search(/[1-9]/);
    if (firstNonZero < 0) return false; // the value is zero
    magnitude = -(firstNonZero + 1);
  }
  const expDigits = expText.replace(/^[+-]?0*/, '');
  if (expDigits.length > 9) return true;
  const exp = Number(expText);
  return Math.abs(exp + magnitude) > MAX_DECIMAL_EXPONENT;
}

/**
 * Parses terms, expressions, literals and bodies; the module parser extends it with
 * statements.
 */
export class TermParser extends ParserState {
  /** `not` negates a body (`import future.keywords.not` / `import rego.v2`). */
  protected notBodies = false;
  private readonly memo = new Map<string, MemoEntry>();

  // -------------------------------------------------------------------------------------------
  // Node helpers

  protected makeVar(t: Token): VarTerm {
    const name = t.text === '_' ? this.wildcardName() : t.text;
    return { type: 'var', name, loc: this.position(t), end: this.endOf(t) };
  }

  protected stringTerm(value: string, t: Token): StringTerm {
    return { type: 'string', value, loc: this.position(t), end: this.endOf(t) };
  }

  /** A builtin's name as a ref: `internal.member_2` is var `internal` with path `["member_2"]`. */
  protected operatorRef(name: string, loc: Position, end: Position): RefTerm {
    const [head = name, ...rest] = name.split('.');
    return {
      type: 'ref',
      head: { type: 'var', name: head, loc, end },
      path: rest.map((part): StringTerm => ({ type: 'string', value: part, loc, end })),
      loc,
      end,
    };
  }

  private infixCall(op: InfixOperator, opTok: Token, args: Term[], builtin?: string): CallTerm {
    const first = args[0] as Term;
    return {
      type: 'call',
      operator: this.operatorRef(
        builtin ?? INFIX_BUILTINS[op],
        this.position(opTok),
        this.endOf(opTok),
      ),
      args,
      infix: op,
      loc: first.loc,
      end: this.lastEnd(),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Expressions, loosest binding first

  /** A term where `k, v in xs` is allowed (rule values, `with` values, brackets, parentheses). */
  protected parseTermExpr(): Term | undefined {
    return this.parseIn(true);
  }

  /** An item of a comma-separated list: `k, v in xs` would be ambiguous there. */
  protected parseListItem(): Term | undefined {
    return this.parseIn(false);
  }

  private parseIn(keyValue: boolean): Term | undefined {
    if (!this.enter()) return undefined;
    let levels = 0; // `in` operators entered, besides this call
    try {
      let lhs = this.parseRelation();
      if (!lhs) return undefined;
      if (keyValue && this.isPunct(',')) {
        const m = this.mark();
        this.advance();
        const value = this.parseRelation();
        if (value && this.isKeyword('in')) {
          const opTok = this.advance();
          const collection = this.parseRelation();
          if (!collection) return undefined;
          lhs = this.infixCall('in', opTok, [lhs, value, collection], MEMBER_3);
        } else {
          this.reset(m);
        }
      }
      while (this.isKeyword('in')) {
        if (!this.enter()) return undefined;
        levels++;
        const opTok = this.advance();
        const rhs = this.parseRelation();
        if (!rhs) return undefined;
        lhs = this.infixCall('in', opTok, [lhs, rhs]);
      }
      return lhs;
    } finally {
      for (; levels >= 0; levels--) this.leave();
    }
  }

  /** One left-associative precedence level. */
  private parseLevel(
    operators: readonly InfixOperator[],
    operand: () => Term | undefined,
  ): Term | undefined {
    let lhs = operand();
    // Each operator nests the tree one level deeper (`a + b + c` is `(a + b) + c`), so a chain
    // counts against the nesting limit like brackets do.
    let levels = 0;
    try {
      while (lhs) {
        const t = this.tok;
        const op = operators.find((o) => this.isPunct(o, t));
        if (op === undefined) return lhs;
        if (!this.enter()) return undefined;
        levels++;
        this.advance();
        const rhs = operand();
        if (!rhs) return undefined;
        lhs = this.infixCall(op, t, [lhs, rhs]);
      }
      return undefined;
    } finally {
      for (; levels > 0; levels--) this.leave();
    }
  }

  private parseRelation(): Term | undefined {
    return this.parseLevel(COMPARISON_OPERATORS, () => this.parseOr());
  }

  private parseOr(): Term | undefined {
    return this.parseLevel(['|'], () => this.parseAnd());
  }

  private parseAnd(): Term | undefined {
    return this.parseLevel(['&'], () => this.parseArith());
  }

  private parseArith(): Term | undefined {
    return this.parseLevel(['+', '-'], () => this.parseFactor());
  }

  private parseFactor(): Term | undefined {
    return this.parseLevel(['*', '/', '%'], () => this.parseTerm());
  }

  // -------------------------------------------------------------------------------------------
  // Terms

  /** A term with its refs and calls (`a.b[c]`, `f(x).y`), memoized by position. */
  protected parseTerm(): Term | undefined {
    const key = `${this.pos}:${this.wildcard}`;
    const hit = this.memo.get(key);
    if (hit) {
      this.pos = hit.pos;
      this.wildcard = hit.wildcard;
      this.diagnostics.push(...hit.diagnostics);
      return hit.term;
    }
    const before = this.diagnostics.length;
    let term: Term | undefined;
    if (this.enter()) {
      try {
        term = this.parseTermUncached();
      } finally {
        this.leave();
      }
    }
    this.memo.set(key, {
      term,
      pos: this.pos,
      wildcard: this.wildcard,
      diagnostics: this.diagnostics.slice(before),
    });
    return term;
  }

  private parseTermUncached(): Term | undefined {
    const t = this.tok;
    let unaryMinus: Token | undefined;
    let term: Term | undefined;
    switch (t.kind) {
      case 'ident':
        term = this.parseWord(t);
        break;
      case 'number':
        term = this.parseNumber();
        break;
      case 'string':
        this.advance();
        term = t.raw
          ? { ...this.stringTerm(t.value, t), rawString: true }
          : this.stringTerm(t.value, t);
        break;
      case 'punct':
        switch (t.text) {
          case '-':
            if (this.isVarToken(this.peek())) {
              // `-x` is `minus(0, x)`; `-1` stays a number.
              unaryMinus = this.advance();
              term = this.makeVar(this.advance());
            } else {
              term = this.parseNumber();
            }
            break;
          case '.':
            term = this.parseNumber();
            break;
          case '[':
            term = this.parseArray();
            break;
          case '{':
            term = this.parseSetOrObject();
            break;
          case '(':
            term = this.parseParens();
            break;
          default: {
            this.unexpected('expected a term');
            return undefined;
          }
        }
        break;
      default: {
        this.unexpected('expected a term');
        return undefined;
      }
    }
    if (!term) return undefined;
    term = this.parsePostfix(term);
    if (term && unaryMinus) {
      const loc = this.position(unaryMinus);
      const zero: NumberTerm = { type: 'number', raw: '0', loc, end: this.endOf(unaryMinus) };
      return {
        type: 'call',
        operator: this.operatorRef('minus', loc, this.endOf(unaryMinus)),
        args: [zero, term],
        unary: true,
        loc,
        end: this.lastEnd(),
      };
    }
    return term;
  }

  private parseWord(t: Token): Term | undefined {
    const loc = this.position(t);
    const end = this.endOf(t);
    switch (t.text) {
      case 'null':
        this.advance();
        return { type: 'null', loc, end };
      case 'true':
      case 'false':
        this.advance();
        return { type: 'boolean', value: t.text === 'true', loc, end };
    }
    const callOfLogicalBuiltin =
      (t.text === 'and' || t.text === 'or') && this.isPunct('(', this.peek()) && this.touchesNext();
    if (this.isVarToken(t) || this.keywordStartsRef() || callOfLogicalBuiltin) {
      this.advance();
      return this.makeVar(t);
    }
    this.unexpected('expected a term');
    return undefined;
  }

  private parseNumber(): NumberTerm | undefined {
    const start = this.tok;
    let prefix = '';
    if (this.isPunct('-')) {
      prefix = '-';
      this.advance();
      if (this.tok.kind !== 'number' && !this.isPunct('.')) {
        this.unexpected('expected a number after "-"');
        return undefined;
      }
    }
    if (this.isPunct('.')) {
      prefix += '.';
      this.advance();
      if (this.tok.kind !== 'number' || this.tok.text.includes('.')) {
        this.unexpected('expected digits after "."');
        return undefined;
      }
    }
    const num = this.tok;
    if (num.kind !== 'number') {
      this.unexpected('expected a number');
      return undefined;
    }
    this.advance();
    const digits = num.text;
    if (!prefix.endsWith('.') && digits.length > 1 && digits.startsWith('0')) {
      const next = digits.charAt(1);
      const allowed = next === '.' || ((next === 'e' || next === 'E') && digits.length > 2);
      if (!allowed) {
        this.fail(`number ${digits} has a leading zero: remove it`, num);
        return undefined;
      }
    }
    const raw = prefix + digits;
    if (numberTooBig(raw)) {
      this.fail(`number ${raw} is too big`, num);
      return undefined;
    }
    return { type: 'number', raw, loc: this.position(start), end: this.lastEnd() };
  }

  private parseParens(): Term | undefined {
    this.advance();
    const inner = this.parseTermExpr();
    if (!inner) return undefined;
    if (!this.isPunct(')')) {
      this.unexpected('expected ")" to close the parenthesis');
      return undefined;
    }
    this.advance();
    return inner;
  }

  /** `.name`, `[term]` and `(args)` directly after a term (no space in between). */
  protected parsePostfix(head: Term): Term | undefined {
    // A parenthesized ref continues as one ref: `(a.b)[0]` is `a.b[0]`.
    let current = head.type === 'ref' ? head.head : head;
    let path: Term[] = head.type === 'ref' ? [...head.path] : [];
    let afterCall = false;
    for (;;) {
      const t = this.tok;
      if (t.spaceBefore || t.kind !== 'punct') break;
      if (t.text !== '.' && t.text !== '[' && t.text !== '(') break;
      if (afterCall && path.length === 0 && t.text === '(') break;
      if (path.length === 0 && !afterCall && isScalar(current)) {
        // `"abc"[0]`, `1.x`: only variables, collections and calls have parts.
        this.fail(`a ${current.type} cannot be indexed or called`, t);
        return undefined;
      }
      if (t.text === '.') {
        this.advance();
        const name = this.tok;
        if (name.kind !== 'ident' || name.spaceBefore) {
          this.unexpected('expected a name after "."');
          return undefined;
        }
        this.advance();
        path.push(this.stringTerm(name.text, name));
      } else if (t.text === '[') {
        this.advance();
        const index = this.parseTermExpr();
        if (!index) return undefined;
        if (!this.isPunct(']')) {
          this.unexpected('expected "]"');
          return undefined;
        }
        this.advance();
        path.push(index);
      } else {
        const operator: RefTerm =
          path.length > 0 || current.type !== 'ref'
            ? { type: 'ref', head: current, path, loc: head.loc, end: this.lastEnd() }
            : current;
        const call = this.parseCall(operator, head.loc);
        if (!call) return undefined;
        current = call;
        path = [];
        afterCall = true;
        continue;
      }
      afterCall = false;
    }
    if (path.length > 0) {
      return { type: 'ref', head: current, path, loc: head.loc, end: this.lastEnd() };
    }
    if (current.type === 'var' && (current.name === 'data' || current.name === 'input')) {
      return { type: 'ref', head: current, path: [], loc: current.loc, end: current.end };
    }
    return current;
  }

  /** Arguments of `operator(...)`; `set()` is the empty set. */
  private parseCall(operator: RefTerm, loc: Position): Term | undefined {
    this.advance(); // (
    let args: Term[] = [];
    if (this.isPunct(')')) {
      this.advance();
    } else {
      const list = this.parseTermList(')');
      if (!list) return undefined;
      args = list;
    }
    const end = this.lastEnd();
    if (
      args.length === 0 &&
      operator.path.length === 0 &&
      operator.head.type === 'var' &&
      operator.head.name === 'set'
    ) {
      return { type: 'set', items: [], loc, end };
    }
    return { type: 'call', operator, args, loc, end };
  }

  /** Comma-separated items up to and including `close`; a trailing comma is allowed. */
  protected parseTermList(close: string, items: Term[] = []): Term[] | undefined {
    if (this.isPunct(close)) {
      this.advance();
      return items;
    }
    for (;;) {
      const item = this.parseListItem();
      if (!item) return undefined;
      items.push(item);
      if (this.isPunct(close)) {
        this.advance();
        return items;
      }
      if (!this.isPunct(',')) {
        this.unexpected(`expected "," or "${close}"`);
        return undefined;
      }
      this.advance();
      if (this.isPunct(close)) {
        this.advance();
        return items;
      }
    }
  }

  private parseArray(): Term | undefined {
    const open = this.advance();
    const loc = this.position(open);
    if (this.isPunct(']')) {
      this.advance();
      return { type: 'array', items: [], loc, end: this.lastEnd() };
    }
    let maybeComprehension = true;
    if (this.isPunct(',')) {
      maybeComprehension = false; // `[, x]`: a leading comma is tolerated, as OPA does
      this.advance();
    }
    const m = this.mark();
    // A single term first: `[x | ...]` is a comprehension rather than an `|` call.
    const head = this.parseTerm();
    if (!head) return undefined;
    if (this.isPunct(']')) {
      this.advance();
      return { type: 'array', items: [head], loc, end: this.lastEnd() };
    }
    if (this.isPunct(',')) {
      this.advance();
      const items = this.parseTermList(']', [head]);
      return items && { type: 'array', items, loc, end: this.lastEnd() };
    }
    if (this.isPunct('|') && maybeComprehension) {
      this.advance();
      const body = this.parseBody(']');
      if (body) {
        this.advance();
        return { type: 'arraycomp', head, body, loc, end: this.lastEnd() };
      }
      if (!this.isPunct(',')) return undefined;
    }
    this.reset(m);
    const items = this.parseTermList(']');
    return items && { type: 'array', items, loc, end: this.lastEnd() };
  }

  private parseSetOrObject(): Term | undefined {
    const open = this.advance();
    const loc = this.position(open);
    if (this.isPunct('}')) {
      this.advance();
      return { type: 'object', entries: [], loc, end: this.lastEnd() };
    }
    let maybeComprehension = true;
    if (this.isPunct(',')) {
      maybeComprehension = false;
      this.advance();
    }
    const m = this.mark();
    // A single term first, so that `{ a | b }` reads as a comprehension.
    let head = this.parseTerm();
    if (!head) return undefined;
    if (this.isPunct('|') && maybeComprehension) return this.parseSet(m, head, true, loc);
    if (this.isPunct('}') || this.isPunct(','))
      return this.parseSet(m, head, maybeComprehension, loc);
    if (this.isPunct(':')) return this.parseObject(head, maybeComprehension, loc);
    this.reset(m);
    head = this.parseListItem();
    if (!head) return undefined;
    if (this.isPunct('}') || this.isPunct(',')) return this.parseSet(m, head, false, loc);
    if (this.isPunct(':')) return this.parseObject(head, maybeComprehension, loc);
    this.unexpected('expected ",", ":" or "}" in set or object');
    return undefined;
  }

  private parseSet(
    start: ReturnType<TermParser['mark']>,
    head: Term,
    maybeComprehension: boolean,
    loc: Position,
  ): Term | undefined {
    if (this.isPunct('}')) {
      this.advance();
      return { type: 'set', items: [head], loc, end: this.lastEnd() };
    }
    if (this.isPunct(',')) {
      this.advance();
      const items = this.parseTermList('}', [head]);
      return items && { type: 'set', items, loc, end: this.lastEnd() };
    }
    // `|`
    if (maybeComprehension) {
      this.advance();
      const body = this.parseBody('}');
      if (body) {
        this.advance();
        return { type: 'setcomp', head, body, loc, end: this.lastEnd() };
      }
      if (!this.isPunct(',')) return undefined;
    }
    this.reset(start);
    const items = this.parseTermList('}');
    return items && { type: 'set', items, loc, end: this.lastEnd() };
  }

  private parseObject(key: Term, maybeComprehension: boolean, loc: Position): Term | undefined {
    this.advance(); // :
    const m = this.mark();
    const value = this.parseTerm();
    if (!value) return undefined;
    let maybeInfix = true;
    if (maybeComprehension && (this.isPunct('}') || this.isPunct(',') || this.isPunct('|'))) {
      maybeInfix = this.isPunct('|');
      const done = this.finishObject(key, value, true, loc);
      if (done) return done;
    }
    this.reset(m);
    if (maybeInfix) {
      const v = this.parseListItem();
      if (!v) return undefined;
      if (this.isPunct('}') || this.isPunct(',')) return this.finishObject(key, v, false, loc);
    }
    this.unexpected('expected "," or "}" in object');
    return undefined;
  }

  private finishObject(
    key: Term,
    value: Term,
    maybeComprehension: boolean,
    loc: Position,
  ): Term | undefined {
    if (this.isPunct('}')) {
      this.advance();
      return { type: 'object', entries: [[key, value]], loc, end: this.lastEnd() };
    }
    if (this.isPunct('|')) {
      if (!maybeComprehension) {
        this.unexpected('expected "," or "}" in object');
        return undefined;
      }
      this.advance();
      const body = this.parseBody('}');
      if (!body) return undefined;
      this.advance();
      return { type: 'objectcomp', key, value, body, loc, end: this.lastEnd() };
    }
    if (this.isPunct(',')) {
      this.advance();
      return this.parseObjectEntries(key, value, loc);
    }
    return undefined;
  }

  private parseObjectEntries(key: Term, value: Term, loc: Position): ObjectTerm | undefined {
    const entries: (readonly [Term, Term])[] = [[key, value]];
    const done = (): ObjectTerm => {
      this.advance();
      return { type: 'object', entries, loc, end: this.lastEnd() };
    };
    if (this.isPunct('}')) return done();
    for (;;) {
      const k = this.parseListItem();
      if (!k) return undefined;
      if (!this.isPunct(':')) {
        this.unexpected('expected ":" after an object key');
        return undefined;
      }
      this.advance();
      const v = this.parseListItem();
      if (!v) return undefined;
      entries.push([k, v]);
      if (this.isPunct('}')) return done();
      if (!this.isPunct(',')) {
        this.unexpected('expected "," or "}" in object');
        return undefined;
      }
      this.advance();
      if (this.isPunct('}')) return done();
    }
  }

  // -------------------------------------------------------------------------------------------
  // Literals and bodies

  /**
   * Literals separated by `;` or new lines, up to (not including) `close`: `}` or `]` for
   * bodies, the end of file for queries.
   */
  protected parseBody(close: string): Body | undefined {
    if (!this.enter()) return undefined;
    try {
      const atClose = (): boolean =>
        close === 'eof' ? this.tok.kind === 'eof' : this.isPunct(close);
      const closeName = close === 'eof' ? 'the end of the query' : `"${close}"`;
      if (atClose()) {
        this.fail('found empty body: add at least one expression');
        return undefined;
      }
      const body: Literal[] = [];
      for (;;) {
        const literal = this.parseLiteral();
        if (!literal) return undefined;
        body.push(literal);
        if (this.isKeyword('and') || this.isKeyword('or')) {
          this.fail(
            `\`${this.tok.text}\` expressions are not supported by Verdict yet: write the alternatives as separate rules`,
          );
          return undefined;
        }
        if (this.isPunct(';')) {
          this.advance();
          continue;
        }
        if (atClose()) return body;
        if (this.tok.kind === 'eof') {
          this.unexpected(`expected ${closeName}`);
          return undefined;
        }
        if (this.tok.newlineBefore) continue;
        this.unexpected(`expected a new line, ";" or ${closeName}`);
        return undefined;
      }
    } finally {
      this.leave();
    }
  }

  protected parseLiteral(): Literal | undefined {
    const start = this.tok;
    if (this.keywordStartsRef()) return this.parseExprLiteral(start, false);
    const negated = this.isKeyword('not');
    if (negated) {
      this.advance();
      if (this.notBodies && this.isPunct('{')) return this.parseExplicitNotBody(start);
    }
    if (this.isKeyword('some')) {
      if (negated) {
        this.fail('`some` cannot be negated: negate a rule that uses it instead');
        return undefined;
      }
      return this.parseSome();
    }
    if (this.isKeyword('every')) {
      if (negated) {
        this.fail('`every` cannot be negated: negate a rule that uses it instead');
        return undefined;
      }
      return this.parseEvery();
    }
    return this.parseExprLiteral(start, negated);
  }

  private parseExprLiteral(start: Token, negated: boolean): Literal | undefined {
    const exprStart = this.tok;
    const term = this.parseExpr();
    if (!term) return undefined;
    const expr: TermExpr = {
      type: 'term',
      term,
      loc: this.position(exprStart),
      end: this.lastEnd(),
    };
    const withs = this.parseWiths();
    if (!withs) return undefined;
    if (negated && this.notBodies) {
      const inner: Literal = {
        negated: false,
        expr,
        with: [],
        loc: expr.loc,
        end: expr.end,
      };
      const notBody: NotBody = {
        type: 'notbody',
        body: [inner],
        explicit: false,
        loc: this.position(start),
        end: expr.end,
      };
      return { negated: false, expr: notBody, with: withs, loc: notBody.loc, end: this.lastEnd() };
    }
    return { negated, expr, with: withs, loc: this.position(start), end: this.lastEnd() };
  }

  private parseExplicitNotBody(start: Token): Literal | undefined {
    this.advance(); // {
    const body = this.parseBody('}');
    if (!body) return undefined;
    this.advance();
    const notBody: NotBody = {
      type: 'notbody',
      body,
      explicit: true,
      loc: this.position(start),
      end: this.lastEnd(),
    };
    const withs = this.parseWiths();
    if (!withs) return undefined;
    return { negated: false, expr: notBody, with: withs, loc: notBody.loc, end: this.lastEnd() };
  }

  /** `lhs`, `lhs := rhs` or `lhs = rhs`. */
  protected parseExpr(): Term | undefined {
    const lhs = this.parseTermExpr();
    if (!lhs) return undefined;
    const t = this.tok;
    if (this.isPunct(':=') || this.isPunct('=')) {
      this.advance();
      const rhs = this.parseTermExpr();
      if (!rhs) return undefined;
      return this.infixCall(t.text as InfixOperator, t, [lhs, rhs]);
    }
    return lhs;
  }

  private parseWiths(): WithModifier[] | undefined {
    const withs: WithModifier[] = [];
    while (this.isKeyword('with')) {
      const withTok = this.advance();
      if (!this.isVarToken() && !this.keywordStartsRef()) {
        this.unexpected('expected the path to replace after `with`, like input.user');
        return undefined;
      }
      const target = this.parseTerm();
      if (!target) return undefined;
      let ref: RefTerm;
      if (target.type === 'ref') ref = target;
      else if (target.type === 'var')
        ref = { type: 'ref', head: target, path: [], loc: target.loc, end: target.end };
      else {
        this.fail('`with` must replace a path, like input.user or data.roles', withTok);
        return undefined;
      }
      if (!this.isKeyword('as')) {
        this.unexpected('expected `as` and the replacement value');
        return undefined;
      }
      this.advance();
      const value = this.parseTermExpr();
      if (!value) return undefined;
      withs.push({ target: ref, value, loc: this.position(withTok), end: this.lastEnd() });
    }
    return withs;
  }

  private membership(term: Term): { key?: Term; value: Term; collection: Term } | undefined {
    if (term.type !== 'call' || term.infix !== 'in') return undefined;
    const [a, b, c] = term.args;
    if (!a || !b) return undefined;
    return c ? { key: a, value: b, collection: c } : { value: a, collection: b };
  }

  private parseSome(): Literal | undefined {
    const someTok = this.advance();
    const loc = this.position(someTok);
    const m = this.mark();
    const term = this.parseTermExpr();
    if (term?.type === 'call') {
      const member = this.membership(term);
      if (!member) {
        this.fail('expected `some x in xs` or `some k, v in xs` after `some`', someTok);
        return undefined;
      }
      const expr: SomeIn = { type: 'somein', ...member, loc, end: this.lastEnd() };
      const withs = this.parseWiths();
      return withs && { negated: false, expr, with: withs, loc, end: this.lastEnd() };
    }
    this.reset(m);
    const vars: VarTerm[] = [];
    for (;;) {
      if (!this.isVarToken()) {
        this.unexpected('expected a variable name after `some`');
        return undefined;
      }
      vars.push(this.makeVar(this.advance()));
      if (!this.isPunct(',')) break;
      this.advance();
    }
    const expr: SomeDecl = { type: 'some', vars, loc, end: this.lastEnd() };
    return { negated: false, expr, with: [], loc, end: this.lastEnd() };
  }

  private parseEvery(): Literal | undefined {
    const everyTok = this.advance();
    const loc = this.position(everyTok);
    const term = this.parseTermExpr();
    if (!term) return undefined;
    const member = this.membership(term);
    if (!member) {
      this.fail('expected `every x in xs { ... }` or `every k, v in xs { ... }`', everyTok);
      return undefined;
    }
    if (member.value.type !== 'var') {
      this.fail('`every` needs a variable for the value', everyTok);
      return undefined;
    }
    if (member.key && member.key.type !== 'var') {
      this.fail('`every` needs a variable for the key', everyTok);
      return undefined;
    }
    if (!this.isPunct('{')) {
      this.unexpected('expected the body of `every` in braces');
      return undefined;
    }
    this.advance();
    const body = this.parseBody('}');
    if (!body) return undefined;
    this.advance();
    const expr: Every = {
      type: 'every',
      ...(member.key ? { key: member.key } : {}),
      value: member.value,
      domain: member.collection,
      body,
      loc,
      end: this.lastEnd(),
    };
    const withs = this.parseWiths();
    return withs && { negated: false, expr, with: withs, loc, end: this.lastEnd() };
  }
}

function isScalar(t: Term): boolean {
  return t.type === 'null' || t.type === 'boolean' || t.type === 'number' || t.type === 'string';
}
