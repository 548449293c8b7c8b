/**
 * Small constructors for Rego AST nodes, so the CASL lowering builds its module in code (user
 * values become string/number terms, never text that is parsed). Every node gets the same
 * synthetic position in the rule set's file.
 */
import type { Position } from '../diagnostic';
import type * as ast from '../rego/ast';

/** Builds Rego AST nodes for one file, each at the file's first position. */
export class RegoBuilder {
  readonly loc: Position;

  constructor(file: string) {
    this.loc = { file, line: 1, col: 1, offset: 0 };
  }

  /** A variable. */
  v(name: string): ast.VarTerm {
    return { type: 'var', name, loc: this.loc };
  }

  /** A string literal; user text enters the module only this way. */
  s(value: string): ast.StringTerm {
    return { type: 'string', value, loc: this.loc };
  }

  /** A number literal. */
  n(value: number): ast.NumberTerm {
    return { type: 'number', raw: String(value), loc: this.loc };
  }

  /** A boolean literal. */
  b(value: boolean): ast.BooleanTerm {
    return { type: 'boolean', value, loc: this.loc };
  }

  /** `null`. */
  nul(): ast.NullTerm {
    return { type: 'null', loc: this.loc };
  }

  /** A JSON scalar as a term. */
  scalar(value: string | number | boolean | null): ast.Term {
    if (value === null) return this.nul();
    if (typeof value === 'string') return this.s(value);
    if (typeof value === 'number') return this.n(value);
    return this.b(value);
  }

  /** An array literal `[items]`. */
  arr(items: readonly ast.Term[]): ast.ArrayTerm {
    return { type: 'array', items, loc: this.loc };
  }

  /** A set literal `{items}`. */
  set(items: readonly ast.Term[]): ast.SetTerm {
    return { type: 'set', items, loc: this.loc };
  }

  /** An object literal with string keys. */
  obj(entries: readonly (readonly [string, ast.Term])[]): ast.ObjectTerm {
    return { type: 'object', entries: entries.map(([k, v]) => [this.s(k), v]), loc: this.loc };
  }

  /** `head.a.b` with string keys (or terms). */
  ref(head: string, ...path: (string | ast.Term)[]): ast.RefTerm {
    return {
      type: 'ref',
      head: this.v(head),
      path: path.map((p) => (typeof p === 'string' ? this.s(p) : p)),
      loc: this.loc,
    };
  }

  /** A call by dotted name: `call('regex.match', a, b)`. */
  call(name: string, ...args: ast.Term[]): ast.CallTerm {
    const [head = name, ...rest] = name.split('.');
    return { type: 'call', operator: this.ref(head, ...rest), args, loc: this.loc };
  }

  /** A body literal holding `term`; `negated` makes it `not term`. */
  lit(term: ast.Term, negated = false): ast.Literal {
    return { negated, expr: { type: 'term', term, loc: this.loc }, with: [], loc: this.loc };
  }

  /** `not term`. */
  not(term: ast.Term): ast.Literal {
    return this.lit(term, true);
  }

  /** `name := value`. */
  assign(name: string, value: ast.Term): ast.Literal {
    return this.lit({ ...this.call('assign', this.v(name), value), infix: ':=' });
  }

  /** `a == b`. */
  eq(a: ast.Term, b: ast.Term): ast.Literal {
    return this.lit({ ...this.call('equal', a, b), infix: '==' });
  }

  /** A comparison written infix (`a < b`, `a != b` ...). */
  op(name: 'lt' | 'lte' | 'gt' | 'gte' | 'neq', a: ast.Term, b: ast.Term): ast.Literal {
    const infix = { lt: '<', lte: '<=', gt: '>', gte: '>=', neq: '!=' } as const;
    return this.lit({ ...this.call(name, a, b), infix: infix[name] });
  }

  /** `x in xs`, as a term (usable inside other expressions). */
  member(x: ast.Term, xs: ast.Term): ast.CallTerm {
    return { ...this.call('internal.member_2', x, xs), infix: 'in' };
  }

  /** `some value in collection`. */
  someIn(value: string, collection: ast.Term): ast.Literal {
    return {
      negated: false,
      expr: { type: 'somein', value: this.v(value), collection, loc: this.loc },
      with: [],
      loc: this.loc,
    };
  }

  /** `[head | body]`. */
  arrayComp(head: ast.Term, body: ast.Body): ast.ArrayComprehension {
    return { type: 'arraycomp', head, body, loc: this.loc };
  }

  /** `name[(args)] := value if { body }` (value absent: `true`). */
  rule(
    name: string,
    body: ast.Body,
    options: { args?: ast.Term[]; value?: ast.Term; isDefault?: boolean } = {},
  ): ast.Rule {
    const head: ast.RuleHead = {
      ref: [this.v(name)],
      ...(options.args ? { args: options.args } : {}),
      ...(options.value ? { value: options.value } : {}),
      assign: options.value !== undefined,
      loc: this.loc,
    };
    return {
      default: options.isDefault ?? false,
      head,
      body,
      ifKeyword: body.length > 0,
      else: [],
      annotations: [],
      loc: this.loc,
    };
  }

  /** `name contains key if { body }` */
  ruleContains(name: string, key: ast.Term, body: ast.Body): ast.Rule {
    return {
      default: false,
      head: { ref: [this.v(name)], key, assign: false, loc: this.loc },
      body,
      ifKeyword: true,
      else: [],
      annotations: [],
      loc: this.loc,
    };
  }

  /** The module `package pkg` holding `rules`, with no imports. */
  module(pkg: readonly string[], rules: readonly ast.Rule[]): ast.Module {
    return {
      file: this.loc.file,
      package: { path: pkg, annotations: [], loc: this.loc },
      imports: [],
      rules,
      comments: [],
      loc: this.loc,
    };
  }
}
