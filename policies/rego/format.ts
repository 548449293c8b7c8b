/**
 * Canonical Rego printer (`verdict fmt`), in the style of `opa fmt`: tabs, `if` before every
 * body, `contains` for multi-value rules, `:=`/`=` as written, one blank line between rules,
 * imports grouped under the package.
 *
 * Comments are kept where they were: each comment is printed before the first node that starts
 * after it, as a trailing comment when it shared a line with the code before it. Collections,
 * calls and comprehensions stay on one line unless an item started on a new line in the source,
 * in which case each item gets its own line. The output parses back to the same AST (positions
 * aside), and formatting it again changes nothing.
 */
import type {
  Body,
  CallTerm,
  Comment,
  ElseClause,
  Import,
  Literal,
  Module,
  RefTerm,
  Rule,
  RuleHead,
  Term,
  WithModifier,
} from './ast';
import type { Position } from '../diagnostic';
import { INFIX_BUILTINS, MEMBER_3, PRECEDENCE, PRIMARY_PRECEDENCE } from './operators';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Where a term is printed, which decides the parentheses it needs. */
interface Context {
  /** Loosest operator allowed without parentheses. */
  readonly min: number;
  /** Inside a comma-separated list: `k, v in xs` needs parentheses there. */
  readonly list?: boolean;
  /** Directly inside a collection: a bare `a | b` would read as a comprehension. */
  readonly collection?: boolean;
}

const ANY: Context = { min: 0 };
/** Operands parsed by the term parser (`x, y in z` allowed, `:=`/`=` not). */
const TERM: Context = { min: 1 };
const LIST: Context = { min: 1, list: true };
const ITEM: Context = { min: 1, list: true, collection: true };
const PRIMARY: Context = { min: PRIMARY_PRECEDENCE };

function precedence(t: Term): number {
  if (t.type !== 'call') return PRIMARY_PRECEDENCE;
  if (t.infix !== undefined) return PRECEDENCE[t.infix];
  return PRIMARY_PRECEDENCE;
}

/** A two-argument infix call that prints as `a op b` (`:=` and `=` included). */
function isBinary(t: CallTerm): boolean {
  return (
    t.infix !== undefined && t.args.length === 2 && refName(t.operator) === INFIX_BUILTINS[t.infix]
  );
}

function isMember3(t: Term): boolean {
  return t.type === 'call' && t.infix === 'in' && t.args.length === 3;
}

function refName(ref: RefTerm): string {
  const parts = [ref.head, ...ref.path].map((p) =>
    p.type === 'var' ? p.name : p.type === 'string' ? p.value : '?',
  );
  return parts.join('.');
}

function quote(value: string): string {
  return JSON.stringify(value);
}

class Printer {
  private readonly lines: string[] = [];
  private current = '';
  private commentOnLine = false;
  private depth = 0;
  private nextComment = 0;
  /** Source line of the code printed last: a comment on that line trails it. */
  private lastLine = 0;

  constructor(private readonly comments: readonly Comment[]) {}

  // -------------------------------------------------------------------------------------------
  // Output

  private write(s: string): void {
    if (this.commentOnLine) this.endLine();
    if (this.current === '') this.current = '\t'.repeat(this.depth);
    this.current += s;
  }

  private endLine(): void {
    if (this.current !== '') this.lines.push(this.current);
    this.current = '';
    this.commentOnLine = false;
  }

  private blankLine(): void {
    this.endLine();
    if (this.lines.length > 0 && this.lines[this.lines.length - 1] !== '') this.lines.push('');
  }

  private seen(line: number | undefined): void {
    if (line !== undefined && line > this.lastLine) this.lastLine = line;
  }

  // -------------------------------------------------------------------------------------------
  // Comments

  private pendingBefore(offset: number): boolean {
    const c = this.comments[this.nextComment];
    return c !== undefined && c.loc.offset < offset;
  }

  /** Prints the comments that come before `offset` in the source. */
  private commentsBefore(offset: number): void {
    while (this.pendingBefore(offset)) {
      const c = this.comments[this.nextComment++] as Comment;
      if (c.loc.line === this.lastLine && this.current !== '') {
        this.current += ` #${c.text}`;
        this.commentOnLine = true;
      } else {
        this.endLine();
        this.lines.push(`${'\t'.repeat(this.depth)}#${c.text}`);
      }
      this.lastLine = c.loc.line;
    }
  }

