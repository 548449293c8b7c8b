/**
 * Name resolution and local renaming, in one walk over each rule.
 *
 * After this stage:
 * - every reference to a global is a ref whose head is the var `data` or `input`
 *   (imports and rule names of the same package are expanded);
 * - calls to user functions have an operator ref headed by `data`; builtin calls keep their
 *   dotted name;
 * - every local var has a name unique within its rule (shadowing in closures is renamed),
 *   so later stages can treat a var name as one variable.
 */
import type { Diagnostic } from '../../diagnostic';
import type * as ast from '../ast';
import { lookupBuiltin } from '../builtins';
import { forEachTermShallow } from './walk';

interface Scope {
  readonly parent: Scope | undefined;
  readonly names: Map<string, string>;
  /** Literal index where a name is declared (`:=`, `some`): closures before it do not see it. */
  readonly declaredAt?: Map<string, number>;
  /** Index of the literal being resolved in this scope's body. */
  current?: number;
}

/** What a module's free names can refer to. */
export interface ModuleEnv {
  /** Package path below `data`. */
  readonly packagePath: readonly string[];
  /** First names of the rules of the package (across all its modules). */
  readonly ruleNames: ReadonlySet<string>;
  /** Import aliases → the ref they stand for. */
  readonly imports: ReadonlyMap<string, ast.RefTerm>;
}

export const ROOTS: ReadonlySet<string> = new Set(['data', 'input']);

/**
 * What `module`'s free names refer to: its package's rules and its imports. Reports an import
 * that starts with anything but `input`, `data`, `future` or `rego`.
 */
export function moduleEnv(
  module: ast.Module,
  ruleNamesByPackage: ReadonlyMap<string, Set<string>>,
  diagnostics: Diagnostic[],
): ModuleEnv {
  const imports = new Map<string, ast.RefTerm>();
  for (const imp of module.imports) {
    const head = imp.path.head;
    if (head.type !== 'var') continue;
    if (head.name === 'future' || head.name === 'rego') continue;
    if (!ROOTS.has(head.name)) {
      diagnostics.push({
        code: 'rego_parse_error',
        message: `invalid import ${head.name}: path must begin with input, data, future or rego`,
        position: imp.loc,
      });
      continue;
    }
    const last = imp.path.path[imp.path.path.length - 1];
    const alias = imp.alias ?? (last?.type === 'string' ? last.value : head.name);
    imports.set(alias, imp.path);
  }
  return {
    packagePath: module.package.path,
    ruleNames: ruleNamesByPackage.get(module.package.path.join('.')) ?? new Set(),
    imports,
  };
}

/** Resolves the names of one module's rules, or of a query; see the file comment for the result. */
export class Resolver {
  private readonly used = new Set<string>();

  constructor(private readonly env: ModuleEnv) {}

  /** A name for a new local: the original when free, else a numbered variant. */
  private fresh(name: string): string {
    const base = name.startsWith('$_') ? '$_' : name;
    let candidate = name;
    for (let n = 1; this.used.has(candidate) || ROOTS.has(candidate); n++)
      candidate = `${base}__${n}`;
    this.used.add(candidate);
    return candidate;
  }

  private lookup(scope: Scope | undefined, name: string): string | undefined {
    for (let s = scope; s; s = s.parent) {
      const found = s.names.get(name);
      if (found === undefined) continue;
      // From an inner scope, a declaration later in the enclosing body is not yet in force.
      const at = s.declaredAt?.get(name);
      if (s !== scope && at !== undefined && s.current !== undefined && at > s.current) continue;
      return found;
    }
    return undefined;
  }

  /** The global a free name stands for, if any. */
  private global(name: string, loc: ast.Term['loc']): ast.RefTerm | undefined {
    if (ROOTS.has(name)) return { type: 'ref', loc, head: { type: 'var', name, loc }, path: [] };
    const imported = this.env.imports.get(name);
    if (imported) return imported;
    if (this.env.ruleNames.has(name)) {
      return {
        type: 'ref',
        loc,
        head: { type: 'var', name: 'data', loc },
        path: [...this.env.packagePath, name].map((value) => ({ type: 'string', value, loc })),
      };
    }
    return undefined;
  }

