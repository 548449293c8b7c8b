/**
 * walk (a relation: every [path, value] inside a value, depth first, the value itself first),
 * graph.reachable and graph.reachable_paths.
 */
import { isArray, ObjectValue, SetValue, type Value } from '../../ir/value';
import { collectionItems, objectArg, operand, typeError } from './args';
import { builtin, T } from './spec';
import { BuiltinError, type BuiltinDef } from './types';

/** Every [path, value] pair of `root` in pre-order; each path is a fresh array. */
export function* walkValue(root: Value): Generator<Value> {
  const stack: (readonly [readonly Value[], Value])[] = [[[], root]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [path, v] = top;
    yield [path, v];
    const children: (readonly [Value, Value])[] = [];
    if (isArray(v)) v.forEach((x, i) => children.push([i, x]));
    else if (v instanceof ObjectValue) children.push(...v.sortedEntries());
    else if (v instanceof SetValue) for (const x of v.sorted()) children.push([x, x]);
    for (let i = children.length - 1; i >= 0; i--) {
      const [k, x] = children[i] as readonly [Value, Value];
      stack.push([[...path, k], x]);
    }
  }
}

const walk = builtin(
  'walk',
  [T.any],
  T.tuple(T.array(), T.any),
  // A relation: the interpreter iterates `relation`; as a plain call it has no single value.
  () => undefined,
  { relation: (args) => walkValue(operand('walk', args, 1)) },
);

/** The vertices of a node's edge collection (array or set; anything else has none). */
function neighbours(edges: Value | undefined): readonly Value[] {
  return edges === undefined ? [] : (collectionItems(edges) ?? []);
}

function initialNodes(name: string, args: readonly Value[]): readonly Value[] {
  const v = operand(name, args, 2);
  const nodes = collectionItems(v);
  if (nodes === undefined) typeError(name, 2, v, '{array, set}');
  return nodes;
}

const graphArg = T.object(T.any, T.anyOf(T.array(), T.set()));
const nodesArg = T.anyOf(T.array(), T.set());

const reachable = builtin('graph.reachable', [graphArg, nodesArg], T.set(), (args) => {
  const graph = objectArg('graph.reachable', args, 1);
  const queue = [...initialNodes('graph.reachable', args)];
  const reached = new SetValue();
  // The queue grows while it is read: for-of sees the appended nodes.
  for (const node of queue) {
    if (reached.has(node)) continue;
    const edges = graph.get(node);
    if (edges === undefined) continue;
    reached.add(node);
    for (const n of neighbours(edges)) if (!reached.has(n)) queue.push(n);
  }
  return reached;
});

/** Enumerating simple paths is exponential in the worst case; stop with an error instead. */
export const MAX_REACHABLE_PATHS = 100_000;

const reachablePaths = builtin(
  'graph.reachable_paths',
  [graphArg, nodesArg],
  T.set(T.array()),
  (args) => {
    const name = 'graph.reachable_paths';
    const graph = objectArg(name, args, 1);
    const paths = new SetValue();
    let steps = 0;
    const commit = (path: readonly Value[]): void => {
      paths.add(path);
      if (paths.size > MAX_REACHABLE_PATHS) {
        throw new BuiltinError(name, `more than ${MAX_REACHABLE_PATHS} paths`);
      }
    };
    for (const start of initialNodes(name, args)) {
      const edges = graph.get(start);
      if (edges === undefined) continue;
      const first = neighbours(edges);
      if (first.length === 0) {
        commit([start]);
        continue;
      }
      // Depth-first over simple paths, with an explicit stack: [node, path so far].
      const stack: (readonly [Value, readonly Value[]])[] = first
        .map((n) => [n, [start]] as const)
        .reverse();
      for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
        if (++steps > 10 * MAX_REACHABLE_PATHS) {
          throw new BuiltinError(name, `more than ${MAX_REACHABLE_PATHS} paths`);
        }
        const [node, path] = top;
        const nodeEdges = graph.get(node);
        if (nodeEdges === undefined) {
          commit(path); // a node outside the graph ends the path without joining it
          continue;
        }
        const extended = [...path, node];
        const next = neighbours(nodeEdges);
        if (next.length === 0) {
          commit(extended);
          continue;
        }
        const onPath = new SetValue(extended);
        for (let i = next.length - 1; i >= 0; i--) {
          const n = next[i] as Value;
          if (onPath.has(n))
            commit(extended); // a cycle ends the path
          else stack.push([n, extended]);
        }
      }
    }
    return paths;
  },
);

export const GRAPH_BUILTINS: readonly BuiltinDef[] = [walk, reachable, reachablePaths];
