/**
 * Safety: every variable must be bound before it is used. Bodies are reordered so that each
 * literal comes after the literals that bind its inputs (as OPA does); variables that no order
 * can bind are `rego_unsafe_var_error`s.
 *
 * Runs after `resolve`, so every local var name is unique within its rule and `data`/`input`
 * are the only roots.
 */
import type { Diagnostic } from '../../diagnostic';
import type * as ast from '../ast';
import { lookupBuiltin } from '../builtins';
import { ROOTS } from './resolve';
import { forEachTermShallow, isClosure } from './walk';

/** Number of declared arguments of the function a call names, if known. */
export type ArityOf = (call: ast.CallTerm) => number | undefined;

type Bound = ReadonlySet<string>;

/** A term's demands: vars it needs bound, and vars it binds (ref iteration, patterns). */
interface Demand {
  readonly needs: Set<string>;
  readonly binds: Set<string>;
}

const emptyDemand = (): Demand => ({ needs: new Set(), binds: new Set() });

function isLocal(name: string): boolean {
  return !ROOTS.has(name);
}

/**
 * Orders bodies so every variable is bound before use, collecting `rego_unsafe_var_error`s in
 * `diagnostics`.
 */
export class Safety {
  readonly diagnostics: Diagnostic[] = [];
  /** Vars seen (outside closures) in the bodies being analysed, innermost last. */
  private readonly scopeVars: Set<string>[] = [];

  constructor(private readonly arityOf: ArityOf) {}

  /**
   * Reorders `body` given the vars bound on entry; returns the new body and the vars bound at
   * its end. `scopeVars` are the vars of enclosing scopes (captured by closures).
   */
  body(
    body: ast.Body,
    bound: Bound,
    reportUnsafe = true,
  ): { body: ast.Body; bound: Set<string>; unsatisfied: Set<string> } {
    const scope = new Set(this.scopeVars[this.scopeVars.length - 1]);
    for (const lit of body) for (const t of literalVarTerms(lit)) scope.add(t.name);
    this.scopeVars.push(scope);
    try {
      return this.schedule(body, bound, reportUnsafe);
    } finally {
      this.scopeVars.pop();
    }
  }

  private schedule(
    body: ast.Body,
    bound: Bound,
    reportUnsafe: boolean,
  ): { body: ast.Body; bound: Set<string>; unsatisfied: Set<string> } {
    const unsatisfied = new Set<string>();
    const out: ast.Literal[] = [];
    const now = new Set(bound);
    const pending = [...body];
    // Vars each pending literal mentions; a `not` waits until those that others can bind are.
    while (pending.length > 0) {
      let picked = -1;
      for (let i = 0; i < pending.length; i++) {
        const lit = pending[i] as ast.Literal;
        if (this.ready(lit, now, pending)) {
          picked = i;
          break;
        }
      }
      if (picked < 0) {
        if (reportUnsafe) this.reportUnsafe(pending, now);
        for (const lit of pending) {
          for (const v of this.literalDemand(lit, now).needs) if (!now.has(v)) unsatisfied.add(v);
        }
        // Keep going in source order so later stages still see every literal.
        for (const lit of pending) out.push(this.literal(lit, now));
        break;
      }
      const [lit] = pending.splice(picked, 1) as [ast.Literal];
      out.push(this.literal(lit, now));
      for (const v of this.binds(lit, now)) now.add(v);
    }
    return { body: out, bound: now, unsatisfied };
  }

  /** Checks that `terms` (a rule head's parts) only use bound vars. */
  headSafe(terms: readonly ast.Term[], bound: Bound): void {
    for (const t of terms) {
      const d = this.termDemand(t, bound);
      forEachTermShallow(t, (x) => {
        if (x.type === 'var' && d.needs.has(x.name)) this.unsafe(x);
      });
    }
  }

  private unsafe(v: ast.VarTerm): void {
    const display = v.name.startsWith('$_') ? '_' : v.name.replace(/__\d+$/, '');
    if (this.diagnostics.some((d) => d.position === v.loc)) return;
    this.diagnostics.push({
      code: 'rego_unsafe_var_error',
      message: `var ${display} is unsafe`,
      position: v.loc,
      token: display,
    });
  }

  private reportUnsafe(pending: readonly ast.Literal[], bound: Bound): void {
    const reported = new Set<string>();
    for (const lit of pending) {
      const d = this.literalDemand(lit, bound);
      for (const t of literalVarTerms(lit)) {
        if (d.needs.has(t.name) && !bound.has(t.name) && !reported.has(t.name)) {
          reported.add(t.name);
          this.unsafe(t);
        }
      }
    }
  }