  /** `rule` with its names resolved and its locals renamed apart. */
  rule(rule: ast.Rule): ast.Rule {
    const argScope: Scope = { parent: undefined, names: new Map() };
    const args = rule.head.args?.map((a) => this.declarePattern(a, argScope));
    const headTerms = (h: { key?: ast.Term; value?: ast.Term }, keyPath: readonly ast.Term[]) => [
      ...keyPath,
      ...(h.key ? [h.key] : []),
      ...(h.value ? [h.value] : []),
    ];
    const refParts = rule.head.ref.slice(1);
    const keyStart = refParts.findIndex((t) => t.type !== 'string');
    const keyPath = keyStart < 0 ? [] : refParts.slice(keyStart);

    const scope = this.bodyScope(rule.body, argScope, headTerms(rule.head, keyPath));
    const term = (t: ast.Term) => this.term(t, scope);
    const body = this.bodyIn(rule.body, scope);
    const newRef = [
      rule.head.ref[0] as ast.Term,
      ...refParts.map((t, i) => (keyStart >= 0 && i >= keyStart ? term(t) : t)),
    ];
    const head: ast.RuleHead = {
      ...rule.head,
      ref: newRef,
      ...(args ? { args } : {}),
      ...(rule.head.key ? { key: term(rule.head.key) } : {}),
      ...(rule.head.value ? { value: term(rule.head.value) } : {}),
    };
    const elses = rule.else.map((e) => {
      const s = this.bodyScope(e.body, argScope, e.value ? [e.value] : []);
      const b = this.bodyIn(e.body, s);
      return { ...e, body: b, ...(e.value ? { value: this.term(e.value, s) } : {}) };
    });
    return { ...rule, head, body, else: elses };
  }

  /** A query body with its names resolved. */
  query(body: ast.Body): ast.Body {
    const scope = this.bodyScope(body, undefined, []);
    return this.bodyIn(body, scope);
  }

  /** Declares the vars of a function argument pattern in `scope`. */
  private declarePattern(t: ast.Term, scope: Scope): ast.Term {
    forEachTermShallow(t, (x) => {
      if (x.type === 'var' && !scope.names.has(x.name)) scope.names.set(x.name, this.fresh(x.name));
    });
    return this.term(t, scope);
  }

  /**
   * Makes the scope of a body: declared names (`some`, `:=`, `some ... in`) get new locals;
   * other names seen in the body (outside closures) are outer locals, globals, or new locals.
   */
  private bodyScope(body: ast.Body, parent: Scope | undefined, extra: readonly ast.Term[]): Scope {
    const declaredAt = new Map<string, number>();
    const scope: Scope = { parent, names: new Map(), declaredAt };
    const declare = (name: string) => {
      if (!scope.names.has(name)) scope.names.set(name, this.fresh(name));
    };
    let index = 0;
    const declareTerm = (t: ast.Term) => {
      forEachTermShallow(t, (x) => {
        if (x.type !== 'var') return;
        declare(x.name);
        if (!declaredAt.has(x.name)) declaredAt.set(x.name, index);
      });
    };
    for (const lit of body) {
      const e = lit.expr;
      if (e.type === 'some') for (const v of e.vars) declareTerm(v);
      else if (e.type === 'somein') {
        if (e.key) declareTerm(e.key);
        declareTerm(e.value);
      } else if (e.type === 'term' && e.term.type === 'call' && e.term.infix === ':=') {
        const lhs = e.term.args[0];
        if (lhs) declareTerm(lhs);
      }
      index++;
    }
    const seen = (t: ast.Term) => {
      forEachTermShallow(t, (x) => {
        if (x.type === 'call') return;
        if (x.type !== 'var') return;
        const name = x.name;
        if (scope.names.has(name) || name.startsWith('$_')) {
          if (name.startsWith('$_')) declare(name);
          return;
        }
        if (this.lookup(parent, name) !== undefined || this.global(name, x.loc)) return;
        declare(name);
      });
    };
    for (const lit of body) {
      const e = lit.expr;
      if (e.type === 'term') seen(e.term);
      else if (e.type === 'somein') seen(e.collection);
      else if (e.type === 'every') seen(e.domain);
      for (const w of lit.with) if (!this.namesBuiltin(w.value, parent)) seen(w.value);
    }
    for (const t of extra) seen(t);
    return scope;
  }

  private bodyIn(body: ast.Body, scope: Scope): ast.Body {
    return body.map((lit, i) => {
      scope.current = i;
      return this.literal(lit, scope);
    });
  }