  /**
   * Comments before a top-level statement: a trailing one stays on its line; the others keep
   * their grouping, and stay attached to the statement when they were.
   */
  private topLevelCommentsBefore(loc: Position): void {
    let previous: number | undefined;
    while (this.pendingBefore(loc.offset)) {
      const c = this.comments[this.nextComment] as Comment;
      if (previous !== undefined && c.loc.line > previous + 1) this.blankLine();
      this.nextComment++;
      this.endLine();
      // A comment that was not in column 1 stays out of it: column 1 makes METADATA blocks.
      this.lines.push(`${c.loc.col > 1 ? ' ' : ''}#${c.text}`);
      previous = c.loc.line;
      this.lastLine = c.loc.line;
    }
    if (previous !== undefined && previous + 1 < loc.line) this.blankLine();
  }

  /** A comment on the line of the code printed last stays at the end of that line. */
  private trailingComment(): void {
    const c = this.comments[this.nextComment];
    if (c?.loc.line === this.lastLine && this.current !== '') this.commentsBefore(c.loc.offset + 1);
  }

  // -------------------------------------------------------------------------------------------
  // Modules

  module(m: Module): string {
    this.topLevelCommentsBefore(m.package.loc);
    this.lastLine = m.package.loc.line;
    this.write(`package ${this.packagePath(m.package.path)}`);
    this.seen(m.package.end?.line);
    m.imports.forEach((imp, i) => {
      this.trailingComment();
      if (i === 0) this.blankLine();
      this.topLevelCommentsBefore(imp.loc);
      this.importLine(imp);
    });
    for (const rule of m.rules) {
      this.trailingComment();
      this.blankLine();
      this.topLevelCommentsBefore(rule.loc);
      this.rule(rule);
    }
    this.trailingComment();
    if (this.nextComment < this.comments.length) {
      this.topLevelCommentsBefore({ file: m.file, line: Infinity, col: 1, offset: Infinity });
    }
    this.endLine();
    while (this.lines.length > 0 && this.lines[this.lines.length - 1] === '') this.lines.pop();
    return `${this.lines.join('\n')}\n`;
  }

  private packagePath(path: readonly string[]): string {
    return path
      .map((part, i) => {
        if (IDENTIFIER.test(part)) {
          return i === 0 ? part : `.${part}`;
        }
        return `[${quote(part)}]`;
      })
      .join('');
  }

  private importLine(imp: Import): void {
    this.endLine();
    this.lastLine = imp.loc.line;
    this.write('import ');
    this.ref(imp.path);
    if (imp.alias !== undefined) this.write(` as ${imp.alias}`);
    this.seen(imp.end?.line);
  }

  // -------------------------------------------------------------------------------------------
  // Rules

  private rule(rule: Rule): void {
    this.endLine();
    this.lastLine = rule.loc.line;
    if (rule.default) this.write('default ');
    this.head(rule.head);
    const bodyEnd = rule.else[0]?.loc.offset ?? rule.end?.offset;
    const [only] = rule.body;
    // `p if x` written without braces stays that way (the literal ends where the rule does).
    const unbraced =
      only !== undefined &&
      rule.body.length === 1 &&
      rule.else.length === 0 &&
      only.end !== undefined &&
      only.end.offset === rule.end?.offset;
    if (unbraced) {
      this.write(' if ');
      this.literal(only);
    } else if (rule.body.length > 0) {
      this.ruleBody(rule.body, bodyEnd);
    }
    rule.else.forEach((clause, i) => {
      this.elseClause(clause, rule.else[i + 1]?.loc.offset ?? rule.end?.offset);
    });
    this.seen(rule.end?.line);
  }

  private head(head: RuleHead): void {
    const [name, ...rest] = head.ref;
    if (name) this.refParts(name, rest);
    if (head.args) {
      this.write('(');
      this.list(head.args, LIST);
      this.write(')');
    }
    if (head.key) {
      this.write(' contains ');
      this.term(head.key, TERM);
    }
    if (head.value) {
      this.write(head.assign ? ' := ' : ' = ');
      this.term(head.value, TERM);
    }
  }

  private ruleBody(body: Body, end: number | undefined): void {
    this.write(' if {');
    this.bodyLines(body, end);
    this.write('}');
  }

  private elseClause(clause: ElseClause, end: number | undefined): void {
    this.write(' else');
    if (clause.value) {
      this.write(clause.assign ? ' := ' : ' = ');
      this.term(clause.value, TERM);
    }
    if (clause.body.length > 0) this.ruleBody(clause.body, end);
  }

  /** Literals one per line, one level deeper; `end` is the offset of the closing brace. */
  private bodyLines(body: Body, end: number | undefined): void {
    this.depth++;
    for (const literal of body) {
      this.commentsBefore(literal.loc.offset);
      this.endLine();
      this.lastLine = literal.loc.line;
      this.literal(literal);
      this.seen(literal.end?.line);
    }
    if (end !== undefined) this.commentsBefore(end - 1);
    this.endLine();
    this.depth--;
  }

