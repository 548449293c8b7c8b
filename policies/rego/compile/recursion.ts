/** Rules may not depend on themselves, directly or through others (`rego_recursion_error`). */
import type { Diagnostic } from '../../diagnostic';
import type * as ast from '../ast';
import { hasRules, pathKey, showPath, type RuleNode, type RuleTree } from './tree';
import { forEachTermShallow, isClosure } from './walk';

/** A `rego_recursion_error` for each rule that depends on itself, directly or through others. */
export function checkRecursion(tree: RuleTree): Diagnostic[] {
  const deps = new Map<RuleNode, Set<RuleNode>>();
  for (const node of tree.allNodes()) {
    if (!hasRules(node)) continue;
    const out = new Set<RuleNode>();
    const defs = node.defaultDef ? [...node.defs, node.defaultDef] : node.defs;
    for (const def of defs) {
      for (const ref of dataRefs(def.rule))
        for (const target of targets(tree, ref)) out.add(target);
    }
    deps.set(node, out);
  }
  const diagnostics: Diagnostic[] = [];
  const state = new Map<RuleNode, 'active' | 'done'>();
  const reported = new Set<string>();
  const stack: RuleNode[] = [];
  const visit = (node: RuleNode): void => {
    state.set(node, 'active');
    stack.push(node);
    for (const next of deps.get(node) ?? []) {
      const s = state.get(next);
      if (s === 'active') {
        const cycle = stack.slice(stack.indexOf(next)).concat(next);
        const key = pathKey(next.path);
        if (!reported.has(key)) {
          reported.add(key);
          const def = next.defs[0] ?? next.defaultDef;
          diagnostics.push({
            code: 'rego_recursion_error',
            message: `rule ${showPath(next.path)} is recursive: ${cycle.map((n) => showPath(n.path)).join(' -> ')}`,
            ...(def ? { position: def.rule.loc } : {}),
          });
        }
      } else if (s === undefined) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of deps.keys()) if (!state.has(node)) visit(node);
  return diagnostics;
}

/** The path terms of every `data` ref and user function call in a rule. */
function dataRefs(rule: ast.Rule): (readonly ast.Term[])[] {
  const out: (readonly ast.Term[])[] = [];
  const refHeads = new Set<ast.Term>();
  const term = (t: ast.Term): void => {
    forEachTermShallow(t, (x) => {
      if (x.type === 'ref') refHeads.add(x.head);
      if (x.type === 'ref' && x.head.type === 'var' && x.head.name === 'data') out.push(x.path);
      if (x.type === 'var' && x.name === 'data' && !refHeads.has(x)) out.push([]);
      if (x.type === 'call' && x.operator.head.type === 'var' && x.operator.head.name === 'data') {
        out.push(x.operator.path);
      }
      if (isClosure(x)) {
        body(x.body);
        if (x.type === 'objectcomp') {
          term(x.key);
          term(x.value);
        } else term(x.head);
      }
    });
  };
  const body = (b: ast.Body): void => {
    for (const lit of b) {
      const e = lit.expr;
      if (e.type === 'term') term(e.term);
      else if (e.type === 'somein') {
        if (e.key) term(e.key);
        term(e.value);
        term(e.collection);
      } else if (e.type === 'every') {
        term(e.domain);
        body(e.body);
      } else if (e.type === 'notbody') body(e.body);
      for (const w of lit.with) term(w.value);
    }
  };
  body(rule.body);
  for (const e of rule.else) {
    body(e.body);
    if (e.value) term(e.value);
  }
  for (const t of [
    ...rule.head.ref.slice(1),
    ...(rule.head.key ? [rule.head.key] : []),
    ...(rule.head.value ? [rule.head.value] : []),
  ]) {
    term(t);
  }
  return out;
}

/**
 * The rule nodes a ref may read: constant strings pick one child, other scalars none (rule
 * paths are strings), anything else every child; a node with rules ends the walk, and a path
 * that ends above rules reads all of them.
 */
function targets(tree: RuleTree, path: readonly ast.Term[]): RuleNode[] {
  const out: RuleNode[] = [];
  const all = (n: RuleNode): void => {
    if (hasRules(n)) out.push(n);
    for (const c of n.children.values()) all(c);
  };
  const walk = (n: RuleNode, i: number): void => {
    if (hasRules(n)) {
      out.push(n);
      return;
    }
    const part = path[i];
    if (!part) {
      all(n);
      return;
    }
    if (part.type === 'string') {
      const c = n.children.get(part.value);
      if (c) walk(c, i + 1);
      return;
    }
    if (part.type === 'number' || part.type === 'boolean' || part.type === 'null') return;
    for (const c of n.children.values()) walk(c, i + 1);
  };
  walk(tree.root, 0);
  return out;
}