  private literal(lit: ast.Literal, scope: Scope): ast.Literal {
    const e = lit.expr;
    const withs = lit.with.map((w) => ({
      ...w,
      target: this.withTarget(w.target),
      // `with f as count`: a builtin named as a value stays a name.
      value: this.namesBuiltin(w.value, scope) ? w.value : this.term(w.value, scope),
    }));
    let expr: ast.Literal['expr'];
    switch (e.type) {
      case 'term':
        expr = { ...e, term: this.term(e.term, scope) };
        break;
      case 'some':
        expr = {
          ...e,
          vars: e.vars.map((v) => ({ ...v, name: this.lookup(scope, v.name) ?? v.name })),
        };
        break;
      case 'somein':
        expr = {
          ...e,
          ...(e.key ? { key: this.term(e.key, scope) } : {}),
          value: this.term(e.value, scope),
          collection: this.term(e.collection, scope),
        };
        break;
      case 'every': {
        const inner: Scope = { parent: scope, names: new Map() };
        const declare = (t: ast.Term) => {
          forEachTermShallow(t, (x) => {
            if (x.type === 'var') inner.names.set(x.name, this.fresh(x.name));
          });
        };
        if (e.key) declare(e.key);
        declare(e.value);
        const bodyScope = this.bodyScope(e.body, inner, []);
        expr = {
          ...e,
          ...(e.key ? { key: this.term(e.key, inner) } : {}),
          value: this.term(e.value, inner),
          domain: this.term(e.domain, scope),
          body: this.bodyIn(e.body, bodyScope),
        };
        break;
      }
      case 'notbody': {
        const inner = this.bodyScope(e.body, scope, []);
        expr = { ...e, body: this.bodyIn(e.body, inner) };
        break;
      }
    }
    return { ...lit, expr, with: withs };
  }

  /** A var or dotted ref that is no local or global but a builtin's name. */
  private namesBuiltin(t: ast.Term, scope: Scope | undefined): boolean {
    const head = t.type === 'var' ? t : t.type === 'ref' ? t.head : undefined;
    if (head?.type !== 'var') return false;
    if (this.lookup(scope, head.name) !== undefined || this.global(head.name, head.loc))
      return false;
    const parts = t.type === 'ref' ? t.path.map((p) => (p.type === 'string' ? p.value : '')) : [];
    return lookupBuiltin([head.name, ...parts].join('.')) !== undefined;
  }

  /** `with` targets name globals (input/data paths) or functions; they are never locals. */
  private withTarget(target: ast.RefTerm): ast.RefTerm {
    const head = target.head;
    if (head.type !== 'var') return target;
    const g = this.global(head.name, head.loc);
    if (!g || ROOTS.has(head.name)) return target;
    return { ...target, head: g.head, path: [...g.path, ...target.path] };
  }

  private term(t: ast.Term, scope: Scope): ast.Term {
    switch (t.type) {
      case 'var': {
        const local = this.lookup(scope, t.name);
        if (local !== undefined) return { ...t, name: local };
        const g = this.global(t.name, t.loc);
        if (g) return g.path.length === 0 ? g.head : g;
        // A name nobody declared: a fresh local of this scope (safety reports it if unbound).
        const name = this.fresh(t.name);
        scope.names.set(t.name, name);
        return { ...t, name };
      }
      case 'ref': {
        const path = t.path.map((p) => this.term(p, scope));
        if (t.head.type === 'var') {
          const head = this.term(t.head, scope);
          if (head.type === 'ref') return { ...t, head: head.head, path: [...head.path, ...path] };
          return { ...t, head, path };
        }
        return { ...t, head: this.term(t.head, scope), path };
      }
      case 'call':
        return {
          ...t,
          operator: this.operator(t.operator, scope),
          args: t.args.map((a) => this.term(a, scope)),
        };
      case 'array':
        return { ...t, items: t.items.map((x) => this.term(x, scope)) };
      case 'set':
        return { ...t, items: t.items.map((x) => this.term(x, scope)) };
      case 'object':
        return {
          ...t,
          entries: t.entries.map(([k, v]) => [this.term(k, scope), this.term(v, scope)] as const),
        };
      case 'arraycomp': {
        const s = this.bodyScope(t.body, scope, [t.head]);
        return { ...t, body: this.bodyIn(t.body, s), head: this.term(t.head, s) };
      }
      case 'setcomp': {
        const s = this.bodyScope(t.body, scope, [t.head]);
        return { ...t, body: this.bodyIn(t.body, s), head: this.term(t.head, s) };
      }
      case 'objectcomp': {
        const s = this.bodyScope(t.body, scope, [t.key, t.value]);
        return {
          ...t,
          body: this.bodyIn(t.body, s),
          key: this.term(t.key, s),
          value: this.term(t.value, s),
        };
      }
      default:
        return t;
    }
  }

  /** A call's operator: user functions become `data...` refs; builtins keep their name. */
  private operator(op: ast.RefTerm, scope: Scope): ast.RefTerm {
    const head = op.head;
    if (head.type !== 'var') return op;
    if (this.lookup(scope, head.name) !== undefined) return op;
    const g = this.global(head.name, head.loc);
    if (g?.head.type !== 'var' || g.head.name !== 'data') return op;
    return { ...op, head: g.head, path: [...g.path, ...op.path] };
  }
}