  // -------------------------------------------------------------------------------------------
  // Literals

  private literal(l: Literal): void {
    if (l.negated) this.write('not ');
    const e = l.expr;
    switch (e.type) {
      case 'term':
        this.term(e.term, ANY);
        break;
      case 'some':
        this.write('some ');
        this.list(e.vars, PRIMARY);
        break;
      case 'somein':
        this.write('some ');
        this.membership(e.key, e.value, e.collection);
        break;
      case 'every':
        this.write('every ');
        this.membership(e.key, e.value, e.domain);
        this.write(' {');
        this.bodyLines(e.body, e.end?.offset);
        this.write('}');
        break;
      case 'notbody': {
        const [only] = e.body;
        if (!e.explicit && only && e.body.length === 1 && only.with.length === 0) {
          this.write('not ');
          this.literal(only);
        } else if (e.body.every((lit) => lit.loc.line === e.loc.line)) {
          this.write('not { ');
          this.inlineBody(e.body);
          this.write(' }');
        } else {
          this.write('not {');
          this.bodyLines(e.body, e.end?.offset);
          this.write('}');
        }
        break;
      }
    }
    for (const w of l.with) this.withModifier(w);
  }

  /** `k, v in xs` / `v in xs` for `some` and `every` (each part at comparison level). */
  private membership(key: Term | undefined, value: Term, collection: Term): void {
    const rel: Context = { min: PRECEDENCE['=='] };
    if (key) {
      this.term(key, rel);
      this.write(', ');
    }
    this.term(value, rel);
    this.write(' in ');
    this.term(collection, rel);
  }

  private inlineBody(body: Body): void {
    body.forEach((lit, i) => {
      if (i > 0) this.write('; ');
      this.literal(lit);
    });
  }

  private withModifier(w: WithModifier): void {
    this.write(' with ');
    this.ref(w.target);
    this.write(' as ');
    this.term(w.value, TERM);
  }

  // -------------------------------------------------------------------------------------------
  // Terms

  /** Prints `t`, in parentheses when the context needs them. */
  private term(t: Term, ctx: Context): void {
    if (t.type === 'call' && (t.infix === '=' || t.infix === ':=') && ctx.min > 0) {
      // `:=` and `=` only stand at the top of a literal; elsewhere they print as calls.
      this.ref(t.operator);
      this.items('(', t.args, ')', t.loc, t.end, LIST);
      return;
    }
    const needsParens =
      precedence(t) < ctx.min ||
      (ctx.list === true && isMember3(t)) ||
      (ctx.collection === true && t.type === 'call' && t.infix === '|');
    if (needsParens) this.write('(');
    this.bare(t);
    if (needsParens) this.write(')');
  }

  private list(items: readonly Term[], ctx: Context): void {
    items.forEach((item, i) => {
      if (i > 0) this.write(', ');
      this.term(item, ctx);
    });
  }

  private bare(t: Term): void {
    switch (t.type) {
      case 'null':
        this.write('null');
        return;
      case 'boolean':
        this.write(t.value ? 'true' : 'false');
        return;
      case 'number':
        this.write(t.raw);
        return;
      case 'string':
        this.write(
          t.rawString === true && !t.value.includes('`') ? `\`${t.value}\`` : quote(t.value),
        );
        return;
      case 'var':
        this.write(t.name.startsWith('$_') ? '_' : t.name);
        return;
      case 'ref':
        this.ref(t);
        return;
      case 'array':
        this.items('[', t.items, ']', t.loc, t.end, ITEM);
        return;
      case 'set':
        if (t.items.length === 0) this.write('set()');
        else this.items('{', t.items, '}', t.loc, t.end, ITEM);
        return;
      case 'object':
        this.objectTerm(t.entries, t.loc, t.end);
        return;
      case 'arraycomp':
        this.comprehension(
          '[',
          () => {
            this.term(t.head, PRIMARY);
          },
          t.body,
          ']',
          t.loc,
          t.end,
        );
        return;
      case 'setcomp':
        this.comprehension(
          '{',
          () => {
            this.term(t.head, PRIMARY);
          },
          t.body,
          '}',
          t.loc,
          t.end,
        );
        return;
      case 'objectcomp': {
        const head = (): void => {
          this.term(t.key, PRIMARY);
          this.write(': ');
          this.term(t.value, PRIMARY);
        };
        this.comprehension('{', head, t.body, '}', t.loc, t.end);
        return;
      }
      case 'call':
        this.call(t);
        return;
    }
  }