  private ready(lit: ast.Literal, bound: Bound, pending: readonly ast.Literal[]): boolean {
    const d = this.literalDemand(lit, bound);
    for (const v of d.needs) if (!bound.has(v)) return false;
    if (lit.negated) {
      // A negated literal runs once the vars that other literals bind are bound.
      const others = new Set<string>();
      for (const o of pending)
        if (o !== lit) for (const t of literalVarTerms(o)) others.add(t.name);
      for (const t of literalVarTerms(lit))
        if (others.has(t.name) && !bound.has(t.name)) return false;
    }
    return true;
  }

  private binds(lit: ast.Literal, bound: Bound): Set<string> {
    if (lit.negated) return new Set();
    return this.literalDemand(lit, bound).binds;
  }

  /** Reorders the bodies nested in a literal (closures, `every`), now that `bound` is known. */
  private literal(lit: ast.Literal, bound: Bound): ast.Literal {
    const e = lit.expr;
    const term = (t: ast.Term) => this.nested(t, bound);
    const withs = lit.with.map((w) => ({ ...w, value: term(w.value) }));
    switch (e.type) {
      case 'term':
        return { ...lit, expr: { ...e, term: term(e.term) }, with: withs };
      case 'somein':
        return { ...lit, expr: { ...e, collection: term(e.collection) }, with: withs };
      case 'every': {
        const inner = new Set(bound);
        const d = this.literalDemand(lit, bound);
        for (const v of d.binds) inner.add(v);
        if (e.key) for (const v of patternVars(e.key)) inner.add(v);
        for (const v of patternVars(e.value)) inner.add(v);
        const { body } = this.body(e.body, inner);
        return { ...lit, expr: { ...e, domain: term(e.domain), body }, with: withs };
      }
      case 'notbody':
        return { ...lit, expr: { ...e, body: this.body(e.body, bound).body }, with: withs };
      default:
        return { ...lit, with: withs };
    }
  }

