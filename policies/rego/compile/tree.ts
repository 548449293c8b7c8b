/**
 * The rule tree: every rule of every module placed at its path under `data`.
 *
 * A rule's path is its package path followed by the static (string) parts of its head ref.
 * What follows the first non-string part of a ref head (`p[x]`, `a.b[k].c`) is the rule's
 * key path: the rule then defines entries of an object at its path.
 */
import type { Diagnostic } from '../../diagnostic';
import type * as ast from '../ast';

/** What a rule defines at its path. */
export type RuleKind =
  /** `p := v`, `p if ...`, `a.b.c := v`: one value at the path. */
  | 'complete'
  /** `p contains x`: a set at the path. */
  | 'multi'
  /** `p[k] := v`, `a.b[k].c := v`: entries of an object at the path. */
  | 'object'
  /** `f(x) := y`: a function at the path. */
  | 'function';

/** One definition of a rule, placed in the tree. */
export interface RuleDef {
  readonly rule: ast.Rule;
  readonly module: ast.Module;
  readonly kind: RuleKind;
  /** Full path below `data`. */
  readonly path: readonly string[];
  /** For `object` rules: the head ref's parts after `path` (first one is not a string). */
  readonly keyPath: readonly ast.Term[];
  /** Position of the rule among all rules (stable ordering of definitions). */
  readonly index: number;
}

/** One path of the tree: the rules defined there and the paths below it. */
export interface RuleNode {
  readonly path: readonly string[];
  /** Non-default definitions at exactly this path. */
  readonly defs: RuleDef[];
  /** `default p := v` at this path. */
  defaultDef: RuleDef | undefined;
  readonly children: Map<string, RuleNode>;
  /** Packages declared at exactly this path (a package with no rules still exists). */
  isPackage: boolean;
}

/** An empty node at `path`. */
export function newNode(path: readonly string[]): RuleNode {
  return { path, defs: [], defaultDef: undefined, children: new Map(), isPackage: false };
}

/** A path as one string, for keying maps by path. */
export function pathKey(path: readonly string[]): string {
  return path.join('\u0000');
}

