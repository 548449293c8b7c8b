/** Generic traversals over Rego terms and bodies. */
import type * as ast from '../ast';

/** Calls `visit` on every term below (and including) `term`, not entering closures. */
export function forEachTermShallow(term: ast.Term, visit: (t: ast.Term) => void): void {
  visit(term);
  switch (term.type) {
    case 'ref':
      forEachTermShallow(term.head, visit);
      for (const p of term.path) forEachTermShallow(p, visit);
      return;
    case 'array':
    case 'set':
      for (const t of term.items) forEachTermShallow(t, visit);
      return;
    case 'object':
      for (const [k, v] of term.entries) {
        forEachTermShallow(k, visit);
        forEachTermShallow(v, visit);
      }
      return;
    case 'call':
      for (const a of term.args) forEachTermShallow(a, visit);
      return;
    default:
      return;
  }
}

/** Whether `t` is a comprehension, whose body has its own scope. */
export function isClosure(
  t: ast.Term,
): t is ast.ArrayComprehension | ast.SetComprehension | ast.ObjectComprehension {
  return t.type === 'arraycomp' || t.type === 'setcomp' || t.type === 'objectcomp';
}

/** Names of the vars in `term` outside closures. */
export function varsOf(term: ast.Term, out = new Set<string>()): Set<string> {
  forEachTermShallow(term, (t) => {
    if (t.type === 'var') out.add(t.name);
  });
  return out;
}

/** The terms a literal is made of (outside its nested bodies). */
export function literalTerms(lit: ast.Literal): ast.Term[] {
  const e = lit.expr;
  const terms: ast.Term[] = [];
  switch (e.type) {
    case 'term':
      terms.push(e.term);
      break;
    case 'some':
      terms.push(...e.vars);
      break;
    case 'somein':
      if (e.key) terms.push(e.key);
      terms.push(e.value, e.collection);
      break;
    case 'every':
      terms.push(e.domain);
      break;
    case 'notbody':
      break;
  }
  for (const w of lit.with) terms.push(w.target, w.value);
  return terms;
}

/** Rebuilds a term bottom-up with `f` applied to each rebuilt node (closures included). */
export function mapTerm(
  term: ast.Term,
  f: (t: ast.Term) => ast.Term,
  body: (b: ast.Body) => ast.Body,
): ast.Term {
  const rec = (t: ast.Term): ast.Term => mapTerm(t, f, body);
  switch (term.type) {
    case 'ref':
      return f({ ...term, head: rec(term.head), path: term.path.map(rec) });
    case 'array':
      return f({ ...term, items: term.items.map(rec) });
    case 'set':
      return f({ ...term, items: term.items.map(rec) });
    case 'object':
      return f({ ...term, entries: term.entries.map(([k, v]) => [rec(k), rec(v)] as const) });
    case 'call':
      return f({ ...term, args: term.args.map(rec) });
    case 'arraycomp':
      return f({ ...term, head: rec(term.head), body: body(term.body) });
    case 'setcomp':
      return f({ ...term, head: rec(term.head), body: body(term.body) });
    case 'objectcomp':
      return f({ ...term, key: rec(term.key), value: rec(term.value), body: body(term.body) });
    default:
      return f(term);
  }
}

/** Whether `term` is a constant: no variables, refs, calls or comprehensions anywhere in it. */
export function isGround(term: ast.Term): boolean {
  let ground = true;
  forEachTermShallow(term, (t) => {
    if (t.type === 'var' || t.type === 'ref' || t.type === 'call' || isClosure(t)) ground = false;
  });
  return ground;
}
