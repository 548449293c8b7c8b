/**
 * The Rego compiler: an explicit, ordered list of named stages, each a function over the whole
 * program. `verdict check --stages` can print the program after each one.
 */
import type { Diagnostic } from '../../diagnostic';
import type * as ast from '../ast';
import { lookupBuiltin } from '../builtins';
import { checkCalls } from './calls';
import { checkRecursion } from './recursion';
import { moduleEnv, Resolver } from './resolve';
import { Safety, type ArityOf } from './safety';
import { buildRuleTree, type RuleTree } from './tree';
import { forEachTermShallow } from './walk';

/**
 * A program that passed every stage: the modules as the last stage left them, and their rule
 * tree.
 */
export interface CompiledProgram {
  readonly modules: readonly ast.Module[];
  readonly tree: RuleTree;
}

interface State {
  modules: ast.Module[];
  tree: RuleTree | undefined;
  readonly diagnostics: Diagnostic[];
}

/** One compiler stage: a name (`verdict check --stages` prints it) and the work it does. */
export interface Stage {
  readonly name: string;
  readonly run: (state: State) => void;
}

/** The compiler's passes, in order. */
export const STAGES: readonly Stage[] = [
  { name: 'resolve refs and rename locals', run: resolveStage },
  { name: 'build rule tree', run: treeStage },
  { name: 'check safety and reorder bodies', run: safetyStage },
  { name: 'check calls', run: callsStage },
  { name: 'check recursion', run: recursionStage },
];

/** Hooks into a compilation. */
export interface CompileOptions {
  /** Called after each stage with the modules as they are then. */
  readonly onStage?: (name: string, modules: readonly ast.Module[]) => void;
}

/**
 * Runs every stage in order and stops after the first that reports diagnostics; `program` is
 * present exactly when `diagnostics` is empty.
 */
export function compileModules(
  modules: readonly ast.Module[],
  options: CompileOptions = {},
): { program?: CompiledProgram; diagnostics: Diagnostic[] } {
  const state: State = { modules: [...modules], tree: undefined, diagnostics: [] };
  for (const stage of STAGES) {
    stage.run(state);
    options.onStage?.(stage.name, state.modules);
    if (state.diagnostics.length > 0) return { diagnostics: state.diagnostics };
  }
  const tree = state.tree ?? buildRuleTree(state.modules).tree;
  return { program: { modules: state.modules, tree }, diagnostics: [] };
}

/**
 * Compiles a query against a program: resolves names, checks safety, and returns the body with
 * the names of its variables (the query's result bindings), in order of appearance.
 */
export function compileQuery(
  program: CompiledProgram,
  body: ast.Body,
): { body?: ast.Body; vars: string[]; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const resolver = new Resolver({ packagePath: [], ruleNames: new Set(), imports: new Map() });
  const resolved = resolver.query(body);
  const vars: string[] = [];
  const seen = new Set<string>();
  for (const lit of resolved) {
    const visit = (t: ast.Term) => {
      forEachTermShallow(t, (x) => {
        if (
          x.type === 'var' &&
          !x.name.startsWith('$') &&
          x.name !== 'data' &&
          x.name !== 'input' &&
          !seen.has(x.name)
        ) {
          seen.add(x.name);
          vars.push(x.name);
        }
      });
    };
    const e = lit.expr;
    if (e.type === 'term') visit(e.term);
    else if (e.type === 'somein') {
      if (e.key) visit(e.key);
      visit(e.value);
      visit(e.collection);
    } else if (e.type === 'some') for (const v of e.vars) visit(v);
  }
  const safety = new Safety(arityIn(program.tree));
  const { body: ordered } = safety.body(resolved, new Set());
  diagnostics.push(...safety.diagnostics);
  const calls = checkCalls(program.tree, ordered);
  diagnostics.push(...calls);
  if (diagnostics.length > 0) return { vars, diagnostics };
  return { body: ordered, vars, diagnostics };
}

// ---------------------------------------------------------------------------------------------
// Stages

function resolveStage(state: State): void {
  const ruleNames = new Map<string, Set<string>>();
  for (const m of state.modules) {
    const key = m.package.path.join('.');
    let names = ruleNames.get(key);
    if (!names) ruleNames.set(key, (names = new Set()));
    for (const r of m.rules) {
      const first = r.head.ref[0];
      if (first?.type === 'var') names.add(first.name);
    }
  }
  state.modules = state.modules.map((m) => {
    const env = moduleEnv(m, ruleNames, state.diagnostics);
    return { ...m, rules: m.rules.map((r) => new Resolver(env).rule(r)) };
  });
}

function treeStage(state: State): void {
  const { tree, diagnostics } = buildRuleTree(state.modules);
  state.tree = tree;
  state.diagnostics.push(...diagnostics);
}

/** How many arguments the function a call names takes: a user function of `tree` or a builtin. */
export function arityIn(tree: RuleTree): ArityOf {
  return (call) => {
    const op = call.operator;
    if (op.head.type === 'var' && op.head.name === 'data') {
      const path: string[] = [];
      for (const p of op.path) {
        if (p.type !== 'string') return undefined;
        path.push(p.value);
      }
      const node = tree.node(path);
      const def = node ? (node.defs[0] ?? node.defaultDef) : undefined;
      return def?.rule.head.args?.length;
    }
    const name = [
      op.head.type === 'var' ? op.head.name : '',
      ...op.path.map((p) => (p.type === 'string' ? p.value : '')),
    ].join('.');
    return lookupBuiltin(name)?.args.length;
  };
}

function safetyStage(state: State): void {
  const tree = state.tree;
  if (!tree) return;
  const arity = arityIn(tree);
  state.modules = state.modules.map((m) => ({
    ...m,
    rules: m.rules.map((rule) => {
      const safety = new Safety(arity);
      const argVars = new Set<string>();
      for (const a of rule.head.args ?? []) {
        forEachTermShallow(a, (x) => {
          if (x.type === 'var') argVars.add(x.name);
        });
      }
      const main = safety.body(rule.body, argVars);
      const refParts = rule.head.ref.slice(1);
      const keyStart = refParts.findIndex((t) => t.type !== 'string');
      const headTerms = [
        ...(keyStart >= 0 ? refParts.slice(keyStart) : []),
        ...(rule.head.key ? [rule.head.key] : []),
        ...(rule.head.value ? [rule.head.value] : []),
      ];
      safety.headSafe(headTerms, main.bound);
      const elses = rule.else.map((e) => {
        const r = safety.body(e.body, argVars);
        if (e.value) safety.headSafe([e.value], r.bound);
        return { ...e, body: r.body };
      });
      state.diagnostics.push(...safety.diagnostics);
      return { ...rule, body: main.body, else: elses };
    }),
  }));
  // Rebuild the tree so that it holds the reordered rules.
  state.tree = buildRuleTree(state.modules).tree;
}

function callsStage(state: State): void {
  const tree = state.tree;
  if (!tree) return;
  for (const m of state.modules) {
    for (const rule of m.rules) {
      state.diagnostics.push(...checkCalls(tree, rule.body));
      for (const e of rule.else) state.diagnostics.push(...checkCalls(tree, e.body));
    }
  }
}

function recursionStage(state: State): void {
  if (state.tree) state.diagnostics.push(...checkRecursion(state.tree));
}
