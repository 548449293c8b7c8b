// graph.reachable, graph.reachable_paths (policies/rego/builtins/graph.ts) and walk's list of
// [path, value] pairs, which the generated code scans for the `walk` relation.
import { equalValues } from '../compare';
import {
  arrayAppend,
  copyCollection,
  objectGet,
  setAdd,
  setHas,
  setOfValues,
} from '../collections';
import { errorText } from '../errors';
import {
  dataOf,
  elementAt,
  intValue,
  keyAt,
  lengthOf,
  newCollection,
  tagOf,
  TAG_ARRAY,
  TAG_OBJECT,
  TAG_SET,
  valueAt,
} from '../value';
import { failBegin, isCollectionOfItems, objectArg, typeError } from './args';

/** The vertices of a node's edge collection (array or set; anything else has none). */
function neighbourCount(edges: usize): u32 {
  return isCollectionOfItems(edges) ? lengthOf(edges) : 0;
}

function initialNodes(name: string, graph: usize, initial: usize): bool {
  if (!objectArg(name, graph, 1)) return false;
  if (!isCollectionOfItems(initial)) {
    typeError(name, 2, initial, '{array, set}');
    return false;
  }
  return true;
}

export function vd_builtin_graph_reachable(graph: i32, initial: i32): i32 {
  if (graph == 0 || initial == 0 || !initialNodes('graph.reachable', graph, initial)) return 0;
  const queue = copyCollection(initial, 0);
  store<u8>(queue, TAG_ARRAY);
  const reached = newCollection(TAG_SET, 0);
  // The queue grows while it is read.
  for (let i: u32 = 0; i < lengthOf(queue); i++) {
    const node = elementAt(queue, i);
    if (setHas(reached, node)) continue;
    const edges = objectGet(graph, node);
    if (edges == 0) continue;
    setAdd(reached, node);
    const n = neighbourCount(edges);
    for (let j: u32 = 0; j < n; j++) {
      const next = elementAt(edges, j);
      if (!setHas(reached, next)) arrayAppend(queue, next);
    }
  }
  return <i32>reached;
}

/** Enumerating simple paths is exponential in the worst case; stop with an error instead. */
const MAX_REACHABLE_PATHS: u32 = 100000;

let paths: usize = 0;
let tooMany = false;

/** Records a path; duplicates are dropped when the list gets long (and at the end). */
function commit(path: usize): void {
  arrayAppend(paths, path);
  if (lengthOf(paths) > MAX_REACHABLE_PATHS) {
    const distinct = setOfValues(dataOf(paths), lengthOf(paths));
    if (lengthOf(distinct) > MAX_REACHABLE_PATHS) {
      tooMany = true;
      return;
    }
    paths = copyCollection(distinct, 0);
    store<u8>(paths, TAG_ARRAY);
  }
}

function appended(path: usize, node: usize): usize {
  const out = copyCollection(path, 1);
  arrayAppend(out, node);
  return out;
}

function onPath(path: usize, node: usize): bool {
  const n = lengthOf(path);
  for (let i: u32 = 0; i < n; i++) if (equalValues(elementAt(path, i), node)) return true;
  return false;
}

function tooManyPaths(name: string): i32 {
  failBegin(name);
  errorText('more than 100000 paths');
  return 0;
}

export function vd_builtin_graph_reachable_paths(graph: i32, initial: i32): i32 {
  const name = 'graph.reachable_paths';
  if (graph == 0 || initial == 0 || !initialNodes(name, graph, initial)) return 0;
  paths = newCollection(TAG_ARRAY, 0);
  tooMany = false;
  let steps: u32 = 0;
  // Depth-first over simple paths with an explicit stack of (node, path so far).
  const stackNodes = newCollection(TAG_ARRAY, 0);
  const stackPaths = newCollection(TAG_ARRAY, 0);
  const starts = lengthOf(initial);
  for (let s: u32 = 0; s < starts; s++) {
    const start = elementAt(initial, s);
    const edges = objectGet(graph, start);
    if (edges == 0) continue;
    const first = neighbourCount(edges);
    const single = newCollection(TAG_ARRAY, 1);
    arrayAppend(single, start);
    if (first == 0) {
      commit(single);
      if (tooMany) return tooManyPaths(name);
      continue;
    }
    for (let i = <i32>first - 1; i >= 0; i--) {
      arrayAppend(stackNodes, elementAt(edges, <u32>i));
      arrayAppend(stackPaths, single);
    }
    while (lengthOf(stackNodes) > 0) {
      if (++steps > 10 * MAX_REACHABLE_PATHS) return tooManyPaths(name);
      const top = lengthOf(stackNodes) - 1;
      const node = elementAt(stackNodes, top);
      const path = elementAt(stackPaths, top);
      store<u32>(stackNodes, top, 4);
      store<u32>(stackPaths, top, 4);
      const nodeEdges = objectGet(graph, node);
      if (nodeEdges == 0) {
        commit(path); // a node outside the graph ends the path without joining it
        if (tooMany) return tooManyPaths(name);
        continue;
      }
      const extended = appended(path, node);
      const next = neighbourCount(nodeEdges);
      if (next == 0) {
        commit(extended);
        if (tooMany) return tooManyPaths(name);
        continue;
      }
      for (let i = <i32>next - 1; i >= 0; i--) {
        const n = elementAt(nodeEdges, <u32>i);
        if (onPath(extended, n)) {
          commit(extended); // a cycle ends the path
          if (tooMany) return tooManyPaths(name);
        } else {
          arrayAppend(stackNodes, n);
          arrayAppend(stackPaths, extended);
        }
      }
    }
  }
  return <i32>setOfValues(dataOf(paths), lengthOf(paths));
}

// ---------------------------------------------------------------------------------------------
// walk

function walkInto(out: usize, path: usize, v: usize): void {
  const pair = newCollection(TAG_ARRAY, 2);
  arrayAppend(pair, path);
  arrayAppend(pair, v);
  arrayAppend(out, pair);
  const tag = tagOf(v);
  const n = tag == TAG_ARRAY || tag == TAG_OBJECT || tag == TAG_SET ? lengthOf(v) : 0;
  for (let i: u32 = 0; i < n; i++) {
    let k: usize;
    let x: usize;
    if (tag == TAG_ARRAY) {
      k = intValue(<i64>i);
      x = elementAt(v, i);
    } else if (tag == TAG_OBJECT) {
      k = keyAt(v, i);
      x = valueAt(v, i);
    } else {
      k = elementAt(v, i);
      x = k;
    }
    walkInto(out, appended(path, k), x);
  }
}

/** Every [path, value] pair inside v, the value itself first, depth first (for `walk`). */
export function vd_builtin_walk(v: i32): i32 {
  if (v == 0) return 0;
  const out = newCollection(TAG_ARRAY, 0);
  walkInto(out, newCollection(TAG_ARRAY, 0), v);
  return <i32>out;
}
