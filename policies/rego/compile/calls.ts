/** Every call must name a builtin or a user function, with a number of arguments it takes. */
import type { Diagnostic } from '../../diagnostic';
import type * as ast from '../ast';
import { lookupBuiltin } from '../builtins';
import { nodeKind, showPath, type RuleTree } from './tree';
import { forEachTermShallow, isClosure } from './walk';

/** Builtins the planner handles itself. */
const SPECIAL = new Set(['print']);

/**
 * Checks every call in `body`, nested bodies included: it must name a builtin or a function of
 * `tree` and pass as many arguments as it takes (or one more, the output); `rego_type_error`
 * otherwise.
 */
export function checkCalls(tree: RuleTree, body: ast.Body): Diagnostic[] {
  const out: Diagnostic[] = [];
  const visitBody = (b: ast.Body): void => {
    for (const lit of b) {
      const e = lit.expr;
      if (e.type === 'term') visitTerm(e.term);
      else if (e.type === 'somein') visitTerm(e.collection);
      else if (e.type === 'every') {
        visitTerm(e.domain);
        visitBody(e.body);
      } else if (e.type === 'notbody') visitBody(e.body);
      for (const w of lit.with) visitTerm(w.value);
    }
  };
  const visitTerm = (t: ast.Term): void => {
    forEachTermShallow(t, (x) => {
      if (x.type === 'call') check(x);
      if (isClosure(x)) visitBody(x.body);
    });
  };
  const check = (call: ast.CallTerm): void => {
    if (call.infix === '=' || call.infix === ':=') return;
    const op = call.operator;
    const head = op.head.type === 'var' ? op.head.name : '';
    const parts = op.path.map((p) => (p.type === 'string' ? p.value : undefined));
    if (parts.includes(undefined)) {
      out.push({
        code: 'rego_type_error',
        message: 'function names must be static references',
        position: call.loc,
      });
      return;
    }
    const names = parts as string[];
    if (head === 'data') {
      const node = tree.node(names);
      if (!node || nodeKind(node) !== 'function') {
        out.push({
          code: 'rego_type_error',
          message: `undefined function ${showPath(names)}`,
          position: call.loc,
        });
        return;
      }
      const arity = (node.defs[0] ?? node.defaultDef)?.rule.head.args?.length ?? 0;
      arityCheck(showPath(names), arity, call);
      return;
    }
    const name = [head, ...names].join('.');
    if (SPECIAL.has(name)) return;
    const def = lookupBuiltin(name);
    if (!def) {
      out.push({
        code: 'rego_type_error',
        message: `undefined function ${name}`,
        position: call.loc,
      });
      return;
    }
    arityCheck(name, def.args.length, call);
  };
  const arityCheck = (name: string, arity: number, call: ast.CallTerm): void => {
    if (call.args.length === arity || call.args.length === arity + 1) return;
    out.push({
      code: 'rego_type_error',
      message: `${name}: arity mismatch: takes ${arity} argument${arity === 1 ? '' : 's'} but ${call.args.length} given`,
      position: call.loc,
    });
  };
  visitBody(body);
  return out;
}