  private call(t: CallTerm): void {
    const [a, b, c] = t.args;
    const operator = refName(t.operator);
    if (t.infix !== undefined && a && b) {
      if (t.infix === 'in' && c && t.args.length === 3 && operator === MEMBER_3) {
        this.membership(a, b, c);
        return;
      }
      if (isBinary(t)) {
        this.binaryChain(t);
        return;
      }
    }
    if (
      t.unary === true &&
      b &&
      (b.type === 'var' || (b.type === 'ref' && b.head.type === 'var'))
    ) {
      this.write('-');
      this.bare(b);
      return;
    }
    this.ref(t.operator);
    this.items('(', t.args, ')', t.loc, t.end, LIST);
  }

  /**
   * `a + b + c ...`: the left spine of same-precedence operators is printed in a loop, so long
   * chains do not nest the printer's recursion.
   */
  private binaryChain(t: CallTerm): void {
    const p = precedence(t);
    const chain: CallTerm[] = [];
    let left: Term = t;
    const assignment = (c: CallTerm): boolean => c.infix === '=' || c.infix === ':=';
    while (
      left.type === 'call' &&
      isBinary(left) &&
      precedence(left) === p &&
      (left === t || !assignment(left))
    ) {
      chain.push(left);
      left = left.args[0] as Term;
    }
    this.term(left, { min: Math.max(p, 1) });
    for (let i = chain.length - 1; i >= 0; i--) {
      const call = chain[i] as CallTerm;
      this.write(` ${call.infix ?? ''} `);
      this.term(call.args[1] as Term, { min: p + 1 });
    }
  }

  private ref(r: RefTerm): void {
    this.refParts(r.head, r.path);
  }

  private refParts(head: Term, path: readonly Term[]): void {
    const operatorCall = head.type === 'call' && (head.infix !== undefined || head.unary === true);
    if (operatorCall) this.write('(');
    this.bare(head);
    if (operatorCall) this.write(')');
    for (const part of path) {
      if (part.type === 'string' && IDENTIFIER.test(part.value)) {
        this.write(`.${part.value}`);
      } else {
        this.write('[');
        this.term(part, TERM);
        this.write(']');
      }
    }
  }

  /** Whether a collection was written with items on their own lines. */
  private multiline(loc: Position, starts: readonly Position[]): boolean {
    return starts.some((s) => s.line !== loc.line);
  }

  /** `open item, item close`, or one item per line when the source had items on new lines. */
  private items(
    open: string,
    items: readonly Term[],
    close: string,
    loc: Position,
    end: Position | undefined,
    ctx: Context,
  ): void {
    if (
      !this.multiline(
        loc,
        items.map((i) => i.loc),
      )
    ) {
      this.write(open);
      this.list(items, ctx);
      this.write(close);
      return;
    }
    this.lineByLine(open, items, close, end, (i) => {
      this.term(i, ctx);
    });
  }

  private objectTerm(
    entries: readonly (readonly [Term, Term])[],
    loc: Position,
    end: Position | undefined,
  ): void {
    const entry = ([k, v]: readonly [Term, Term]): void => {
      this.term(k, ITEM);
      this.write(': ');
      this.term(v, ITEM);
    };
    if (
      !this.multiline(
        loc,
        entries.map(([k]) => k.loc),
      )
    ) {
      this.write('{');
      entries.forEach((e, i) => {
        if (i > 0) this.write(', ');
        entry(e);
      });
      this.write('}');
      return;
    }
    this.lineByLine('{', entries, '}', end, entry, ([k]) => k.loc);
  }

  /** `open`, each element on its own line with a trailing comma, then `close`. */
  private lineByLine<T>(
    open: string,
    elements: readonly T[],
    close: string,
    end: Position | undefined,
    render: (e: T) => void,
    locOf: (e: T) => Position = (e) => (e as Term).loc,
  ): void {
    this.write(open);
    this.depth++;
    for (const e of elements) {
      const loc = locOf(e);
      this.commentsBefore(loc.offset);
      this.endLine();
      this.lastLine = loc.line;
      render(e);
      this.write(',');
    }
    if (end) this.commentsBefore(end.offset - 1);
    this.endLine();
    this.depth--;
    this.write(close);
    this.seen(end?.line);
  }

  private comprehension(
    open: string,
    head: () => void,
    body: Body,
    close: string,
    loc: Position,
    end: Position | undefined,
  ): void {
    this.write(open);
    head();
    if (
      !this.multiline(
        loc,
        body.map((l) => l.loc),
      )
    ) {
      this.write(' | ');
      this.inlineBody(body);
      this.write(close);
      return;
    }
    this.write(' |');
    this.bodyLines(body, end?.offset);
    this.write(close);
    this.seen(end?.line);
  }
}

/** Formats a module canonically; the result ends with a newline. */
export function formatModule(module: Module): string {
  return new Printer(module.comments).module(module);
}