/** A path as Rego writes it: `data.a.b`, with `["..."]` for parts that are not identifiers. */
export function showPath(path: readonly string[]): string {
  let s = 'data';
  for (const p of path)
    s += /^[A-Za-z_][A-Za-z0-9_]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`;
  return s;
}

/** Every rule of a program at its path under `data`, with a node for each prefix. */
export class RuleTree {
  readonly root = newNode([]);
  private readonly nodes = new Map<string, RuleNode>([[pathKey([]), this.root]]);

  /** The node at exactly `path`; undefined when no rule or package is at or below it. */
  node(path: readonly string[]): RuleNode | undefined {
    return this.nodes.get(pathKey(path));
  }

  /** The node at `path`, made (with the nodes above it) when missing. */
  ensure(path: readonly string[]): RuleNode {
    let node = this.root;
    for (let i = 0; i < path.length; i++) {
      const part = path[i] as string;
      let child = node.children.get(part);
      if (!child) {
        child = newNode(path.slice(0, i + 1));
        node.children.set(part, child);
        this.nodes.set(pathKey(child.path), child);
      }
      node = child;
    }
    return node;
  }

  /** The first node along `path` (its shortest prefix) that holds rules; undefined if none. */
  ruleNodeOnPath(path: readonly string[]): RuleNode | undefined {
    let node: RuleNode | undefined = this.root;
    for (const part of path) {
      node = node.children.get(part);
      if (!node) return undefined;
      if (hasRules(node)) return node;
    }
    return undefined;
  }

  /** Every node, the root included. */
  *allNodes(): Iterable<RuleNode> {
    yield* this.nodes.values();
  }
}

/** Whether rules (a default included) are defined at exactly this node. */
export function hasRules(node: RuleNode): boolean {
  return node.defs.length > 0 || node.defaultDef !== undefined;
}

/** What the rules at this node define; undefined when there are none. */
export function nodeKind(node: RuleNode): RuleKind | undefined {
  return (node.defs[0] ?? node.defaultDef)?.kind;
}

/** Splits a head ref into its static path and the key path that follows. */
function splitHeadRef(ref: readonly ast.Term[]): {
  path: string[];
  keyPath: ast.Term[];
} {
  const path: string[] = [];
  let i = 0;
  const first = ref[0];
  if (first?.type === 'var') {
    path.push(first.name);
    i = 1;
  }
  for (; i < ref.length; i++) {
    const t = ref[i] as ast.Term;
    if (t.type !== 'string') break;
    path.push(t.value);
  }
  return { path, keyPath: ref.slice(i) };
}

function classify(rule: ast.Rule, keyPath: readonly ast.Term[]): RuleKind {
  if (rule.head.args) return 'function';
  // `a.b[x] contains y` builds objects whose leaves are sets: an object rule.
  if (keyPath.length > 0) return 'object';
  return rule.head.key ? 'multi' : 'complete';
}

/**
 * Places every rule of `modules` in a new tree; a `rego_type_error` for conflicting rules at a
 * path (two defaults, different kinds, functions of different arities).
 */
export function buildRuleTree(modules: readonly ast.Module[]): {
  tree: RuleTree;
  diagnostics: Diagnostic[];
} {
  const tree = new RuleTree();
  const diagnostics: Diagnostic[] = [];
  let index = 0;
  for (const module of modules) {
    tree.ensure(module.package.path).isPackage = true;
    for (const rule of module.rules) {
      const { path: headPath, keyPath } = splitHeadRef(rule.head.ref);
      const kind = classify(rule, keyPath);
      const path = [...module.package.path, ...headPath];
      const def: RuleDef = { rule, module, kind, path, keyPath, index: index++ };
      const node = tree.ensure(path);
      if (rule.default) {
        if (node.defaultDef) {
          diagnostics.push({
            code: 'rego_type_error',
            message: `multiple default rules ${showPath(path)} found`,
            position: rule.loc,
          });
          continue;
        }
        node.defaultDef = def;
      } else {
        node.defs.push(def);
      }
    }
  }
  for (const node of tree.allNodes()) checkNode(node, diagnostics);
  return { tree, diagnostics };
}

/** Definitions at one path must agree on their kind (and arity, for functions). */
function checkNode(node: RuleNode, diagnostics: Diagnostic[]): void {
  const all = node.defaultDef ? [node.defaultDef, ...node.defs] : node.defs;
  const first = all[0];
  if (!first) return;
  for (const def of all) {
    const sameKind =
      def.kind === first.kind ||
      // A default value combines with any single-valued kind.
      (def === node.defaultDef && first.kind !== 'multi') ||
      (first === node.defaultDef && def.kind !== 'multi');
    if (!sameKind) {
      diagnostics.push({
        code: 'rego_type_error',
        message: `conflicting rules ${showPath(node.path)} found`,
        position: def.rule.loc,
      });
      return;
    }
    if (
      def.kind === 'function' &&
      first.kind === 'function' &&
      def.rule.head.args?.length !== first.rule.head.args?.length
    ) {
      diagnostics.push({
        code: 'rego_type_error',
        message: `conflicting rules ${showPath(node.path)} found: functions must have the same number of arguments`,
        position: def.rule.loc,
      });
      return;
    }
  }
  // A single-valued rule cannot have rules below it (its value is not an object we build).
  if ((first.kind === 'complete' || first.kind === 'function') && hasRuleBelow(node)) {
    diagnostics.push({
      code: 'rego_type_error',
      message: `rule ${showPath(node.path)} conflicts with rules defined below it`,
      position: first.rule.loc,
    });
  }
}

function hasRuleBelow(node: RuleNode): boolean {
  for (const child of node.children.values()) {
    if (hasRules(child) || hasRuleBelow(child)) return true;
  }
  return false;
}
