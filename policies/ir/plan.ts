/**
 * The planner: lowers a compiled Rego program (rule tree of resolved, reordered rules) to IR.
 *
 * Bodies are planned in continuation-passing style: planning a literal takes "the rest of the
 * body" as a callback and calls it where the rest must run — inside the block of a `scan` when
 * the literal iterates — so Rego's search becomes nested blocks with no backtracking at run time.
 */
import { PolicyError, type Diagnostic } from '../diagnostic';
import type * as ast from '../rego/ast';
import { lookupBuiltin } from '../rego/builtins';
import {
  hasRules,
  nodeKind,
  showPath,
  type RuleDef,
  type RuleNode,
  type RuleTree,
} from '../rego/compile/tree';
import { forEachTermShallow } from '../rego/compile/walk';
import { encodeConst } from './consts';
import type {
  Block,
  ConflictInfo,
  ConstJSON,
  CoverageMark,
  Func,
  Local,
  Operand,
  Plan,
  Policy,
  Stmt,
} from './types';
import { ObjectValue, SetValue, parseNumber, type Value } from './value';

const INPUT: Local = 0;
const DATA: Local = 1;

type Cont = () => void;
type OpCont = (op: Operand) => void;

class FnBuilder {
  nlocals = 2;
  vars = new Map<string, Local>();
  out: Stmt[] = [];

  newLocal(): Local {
    return this.nlocals++;
  }

  emit(stmt: Stmt): void {
    this.out.push(stmt);
  }

  /** Plans `fn` into a new block; vars bound inside do not leak out. */
  block(fn: () => void): Block {
    const savedVars = new Map(this.vars);
    const savedOut = this.out;
    this.out = [];
    fn();
    const block: Block = { stmts: this.out };
    this.out = savedOut;
    this.vars = savedVars;
    return block;
  }
}

/** What to plan: entrypoints, ad-hoc queries, and whether to mark coverage. */
export interface PlanOptions {
  /** Emit `mark` statements recording which rule definitions held (test coverage). */
  readonly coverage?: boolean;
  /** Entry points: rule paths below data (`["rbac", "allow"]`). */
  readonly entrypoints?: readonly (readonly string[])[];
  /** Ad-hoc queries (already compiled bodies) with names. */
  readonly queries?: readonly {
    readonly name: string;
    readonly body: ast.Body;
    readonly vars: readonly string[];
  }[];
}

/** Lowers a compiled rule tree to an IR policy; one planner per policy. */
export class Planner {
  private readonly consts: ConstJSON[] = [];
  private readonly constIndex = new Map<string, number>();
  private readonly funcs = new Map<string, Func | null>();
  private fn = new FnBuilder();

  constructor(private readonly tree: RuleTree) {}

  private coverage = false;
  private readonly marks: CoverageMark[] = [];

  /**
   * The policy with one plan per query and entrypoint (queries first), and the functions they
   * call; throws PolicyError for a variable left unsafe.
   */
  plan(options: PlanOptions): Policy {
    this.coverage = options.coverage ?? false;
    const plans: Plan[] = [];
    for (const q of options.queries ?? []) plans.push(this.planQuery(q.name, q.body, q.vars));
    for (const path of options.entrypoints ?? []) plans.push(this.planEntrypoint(path));
    const funcs = [...this.funcs.values()].filter((f): f is Func => f !== null);
    return { consts: this.consts, funcs, plans, ...(this.coverage ? { marks: this.marks } : {}) };
  }

  // -------------------------------------------------------------------------------------------
  // Plans

  private planQuery(name: string, body: ast.Body, vars: readonly string[]): Plan {
    const fn = new FnBuilder();
    const saved = this.fn;
    this.fn = fn;
    try {
      this.body(body, 0, () => {
        const res = fn.newLocal();
        fn.emit({ op: 'makeObject', dst: res });
        for (const v of vars) {
          const local = fn.vars.get(v);
          if (local !== undefined)
            fn.emit({ op: 'objectInsert', obj: res, key: this.constOf(v), value: { local } });
        }
        fn.emit({ op: 'resultAdd', value: res });
      });
      return { name, locals: fn.nlocals, block: { stmts: fn.out }, vars };
    } finally {
      this.fn = saved;
    }
  }