  private nested(t: ast.Term, bound: Bound): ast.Term {
    const rec = (x: ast.Term) => this.nested(x, bound);
    switch (t.type) {
      case 'ref':
        return { ...t, head: rec(t.head), path: t.path.map(rec) };
      case 'array':
        return { ...t, items: t.items.map(rec) };
      case 'set':
        return { ...t, items: t.items.map(rec) };
      case 'object':
        return { ...t, entries: t.entries.map(([k, v]) => [rec(k), rec(v)] as const) };
      case 'call':
        return { ...t, args: t.args.map(rec) };
      case 'arraycomp':
      case 'setcomp':
      case 'objectcomp': {
        const r = this.body(t.body, bound);
        const heads = t.type === 'objectcomp' ? [t.key, t.value] : [t.head];
        this.headSafe(heads, r.bound);
        return { ...t, body: r.body };
      }
      default:
        return t;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Demands

  /** What running `lit` needs bound first, and what it binds. */
  literalDemand(lit: ast.Literal, bound: Bound): Demand {
    const d = emptyDemand();
    for (const w of lit.with)
      if (!namesBuiltin(w.value, bound)) merge(d, this.termDemand(w.value, bound));
    const e = lit.expr;
    switch (e.type) {
      case 'some':
        return d;
      case 'somein': {
        merge(d, this.termDemand(e.collection, bound));
        const after = union(bound, d.binds);
        if (e.key) merge(d, this.patternDemand(e.key, after));
        merge(d, this.patternDemand(e.value, after));
        return d;
      }
      case 'every': {
        merge(d, this.termDemand(e.domain, bound));
        const own = patternVars(e.value);
        if (e.key) for (const v of patternVars(e.key)) own.add(v);
        for (const v of this.closureCaptures(e.body, union(bound, own), []))
          if (!own.has(v)) d.needs.add(v);
        // every binds nothing outside.
        d.binds.clear();
        return d;
      }
      case 'term':
        merge(d, this.exprDemand(e.term, bound));
        return d;
      case 'notbody':
        for (const v of this.closureCaptures(e.body, bound, [])) d.needs.add(v);
        return d;
    }
  }

  private exprDemand(t: ast.Term, bound: Bound): Demand {
    if (t.type === 'call') {
      if (t.infix === '=' || t.infix === ':=') {
        const [a, b] = t.args as [ast.Term, ast.Term];
        return this.unifyDemand(a, b, bound);
      }
      const arity = this.arityOf(t);
      if (arity !== undefined && t.args.length === arity + 1) {
        // The last argument receives the result: it is a pattern.
        const d = emptyDemand();
        for (const a of t.args.slice(0, arity)) merge(d, this.termDemand(a, union(bound, d.binds)));
        merge(d, this.patternDemand(t.args[arity] as ast.Term, union(bound, d.binds)));
        return d;
      }
    }
    return this.termDemand(t, bound);
  }

  /** Demand of `a = b`: one side may bind the other's pattern vars. */
  private unifyDemand(a: ast.Term, b: ast.Term, bound: Bound): Demand {
    const da = this.termDemand(a, bound);
    const db = this.termDemand(b, bound);
    const aReady = [...da.needs].every((v) => bound.has(v));
    const bReady = [...db.needs].every((v) => bound.has(v));
    if (aReady && bReady) return { needs: new Set(), binds: union(da.binds, db.binds) };
    if (bReady) {
      const after = union(bound, db.binds);
      const pa = this.patternDemand(a, after);
      return { needs: pa.needs, binds: union(db.binds, pa.binds) };
    }
    if (aReady) {
      const after = union(bound, da.binds);
      const pb = this.patternDemand(b, after);
      return { needs: pb.needs, binds: union(da.binds, pb.binds) };
    }
    // Both sides are patterns: composite against composite binds element by element.
    if (
      (a.type === 'array' && b.type === 'array' && a.items.length === b.items.length) ||
      (a.type === 'object' && b.type === 'object')
    ) {
      const pairs: [ast.Term, ast.Term][] =
        a.type === 'array' && b.type === 'array'
          ? a.items.map((x, i) => [x, b.items[i] as ast.Term])
          : objectPairs(a as ast.ObjectTerm, b as ast.ObjectTerm);
      const now = new Set(bound);
      const binds = new Set<string>();
      let progress = true;
      let remaining = pairs;
      while (progress && remaining.length > 0) {
        progress = false;
        const next: [ast.Term, ast.Term][] = [];
        for (const [x, y] of remaining) {
          const d = this.unifyDemand(x, y, now);
          if ([...d.needs].every((v) => now.has(v))) {
            for (const v of d.binds) {
              now.add(v);
              binds.add(v);
            }
            progress = true;
          } else next.push([x, y]);
        }
        remaining = next;
      }
      const needs = new Set<string>();
      for (const [x, y] of remaining)
        for (const v of this.unifyDemand(x, y, now).needs) needs.add(v);
      return { needs, binds };
    }
    // Neither side can be evaluated: report the needs of both.
    return { needs: union(da.needs, db.needs), binds: new Set() };
  }

  /** A pattern: vars in it (outside refs and calls) are bound by matching. */
  private patternDemand(t: ast.Term, bound: Bound): Demand {
    switch (t.type) {
      case 'var':
        return isLocal(t.name) && !bound.has(t.name)
          ? { needs: new Set(), binds: new Set([t.name]) }
          : emptyDemand();
      case 'array': {
        const d = emptyDemand();
        for (const x of t.items) merge(d, this.patternDemand(x, bound));
        return d;
      }
      case 'object': {
        const d = emptyDemand();
        for (const [k, v] of t.entries) {
          merge(d, this.termDemand(k, bound));
          merge(d, this.patternDemand(v, bound));
        }
        return d;
      }
      default:
        return this.termDemand(t, bound);
    }
  }

  /** Evaluating a term: its vars must be bound, except unbound vars in ref paths (iteration). */
  termDemand(t: ast.Term, bound: Bound): Demand {
    const d = emptyDemand();
    const visit = (x: ast.Term, now: Set<string>): void => {
      switch (x.type) {
        case 'var':
          if (isLocal(x.name) && !now.has(x.name)) d.needs.add(x.name);
          return;
        case 'ref': {
          visit(x.head, now);
          for (const p of x.path) {
            if (p.type === 'var' && isLocal(p.name) && !now.has(p.name)) {
              d.binds.add(p.name);
              now.add(p.name);
            } else if (p.type === 'array' || p.type === 'object') {
              // A composite key pattern: its vars are bound by matching the collection's keys.
              for (const v of this.patternDemand(p, now).binds) {
                d.binds.add(v);
                now.add(v);
              }
              visit(p, now);
            } else visit(p, now);
          }
          return;
        }
        case 'array':
        case 'set':
          for (const i of x.items) visit(i, now);
          return;
        case 'object':
          for (const [k, v] of x.entries) {
            visit(k, now);
            visit(v, now);
          }
          return;
        case 'call':
          for (const a of x.args) visit(a, now);
          return;
        case 'arraycomp':
        case 'setcomp':
        case 'objectcomp':
          for (const v of this.closureCaptures(
            x.body,
            now,
            x.type === 'objectcomp' ? [x.key, x.value] : [x.head],
          ))
            if (!now.has(v)) d.needs.add(v);
          return;
        default:
          return;
      }
    };
    // Refs bind their path vars wherever they stand in the term (`x == xs[x]`): collect those
    // first, then see what else is needed.
    visit(t, new Set(bound));
    const binds = new Set(d.binds);
    d.needs.clear();
    visit(t, union(bound, binds));
    for (const v of binds) d.binds.add(v);
    return d;
  }

  /**
   * Vars a closure needs from outside: those it uses that it cannot bind itself. Computed by
   * running safety on the closure body with what is bound outside.
   */
  private closureCaptures(body: ast.Body, bound: Bound, heads: readonly ast.Term[]): Set<string> {
    const all = new Set<string>();
    for (const lit of body) for (const t of literalVarTermsDeep(lit)) all.add(t.name);
    for (const h of heads) forEachTermShallow(h, (x) => x.type === 'var' && all.add(x.name));
    // Vars the enclosing bodies also use are the outer ones: they must be bound first.
    const outer = this.scopeVars[this.scopeVars.length - 1] ?? new Set<string>();
    const needs = new Set<string>();
    for (const v of all) if (isLocal(v) && outer.has(v)) needs.add(v);
    const inner = new Safety(this.arityOf);
    inner.scopeVars.push(new Set(outer));
    const r = inner.body(body, union(bound, needs), false);
    for (const v of r.unsatisfied) if (!bound.has(v)) needs.add(v);
    for (const h of heads) for (const v of this.termDemand(h, r.bound).needs) needs.add(v);
    return needs;
  }
}

/** `with f as count`: a builtin's name used as a value (when no local of that name is bound). */
function namesBuiltin(t: ast.Term, bound: Bound): boolean {
  const head = t.type === 'var' ? t : t.type === 'ref' ? t.head : undefined;
  if (head?.type !== 'var' || bound.has(head.name) || !isLocal(head.name)) return false;
  const parts = t.type === 'ref' ? t.path.map((p) => (p.type === 'string' ? p.value : '')) : [];
  return lookupBuiltin([head.name, ...parts].join('.')) !== undefined;
}

function objectPairs(a: ast.ObjectTerm, b: ast.ObjectTerm): [ast.Term, ast.Term][] {
  const pairs: [ast.Term, ast.Term][] = [];
  for (const [ka, va] of a.entries) {
    const match = b.entries.find(([kb]) => sameGround(ka, kb));
    if (match) pairs.push([va, match[1]]);
  }
  return pairs;
}

function sameGround(a: ast.Term, b: ast.Term): boolean {
  if (a.type === 'string' && b.type === 'string') return a.value === b.value;
  if (a.type === 'number' && b.type === 'number') return Number(a.raw) === Number(b.raw);
  if (a.type === 'boolean' && b.type === 'boolean') return a.value === b.value;
  return a.type === 'null' && b.type === 'null';
}

function patternVars(t: ast.Term): Set<string> {
  const out = new Set<string>();
  forEachTermShallow(t, (x) => {
    if (x.type === 'var' && isLocal(x.name)) out.add(x.name);
  });
  return out;
}

function merge(into: Demand, from: Demand): void {
  for (const v of from.needs) if (!into.binds.has(v)) into.needs.add(v);
  for (const v of from.binds) into.binds.add(v);
}

function union(a: ReadonlySet<string>, b: ReadonlySet<string>): Set<string> {
  const out = new Set(a);
  for (const v of b) out.add(v);
  return out;
}

/** Local var occurrences of a literal, outside nested bodies. */
function literalVarTerms(lit: ast.Literal): ast.VarTerm[] {
  const out: ast.VarTerm[] = [];
  const e = lit.expr;
  const visit = (t: ast.Term) => {
    forEachTermShallow(t, (x) => {
      if (x.type === 'var' && isLocal(x.name)) out.push(x);
    });
  };
  if (e.type === 'term') visit(e.term);
  else if (e.type === 'some') out.push(...e.vars);
  else if (e.type === 'somein') {
    if (e.key) visit(e.key);
    visit(e.value);
    visit(e.collection);
  } else if (e.type === 'every') visit(e.domain);
  for (const w of lit.with) visit(w.value);
  return out;
}

/** Local var occurrences of a literal, including nested bodies. */
function literalVarTermsDeep(lit: ast.Literal): ast.VarTerm[] {
  const out = literalVarTerms(lit);
  const deep = (t: ast.Term) => {
    forEachTermShallow(t, (x) => {
      if (isClosure(x)) {
        for (const l of x.body) out.push(...literalVarTermsDeep(l));
        const heads = x.type === 'objectcomp' ? [x.key, x.value] : [x.head];
        for (const h of heads) deep(h);
      } else if (x.type === 'var' && isLocal(x.name)) out.push(x);
    });
  };
  const e = lit.expr;
  if (e.type === 'term') deep(e.term);
  else if (e.type === 'every' || e.type === 'notbody')
    for (const l of e.body) out.push(...literalVarTermsDeep(l));
  else if (e.type === 'somein') deep(e.collection);
  return out;
}