  private planEntrypoint(path: readonly string[]): Plan {
    const fn = new FnBuilder();
    const saved = this.fn;
    this.fn = fn;
    try {
      this.dataRef(
        path.map((value) => this.stringTerm(value)),
        (op) => {
          const res = fn.newLocal();
          fn.emit({ op: 'makeObject', dst: res });
          fn.emit({ op: 'objectInsert', obj: res, key: this.constOf('result'), value: op });
          fn.emit({ op: 'resultAdd', value: res });
        },
      );
      return {
        name: path.join('/'),
        locals: fn.nlocals,
        block: { stmts: fn.out },
        vars: ['result'],
      };
    } finally {
      this.fn = saved;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Constants

  private constOf(v: Value): Operand {
    const c = encodeConst(v);
    const key = JSON.stringify(c);
    let index = this.constIndex.get(key);
    if (index === undefined) {
      index = this.consts.length;
      this.consts.push(c);
      this.constIndex.set(key, index);
    }
    return { const: index };
  }

  private stringTerm(value: string): ast.StringTerm {
    return { type: 'string', value, loc: { file: '', line: 0, col: 0, offset: 0 } };
  }

  // -------------------------------------------------------------------------------------------
  // Bodies and literals

  private body(body: ast.Body, i: number, k: Cont): void {
    const lit = body[i];
    if (!lit) {
      k();
      return;
    }
    this.literal(lit, () => {
      this.body(body, i + 1, k);
    });
  }

  private literal(lit: ast.Literal, k: Cont): void {
    if (lit.with.length > 0) {
      this.withLiteral(lit, k);
      return;
    }
    if (lit.negated) {
      const block = this.fn.block(() => {
        this.expr(lit, () => undefined);
      });
      this.fn.emit({ op: 'not', block });
      k();
      return;
    }
    this.expr(lit, k);
  }

  /**
   * `lit with t1 as v1 ...`: the modifiers hold only while `lit` runs. The vars it binds are
   * collected inside the modified scope, then the rest of the body runs outside it, once per
   * collected binding.
   */
  private withLiteral(lit: ast.Literal, k: Cont): void {
    const fn = this.fn;
    const before = new Set(fn.vars.keys());
    const outputs = lit.negated ? [] : this.literalOutputs(lit, before);
    const acc = fn.newLocal();
    fn.emit({ op: 'makeArray', dst: acc });
    const inner = (): void => {
      const plain: ast.Literal = { ...lit, with: [] };
      this.literal(plain, () => {
        const tuple = fn.newLocal();
        fn.emit({ op: 'makeArray', dst: tuple });
        for (const v of outputs)
          fn.emit({ op: 'arrayAppend', array: tuple, value: { local: fn.vars.get(v) as Local } });
        fn.emit({ op: 'arrayAppend', array: acc, value: { local: tuple } });
      });
    };
    // Modifier values are evaluated outside the modified scope, in order.
    const mods = lit.with;
    const wrap = (i: number): void => {
      const w = mods[i];
      if (!w) {
        inner();
        return;
      }
      const next = (value: Operand): void => {
        this.withModifier(w, value, () => {
          wrap(i + 1);
        });
      };
      if (this.namesFunction(w.value)) next(this.constOf(null));
      else this.term(w.value, next);
    };
    fn.emit({
      op: 'blocks',
      blocks: [
        fn.block(() => {
          wrap(0);
        }),
      ],
    });
    const key = fn.newLocal();
    const tuple = fn.newLocal();
    const block = fn.block(() => {
      outputs.forEach((v, i) => {
        const local = fn.newLocal();
        fn.emit({ op: 'dot', src: { local: tuple }, key: this.constOf(i), dst: local });
        fn.vars.set(v, local);
      });
      k();
    });
    fn.emit({ op: 'scan', src: { local: acc }, key, value: tuple, block });
  }

  private withModifier(w: ast.WithModifier, value: Operand, k: Cont): void {
    const target = w.target;
    const head = target.head;
    const fn = this.fn;
    if (head.type === 'var' && (head.name === 'input' || head.name === 'data')) {
      const staticPath = target.path.every((p) => p.type === 'string');
      if (head.name === 'data' && staticPath) {
        const path = target.path.map((p) => p.value);
        const node = this.tree.node(path);
        if (node && nodeKind(node) === 'function') {
          const replacement = this.functionReplacement(w.value, value);
          fn.emit({ op: 'withFunction', func: showPath(path), replacement, block: fn.block(k) });
          return;
        }
      }
      const pathOps: Operand[] = [];
      const collect = (i: number): void => {
        const p = target.path[i];
        if (!p) {
          fn.emit({
            op: 'with',
            target: head.name as 'input' | 'data',
            path: pathOps,
            value,
            block: fn.block(k),
          });
          return;
        }
        this.term(p, (op) => {
          pathOps.push(op);
          collect(i + 1);
        });
      };
      collect(0);
      return;
    }
    // A builtin replaced: `with count as mock_count` or `with time.now_ns as 1`.
    const name = operatorName(target);
    const replacement = this.functionReplacement(w.value, value);
    fn.emit({ op: 'withFunction', func: name, replacement, block: fn.block(k) });
  }

  /** Does a term name a function (a user function or a builtin) rather than a value? */
  private namesFunction(term: ast.Term): boolean {
    if (term.type === 'ref' && term.head.type === 'var' && term.head.name === 'data') {
      const path = staticPath(term);
      const node = path ? this.tree.node(path) : undefined;
      return node !== undefined && hasRules(node) && nodeKind(node) === 'function';
    }
    if (term.type === 'var')
      return !this.isRootOrBound(term.name) && lookupBuiltin(term.name) !== undefined;
    if (term.type === 'ref' && term.head.type === 'var' && !this.isRootOrBound(term.head.name)) {
      return lookupBuiltin(operatorName(term)) !== undefined;
    }
    return false;
  }

  /** A `with` value naming a function replaces the target by that function; else by a value. */
  private functionReplacement(
    term: ast.Term,
    value: Operand,
  ): { func: string } | { value: Operand } {
    if (term.type === 'ref' && term.head.type === 'var' && term.head.name === 'data') {
      const path = staticPath(term);
      const node = path ? this.tree.node(path) : undefined;
      if (path && node && nodeKind(node) === 'function') {
        this.functionFunc(node);
        return { func: showPath(path) };
      }
    }
    if (term.type === 'var' && lookupBuiltin(term.name)) return { func: term.name };
    if (term.type === 'ref' && term.head.type === 'var') {
      const name = operatorName(term);
      if (lookupBuiltin(name)) return { func: name };
    }
    return { value };
  }

  /** Vars a literal will bind, given the vars bound before it. */
  private literalOutputs(lit: ast.Literal, bound: ReadonlySet<string>): string[] {
    const out = new Set<string>();
    const e = lit.expr;
    const visit = (t: ast.Term): void => {
      forEachTermShallow(t, (x) => {
        if (
          x.type === 'var' &&
          x.name !== 'data' &&
          x.name !== 'input' &&
          !x.name.startsWith('$_') &&
          !bound.has(x.name)
        )
          out.add(x.name);
      });
    };
    if (e.type === 'term') visit(e.term);
    else if (e.type === 'somein') {
      if (e.key) visit(e.key);
      visit(e.value);
    }
    return [...out];
  }

  private expr(lit: ast.Literal, k: Cont): void {
    const e = lit.expr;
    switch (e.type) {
      case 'some':
        k();
        return;
      case 'somein':
        this.someIn(e, k);
        return;
      case 'every':
        this.every(e, k);
        return;
      case 'term':
        this.exprTerm(e.term, k);
        return;
      case 'notbody': {
        const block = this.fn.block(() => {
          this.body(e.body, 0, () => undefined);
        });
        this.fn.emit({ op: 'not', block });
        k();
        return;
      }
    }
  }

  private someIn(e: ast.SomeIn, k: Cont): void {
    const fn = this.fn;
    this.term(e.collection, (src) => {
      const key = fn.newLocal();
      const value = fn.newLocal();
      const block = fn.block(() => {
        const matchValue = (): void => {
          this.match(e.value, { local: value }, k);
        };
        if (e.key) this.match(e.key, { local: key }, matchValue);
        else matchValue();
      });
      fn.emit({ op: 'scan', src, key, value, block });
    });
  }

  private every(e: ast.Every, k: Cont): void {
    const fn = this.fn;
    this.term(e.domain, (src) => {
      const key = fn.newLocal();
      const value = fn.newLocal();
      const scanBlock = fn.block(() => {
        const rest = (): void => {
          const bodyBlock = fn.block(() => {
            this.body(e.body, 0, () => undefined);
          });
          fn.emit({ op: 'not', block: bodyBlock });
        };
        const matchValue = (): void => {
          this.match(e.value, { local: value }, rest);
        };
        if (e.key) this.match(e.key, { local: key }, matchValue);
        else matchValue();
      });
      fn.emit({ op: 'not', block: { stmts: [{ op: 'scan', src, key, value, block: scanBlock }] } });
      k();
    });
  }

  private exprTerm(t: ast.Term, k: Cont): void {
    if (t.type === 'call') {
      if (t.infix === '=' || t.infix === ':=' || (isNamed(t, 'eq') && t.args.length === 2)) {
        this.unify(t.args[0] as ast.Term, t.args[1] as ast.Term, k);
        return;
      }
      const name = operatorName(t.operator);
      if (name === 'print') {
        this.print(t.args, k);
        return;
      }
      const arity = this.arity(t);
      if (arity !== undefined && t.args.length === arity + 1) {
        const last = t.args[arity] as ast.Term;
        this.call({ ...t, args: t.args.slice(0, arity) }, (result) => {
          this.match(last, result, k);
        });
        return;
      }
      this.call(t, (result) => {
        this.fn.emit({ op: 'truthy', src: result });
        k();
      });
      return;
    }
    this.term(t, (op) => {
      this.fn.emit({ op: 'truthy', src: op });
      k();
    });
  }

  private print(args: readonly ast.Term[], k: Cont): void {
    const fn = this.fn;
    const locals = args.map((arg) => {
      const local = fn.newLocal();
      fn.emit({ op: 'reset', dst: local });
      fn.emit({
        op: 'blocks',
        blocks: [
          fn.block(() => {
            this.term(arg, (op) => {
              fn.emit({ op: 'assign', src: op, dst: local });
            });
          }),
        ],
      });
      return { local };
    });
    fn.emit({ op: 'print', args: locals });
    k();
  }

  // -------------------------------------------------------------------------------------------
  // Unification

  private isBound(t: ast.Term): boolean {
    let bound = true;
    forEachTermShallow(t, (x) => {
      if (x.type === 'var' && !this.isRootOrBound(x.name)) bound = false;
    });
    return bound;
  }

  private isRootOrBound(name: string): boolean {
    return name === 'data' || name === 'input' || this.fn.vars.has(name);
  }

  /** A term with vars to bind by matching (vars outside refs/calls that are unbound). */
  private isPattern(t: ast.Term): boolean {
    switch (t.type) {
      case 'var':
        return !this.isRootOrBound(t.name);
      case 'array':
        return t.items.some((x) => this.isPattern(x));
      case 'object':
        return t.entries.some(([, v]) => this.isPattern(v));
      default:
        return false;
    }
  }

  private unify(a: ast.Term, b: ast.Term, k: Cont): void {
    const pa = this.isPattern(a);
    const pb = this.isPattern(b);
    if (pa && pb) {
      if (a.type === 'array' && b.type === 'array') {
        if (a.items.length !== b.items.length) {
          this.fail();
          return;
        }
        this.unifyPairs(
          a.items.map((x, i) => [x, b.items[i] as ast.Term] as const),
          0,
          k,
        );
        return;
      }
      if (a.type === 'object' && b.type === 'object') {
        this.unifyObjects(a, b, k);
        return;
      }
      if (a.type === 'var' || b.type === 'var') {
        // Both unbound: safety reordering makes this unreachable for valid programs.
        throw new PolicyError([unsafeVar(a.type === 'var' ? a : (b as ast.VarTerm))]);
      }
      this.fail();
      return;
    }
    if (pa) {
      this.term(b, (op) => {
        this.match(a, op, k);
      });
      return;
    }
    if (pb) {
      this.term(a, (op) => {
        this.match(b, op, k);
      });
      return;
    }
    this.term(a, (oa) => {
      this.term(b, (ob) => {
        this.fn.emit({ op: 'equal', a: oa, b: ob });
        k();
      });
    });
  }

  private unifyPairs(pairs: readonly (readonly [ast.Term, ast.Term])[], i: number, k: Cont): void {
    const pair = pairs[i];
    if (!pair) {
      k();
      return;
    }
    // Prefer a pair that can be decided now; patterns on both sides wait for the others.
    const readyIndex = pairs.findIndex(
      (p, j) => j >= i && !(this.isPattern(p[0]) && this.isPattern(p[1])),
    );
    if (readyIndex > i) {
      const reordered = [...pairs];
      const [ready] = reordered.splice(readyIndex, 1) as [readonly [ast.Term, ast.Term]];
      reordered.splice(i, 0, ready);
      this.unifyPairs(reordered, i, k);
      return;
    }
    this.unify(pair[0], pair[1], () => {
      this.unifyPairs(pairs, i + 1, k);
    });
  }

  private unifyObjects(a: ast.ObjectTerm, b: ast.ObjectTerm, k: Cont): void {
    if (a.entries.length !== b.entries.length) {
      this.fail();
      return;
    }
    const pairs: (readonly [ast.Term, ast.Term])[] = [];
    for (const [ka, va] of a.entries) {
      const kv = groundValue(ka);
      const match = b.entries.find(([kb]) => kv !== undefined && sameValue(kv, groundValue(kb)));
      if (!match) {
        this.fail();
        return;
      }
      pairs.push([va, match[1]]);
    }
    this.unifyPairs(pairs, 0, k);
  }

  /** Matches a pattern term against a value: binds unbound vars, compares the rest. */
  private match(pattern: ast.Term, value: Operand, k: Cont): void {
    const fn = this.fn;
    switch (pattern.type) {
      case 'var':
        if (pattern.name.startsWith('$_') && !fn.vars.has(pattern.name)) {
          k();
          return;
        }
        if (!this.isRootOrBound(pattern.name)) {
          const local = fn.newLocal();
          fn.emit({ op: 'assign', src: value, dst: local });
          fn.vars.set(pattern.name, local);
          k();
          return;
        }
        break;
      case 'array':
        if (this.isPattern(pattern)) {
          fn.emit({ op: 'isType', src: value, type: 'array' });
          const len = fn.newLocal();
          fn.emit({ op: 'len', src: value, dst: len });
          fn.emit({ op: 'equal', a: { local: len }, b: this.constOf(pattern.items.length) });
          this.matchItems(
            pattern.items.map((item, i) => [item, this.constOf(i)] as const),
            value,
            0,
            k,
          );
          return;
        }
        break;
      case 'object':
        if (this.isPattern(pattern)) {
          fn.emit({ op: 'isType', src: value, type: 'object' });
          const len = fn.newLocal();
          fn.emit({ op: 'len', src: value, dst: len });
          fn.emit({ op: 'equal', a: { local: len }, b: this.constOf(pattern.entries.length) });
          this.matchEntries(pattern.entries, value, 0, k);
          return;
        }
        break;
      default:
        break;
    }
    this.term(pattern, (op) => {
      fn.emit({ op: 'equal', a: op, b: value });
      k();
    });
  }

  private matchItems(
    items: readonly (readonly [ast.Term, Operand])[],
    src: Operand,
    i: number,
    k: Cont,
  ): void {
    const item = items[i];
    if (!item) {
      k();
      return;
    }
    const dst = this.fn.newLocal();
    this.fn.emit({ op: 'dot', src, key: item[1], dst });
    this.match(item[0], { local: dst }, () => {
      this.matchItems(items, src, i + 1, k);
    });
  }

  private matchEntries(
    entries: readonly (readonly [ast.Term, ast.Term])[],
    src: Operand,
    i: number,
    k: Cont,
  ): void {
    const entry = entries[i];
    if (!entry) {
      k();
      return;
    }
    this.term(entry[0], (key) => {
      const dst = this.fn.newLocal();
      this.fn.emit({ op: 'dot', src, key, dst });
      this.match(entry[1], { local: dst }, () => {
        this.matchEntries(entries, src, i + 1, k);
      });
    });
  }

  private matchParams(
    args: readonly ast.Term[],
    params: readonly Local[],
    i: number,
    k: Cont,
  ): void {
    const arg = args[i];
    if (!arg) {
      k();
      return;
    }
    this.match(arg, { local: params[i] as Local }, () => {
      this.matchParams(args, params, i + 1, k);
    });
  }

  private fail(): void {
    this.fn.emit({ op: 'equal', a: this.constOf(true), b: this.constOf(false) });
  }

  // -------------------------------------------------------------------------------------------
  // Terms

  /** Evaluates a term; calls k once per value (refs with unbound vars iterate). */
  private term(t: ast.Term, k: OpCont): void {
    const fn = this.fn;
    switch (t.type) {
      case 'null':
        k(this.constOf(null));
        return;
      case 'boolean':
        k(this.constOf(t.value));
        return;
      case 'number':
        k(this.constOf(parseNumber(t.raw)));
        return;
      case 'string':
        k(this.constOf(t.value));
        return;
      case 'var': {
        if (t.name === 'input') {
          k({ local: INPUT });
          return;
        }
        if (t.name === 'data') {
          this.dataRef([], k);
          return;
        }
        const local = fn.vars.get(t.name);
        if (local === undefined) throw new PolicyError([unsafeVar(t)]);
        k({ local });
        return;
      }
      case 'ref':
        this.ref(t, k);
        return;
      case 'array':
      case 'set': {
        const ground = groundValue(t);
        if (ground !== undefined) {
          k(this.constOf(ground));
          return;
        }
        const isArray = t.type === 'array';
        this.terms(t.items, (ops) => {
          const dst = fn.newLocal();
          fn.emit({ op: isArray ? 'makeArray' : 'makeSet', dst });
          for (const value of ops) {
            fn.emit(
              isArray
                ? { op: 'arrayAppend', array: dst, value }
                : { op: 'setAdd', set: dst, value },
            );
          }
          k({ local: dst });
        });
        return;
      }
      case 'object': {
        const ground = groundValue(t);
        if (ground !== undefined) {
          k(this.constOf(ground));
          return;
        }
        const flat = t.entries.flatMap(([key, value]) => [key, value]);
        this.terms(flat, (ops) => {
          const dst = fn.newLocal();
          fn.emit({ op: 'makeObject', dst });
          for (let i = 0; i < ops.length; i += 2) {
            fn.emit({
              op: 'objectInsert',
              obj: dst,
              key: ops[i] as Operand,
              value: ops[i + 1] as Operand,
            });
          }
          k({ local: dst });
        });
        return;
      }
      case 'call':
        this.call(t, k);
        return;
      case 'arraycomp':
      case 'setcomp':
      case 'objectcomp':
        this.comprehension(t, k);
        return;
    }
  }

  /**
   * Evaluates several terms; k gets their operands in the given order. Terms that bind vars
   * (refs iterating over unbound vars) are evaluated first, so that `x == xs[x]` works.
   */
  private terms(ts: readonly ast.Term[], k: (ops: Operand[]) => void): void {
    const order = ts.map((_, j) => j);
    // Binding terms first, then bound ones, then lone vars (bound by the others).
    const rank = (t: ast.Term): number =>
      t.type === 'var' && !this.isRootOrBound(t.name) ? 2 : this.isBound(t) ? 1 : 0;
    order.sort((a, b) => rank(ts[a] as ast.Term) - rank(ts[b] as ast.Term));
    const ops: Operand[] = new Array<Operand>(ts.length);
    const step = (n: number): void => {
      const j = order[n];
      if (j === undefined) {
        k(ops);
        return;
      }
      this.term(ts[j] as ast.Term, (op) => {
        ops[j] = op;
        step(n + 1);
      });
    };
    step(0);
  }

  private comprehension(
    t: ast.ArrayComprehension | ast.SetComprehension | ast.ObjectComprehension,
    k: OpCont,
  ): void {
    const fn = this.fn;
    const dst = fn.newLocal();
    fn.emit({
      op: t.type === 'arraycomp' ? 'makeArray' : t.type === 'setcomp' ? 'makeSet' : 'makeObject',
      dst,
    });
    const block = fn.block(() => {
      this.body(t.body, 0, () => {
        if (t.type === 'objectcomp') {
          this.term(t.key, (key) => {
            this.term(t.value, (value) => {
              fn.emit({
                op: 'objectInsert',
                obj: dst,
                key,
                value,
                conflict: {
                  code: 'eval_conflict_error',
                  message: 'object keys must be unique',
                  ...where(t.loc),
                },
              });
            });
          });
          return;
        }
        this.term(t.head, (value) => {
          fn.emit(
            t.type === 'arraycomp'
              ? { op: 'arrayAppend', array: dst, value }
              : { op: 'setAdd', set: dst, value },
          );
        });
      });
    });
    fn.emit({ op: 'blocks', blocks: [block] });
    k({ local: dst });
  }

  private call(t: ast.CallTerm, k: OpCont): void {
    const fn = this.fn;
    this.terms(t.args, (args) => {
      const dst = fn.newLocal();
      const op = t.operator;
      if (op.head.type === 'var' && op.head.name === 'data') {
        const path = staticPath(op);
        const node = path ? this.tree.node(path) : undefined;
        if (!path || !node || nodeKind(node) !== 'function') {
          throw new PolicyError([
            {
              code: 'rego_type_error',
              message: `undefined function ${showRef(op)}`,
              position: t.loc,
            },
          ]);
        }
        const name = this.functionFunc(node);
        fn.emit({
          op: 'call',
          func: name,
          args: [{ local: INPUT }, { local: DATA }, ...args],
          dst,
        });
        k({ local: dst });
        return;
      }
      const name = operatorName(op);
      const builtin = lookupBuiltin(name);
      if (!builtin) {
        throw new PolicyError([
          { code: 'rego_type_error', message: `undefined function ${name}`, position: t.loc },
        ]);
      }
      if (builtin.relation) {
        const block = fn.block(() => {
          k({ local: dst });
        });
        fn.emit({ op: 'callRelation', func: name, args, dst, block });
        return;
      }
      fn.emit({ op: 'call', func: name, args, dst, loc: where(t.loc) });
      k({ local: dst });
    });
  }

  private arity(t: ast.CallTerm): number | undefined {
    const op = t.operator;
    if (op.head.type === 'var' && op.head.name === 'data') {
      const path = staticPath(op);
      const node = path ? this.tree.node(path) : undefined;
      const def = node ? (node.defs[0] ?? node.defaultDef) : undefined;
      return def?.rule.head.args?.length;
    }
    return lookupBuiltin(operatorName(op))?.args.length;
  }

  // -------------------------------------------------------------------------------------------
  // References

  private ref(t: ast.RefTerm, k: OpCont): void {
    const head = t.head;
    if (head.type === 'var' && head.name === 'data') {
      this.dataRef(t.path, k);
      return;
    }
    this.term(head, (src) => {
      this.walkPath(src, t.path, 0, k);
    });
  }

  /** Walks path[i..] from src: dot for values known now, scan for vars to bind. */
  private walkPath(
    src: Operand,
    path: readonly ast.Term[],
    i: number,
    k: OpCont,
    baseDoc = false,
  ): void {
    const fn = this.fn;
    const part = path[i];
    if (!part) {
      k(src);
      return;
    }
    const next = (op: Operand): void => {
      this.walkPath(op, path, i + 1, k, baseDoc);
    };
    if (this.isPattern(part) || (part.type === 'var' && !this.isRootOrBound(part.name))) {
      const key = fn.newLocal();
      const value = fn.newLocal();
      const block = fn.block(() => {
        this.match(part, { local: key }, () => {
          next({ local: value });
        });
      });
      fn.emit({ op: 'scan', src, key, value, block });
      return;
    }
    // In base documents (JSON, string keys) a number in a data path also names the key
    // written as its decimal text: `data.users[2]` finds `"2"`, as a storage path would.
    const altKey =
      baseDoc && part.type === 'number' ? this.constOf(String(parseNumber(part.raw))) : undefined;
    this.term(part, (keyOp) => {
      const dst = fn.newLocal();
      fn.emit({ op: 'dot', src, key: keyOp, dst, ...(altKey ? { altKey } : {}) });
      next({ local: dst });
    });
  }

  /**
   * `data.<path>`: rules answer for their paths; base documents fill the rest. A part that is
   * not a constant string branches over the rule tree's children (known now) and the base
   * document's keys, so no document is built just to be indexed.
   */
  private dataRef(
    path: readonly ast.Term[],
    k: OpCont,
    node: RuleNode = this.tree.root,
    i = 0,
  ): void {
    const fn = this.fn;
    if (hasRules(node)) {
      if (nodeKind(node) === 'function') {
        // A function referenced as a value has no value.
        this.fail();
        return;
      }
      const dst = fn.newLocal();
      fn.emit({
        op: 'call',
        func: this.ruleFunc(node),
        args: [{ local: INPUT }, { local: DATA }],
        dst,
      });
      this.walkPath({ local: dst }, path, i, k);
      return;
    }
    const base = (): void => {
      this.walkPath(
        { local: DATA },
        [...node.path.map((p) => this.stringTerm(p)), ...path.slice(i)],
        0,
        k,
        true,
      );
    };
    if (!this.hasVirtualBelow(node)) {
      base();
      return;
    }
    const part = path[i];
    if (!part) {
      k(this.docValue(node));
      return;
    }
    if (part.type === 'string') {
      const child = node.children.get(part.value);
      if (child) this.dataRef(path, k, child, i + 1);
      else base();
      return;
    }
    if (
      groundValue(part) !== undefined &&
      part.type !== 'array' &&
      part.type !== 'object' &&
      part.type !== 'set'
    ) {
      // Rule paths are strings: another scalar can only index base data.
      base();
      return;
    }
    const children = [...node.children].filter(
      ([, c]) => this.hasVirtualBelow(c) && !(hasRules(c) && nodeKind(c) === 'function'),
    );
    const blocks = children.map(([key, child]) =>
      fn.block(() => {
        this.match(part, this.constOf(key), () => {
          this.dataRef(path, k, child, i + 1);
        });
      }),
    );
    blocks.push(
      fn.block(() => {
        this.walkPath(
          { local: DATA },
          node.path.map((p) => this.stringTerm(p)),
          0,
          (doc) => {
            const key = fn.newLocal();
            const value = fn.newLocal();
            const block = fn.block(() => {
              // Keys that rules define were answered above.
              for (const [childKey] of children) {
                fn.emit({
                  op: 'not',
                  block: { stmts: [{ op: 'equal', a: { local: key }, b: this.constOf(childKey) }] },
                });
              }
              this.match(part, { local: key }, () => {
                this.walkPath({ local: value }, path, i + 1, k);
              });
            });
            fn.emit({ op: 'scan', src: doc, key, value, block });
          },
        );
      }),
    );
    fn.emit({ op: 'or', blocks });
  }

  private hasVirtualBelow(node: RuleNode): boolean {
    if (hasRules(node)) return true;
    for (const child of node.children.values()) if (this.hasVirtualBelow(child)) return true;
    return false;
  }

  /** The full document at a node without rules: base data merged with the rules below. */
  private docValue(node: RuleNode): Operand {
    const name = this.docFunc(node);
    const dst = this.fn.newLocal();
    this.fn.emit({ op: 'call', func: name, args: [{ local: INPUT }, { local: DATA }], dst });
    return { local: dst };
  }

  // -------------------------------------------------------------------------------------------
  // Functions for rules and documents

  private withFn<T>(name: string, build: (fn: FnBuilder) => T): T {
    const saved = this.fn;
    const fn = new FnBuilder();
    this.fn = fn;
    try {
      return build(fn);
    } finally {
      this.fn = saved;
    }
  }

  /**
   * A memoized function of arity 0 (a rule or a document), planned once: `build` emits its body
   * and returns its result local. The name is reserved first, so references back to it (which
   * the recursion check rules out for valid programs) cannot plan it twice.
   */
  private memoFunc(name: string, path: readonly string[], build: (fn: FnBuilder) => Local): string {
    if (this.funcs.has(name)) return name;
    this.funcs.set(name, null);
    const func = this.withFn(name, (fn) => {
      const result = build(fn);
      return {
        name,
        path,
        arity: 0,
        locals: fn.nlocals,
        result,
        block: { stmts: fn.out },
        memo: true,
      };
    });
    this.funcs.set(name, func);
    return name;
  }

  private docFunc(node: RuleNode): string {
    return this.memoFunc(`doc:${showPath(node.path)}`, node.path, (fn) => {
      const result = fn.newLocal();
      fn.emit({ op: 'makeObject', dst: result });
      this.mergeChildren(node, result);
      // Base documents at this path, if any; on a key both define, the base document wins.
      fn.emit({
        op: 'blocks',
        blocks: [
          fn.block(() => {
            this.walkPath(
              { local: DATA },
              node.path.map((p) => this.stringTerm(p)),
              0,
              (base) => {
                fn.emit({ op: 'isType', src: base, type: 'object' });
                fn.emit({ op: 'objectMerge', dst: result, src: base });
              },
            );
          }),
        ],
      });
      return result;
    });
  }

  /** Inserts the values of the rules and documents below `node` into the object `result`. */
  private mergeChildren(node: RuleNode, result: Local): void {
    const fn = this.fn;
    const virtual = fn.newLocal();
    fn.emit({ op: 'makeObject', dst: virtual });
    for (const [key, child] of node.children) {
      if (!this.hasVirtualBelow(child)) continue;
      if (hasRules(child) && nodeKind(child) === 'function') continue;
      const name = hasRules(child) ? this.ruleFunc(child) : this.docFunc(child);
      fn.emit({
        op: 'blocks',
        blocks: [
          fn.block(() => {
            const v = fn.newLocal();
            fn.emit({ op: 'call', func: name, args: [{ local: INPUT }, { local: DATA }], dst: v });
            fn.emit({
              op: 'objectInsert',
              obj: virtual,
              key: this.constOf(key),
              value: { local: v },
            });
          }),
        ],
      });
    }
    fn.emit({ op: 'objectMerge', dst: result, src: { local: virtual } });
  }

  private ruleFunc(node: RuleNode): string {
    return this.memoFunc(showPath(node.path), node.path, (fn) => {
      const result = fn.newLocal();
      const kind = nodeKind(node);
      if (kind === 'multi') {
        fn.emit({ op: 'makeSet', dst: result });
        for (const def of node.defs) {
          const key = def.rule.head.key as ast.Term;
          fn.emit({
            op: 'blocks',
            blocks: [
              fn.block(() => {
                this.body(def.rule.body, 0, () => {
                  this.mark(showPath(def.path), def.rule);
                  this.term(key, (op) => {
                    fn.emit({ op: 'setAdd', set: result, value: op });
                  });
                });
              }),
            ],
          });
        }
      } else if (kind === 'object') {
        fn.emit({ op: 'makeObject', dst: result });
        for (const def of node.defs)
          this.objectDef(def, result, objectConflict(node.defs[0] ?? def));
        // Rules below an object rule (`p[k] := v` beside `p.q := w`) add their keys.
        this.mergeChildren(node, result);
      } else {
        for (const def of node.defs)
          this.valueDef(def, result, completeConflict(node.path, node.defs[0] ?? def));
      }
      if (node.defaultDef) this.defaultValue(node.defaultDef, result);
      return result;
    });
  }

  private functionFunc(node: RuleNode): string {
    const name = showPath(node.path);
    if (this.funcs.has(name)) return name;
    this.funcs.set(name, null);
    const first = node.defs[0] ?? node.defaultDef;
    const arity = first?.rule.head.args?.length ?? 0;
    const func = this.withFn(name, (fn) => {
      const params: Local[] = [];
      for (let i = 0; i < arity; i++) params.push(fn.newLocal());
      const result = fn.newLocal();
      for (const def of node.defs) {
        const args = def.rule.head.args ?? [];
        this.valueDef(def, result, functionConflict(node.path, node.defs[0] ?? def), (k) => {
          this.matchParams(args, params, 0, k);
        });
      }
      if (node.defaultDef) this.defaultValue(node.defaultDef, result);
      return {
        name,
        path: node.path,
        arity,
        locals: fn.nlocals,
        result,
        block: { stmts: fn.out },
        memo: false,
      };
    });
    this.funcs.set(name, func);
    return name;
  }

  /**
   * One definition of a single-valued rule or function, with its `else` chain: the first body
   * of the chain that holds gives the value.
   */
  private valueDef(
    def: RuleDef,
    result: Local,
    conflict: ConflictInfo,
    prelude?: (k: Cont) => void,
  ): void {
    const fn = this.fn;
    const rule = def.rule;
    const run =
      prelude ??
      ((k: Cont) => {
        k();
      });
    if (rule.else.length === 0) {
      fn.emit({
        op: 'blocks',
        blocks: [
          fn.block(() => {
            run(() => {
              this.body(rule.body, 0, () => {
                this.mark(showPath(def.path), rule);
                this.headValue(rule.head.value, (op) => {
                  fn.emit({ op: 'assignOnce', src: op, dst: result, conflict });
                });
              });
            });
          }),
        ],
      });
      return;
    }
    const chain = fn.newLocal();
    fn.emit({ op: 'reset', dst: chain });
    const clauses: {
      value?: ast.Term;
      body: ast.Body;
      node: { loc: ast.Term['loc']; end?: ast.Term['loc'] };
    }[] = [
      { ...(rule.head.value ? { value: rule.head.value } : {}), body: rule.body, node: rule },
      ...rule.else.map((e) => ({ ...(e.value ? { value: e.value } : {}), body: e.body, node: e })),
    ];
    const blocks: Block[] = clauses.map((clause, i) =>
      fn.block(() => {
        if (i > 0) fn.emit({ op: 'isUndefined', src: chain });
        run(() => {
          this.body(clause.body, 0, () => {
            this.mark(showPath(def.path), clause.node);
            this.headValue(clause.value, (op) => {
              fn.emit({ op: 'assignOnce', src: op, dst: chain, conflict });
            });
          });
        });
      }),
    );
    blocks.push(
      fn.block(() => {
        fn.emit({ op: 'isDefined', src: chain });
        fn.emit({ op: 'assignOnce', src: { local: chain }, dst: result, conflict });
      }),
    );
    fn.emit({ op: 'blocks', blocks });
  }

  /** With coverage on: records that the body of `node` (a rule or an else clause) held. */
  private mark(name: string, node: { loc: ast.Term['loc']; end?: ast.Term['loc'] }): void {
    if (!this.coverage) return;
    const id = this.marks.length;
    this.marks.push({
      name,
      file: node.loc.file,
      line: node.loc.line,
      endLine: node.end?.line ?? node.loc.line,
    });
    this.fn.emit({ op: 'mark', id });
  }

  private headValue(value: ast.Term | undefined, k: OpCont): void {
    if (!value) {
      k(this.constOf(true));
      return;
    }
    this.term(value, k);
  }

  private objectDef(def: RuleDef, result: Local, conflict: ConflictInfo): void {
    const fn = this.fn;
    fn.emit({
      op: 'blocks',
      blocks: [
        fn.block(() => {
          this.body(def.rule.body, 0, () => {
            this.mark(showPath(def.path), def.rule);
            this.terms(def.keyPath, (keys) => {
              const leaf = def.rule.head.key;
              if (leaf) {
                this.term(leaf, (value) => {
                  fn.emit({
                    op: 'objectInsertPath',
                    obj: result,
                    path: keys,
                    value,
                    conflict,
                    leafSet: true,
                  });
                });
                return;
              }
              this.headValue(def.rule.head.value, (value) => {
                if (keys.length === 1) {
                  fn.emit({
                    op: 'objectInsert',
                    obj: result,
                    key: keys[0] as Operand,
                    value,
                    conflict,
                  });
                } else {
                  fn.emit({ op: 'objectInsertPath', obj: result, path: keys, value, conflict });
                }
              });
            });
          });
        }),
      ],
    });
  }

  private defaultValue(def: RuleDef, result: Local): void {
    const fn = this.fn;
    fn.emit({
      op: 'blocks',
      blocks: [
        fn.block(() => {
          fn.emit({ op: 'isUndefined', src: result });
          this.mark(showPath(def.path), def.rule);
          this.headValue(def.rule.head.value, (op) => {
            fn.emit({ op: 'assign', src: op, dst: result });
          });
        }),
      ],
    });
  }
}

// -------------------------------------------------------------------------------------------
// Helpers

function where(loc: ast.Term['loc']): { file: string; line: number; col: number } {
  return { file: loc.file, line: loc.line, col: loc.col };
}

function completeConflict(path: readonly string[], def: RuleDef): ConflictInfo {
  return {
    code: 'eval_conflict_error',
    message: `rule ${showPath(path)} produced conflicting values (complete rules must not produce multiple outputs)`,
    ...where(def.rule.loc),
  };
}

function functionConflict(path: readonly string[], def: RuleDef): ConflictInfo {
  return {
    code: 'eval_conflict_error',
    message: `function ${showPath(path)} produced conflicting values for the same inputs (functions must not produce multiple outputs for same inputs)`,
    ...where(def.rule.loc),
  };
}

function objectConflict(def: RuleDef): ConflictInfo {
  return {
    code: 'eval_conflict_error',
    message: `rule ${showPath(def.path)} produced conflicting values (object keys must be unique)`,
    ...where(def.rule.loc),
  };
}

function unsafeVar(v: ast.VarTerm): Diagnostic {
  return {
    code: 'rego_unsafe_var_error',
    message: `var ${v.name.startsWith('$_') ? '_' : v.name} is unsafe`,
    position: v.loc,
  };
}

/**
 * The dotted name a call's operator spells (`regex.match`); `?` stands for a part that is not
 * a string.
 */
export function operatorName(op: ast.RefTerm): string {
  const head = op.head.type === 'var' ? op.head.name : '';
  return [head, ...op.path.map((p) => (p.type === 'string' ? p.value : '?'))].join('.');
}

function isNamed(t: ast.CallTerm, name: string): boolean {
  return operatorName(t.operator) === name;
}

function staticPath(ref: ast.RefTerm): string[] | undefined {
  const out: string[] = [];
  for (const p of ref.path) {
    if (p.type !== 'string') return undefined;
    out.push(p.value);
  }
  return out;
}

function showRef(ref: ast.RefTerm): string {
  const path = staticPath(ref);
  return path ? showPath(path) : operatorName(ref);
}

/** The value of a term made only of constants, or undefined. */
export function groundValue(t: ast.Term): Value | undefined {
  switch (t.type) {
    case 'null':
      return null;
    case 'boolean':
      return t.value;
    case 'number':
      return parseNumber(t.raw);
    case 'string':
      return t.value;
    case 'array': {
      const items = t.items.map(groundValue);
      return items.every((x) => x !== undefined) ? items : undefined;
    }
    case 'set': {
      const items = t.items.map(groundValue);
      return items.every((x) => x !== undefined) ? new SetValue(items) : undefined;
    }
    case 'object': {
      const obj = new ObjectValue();
      for (const [k, v] of t.entries) {
        const kv = groundValue(k);
        const vv = groundValue(v);
        if (kv === undefined || vv === undefined) return undefined;
        obj.set(kv, vv);
      }
      return obj;
    }
    default:
      return undefined;
  }
}

function sameValue(a: Value, b: Value | undefined): boolean {
  return b !== undefined && JSON.stringify(encodeConst(a)) === JSON.stringify(encodeConst(b));
}
