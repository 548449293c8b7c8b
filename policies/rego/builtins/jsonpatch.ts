/**
 * JSON documents addressed by paths: json.filter, json.remove and json.patch (RFC 6902).
 * Paths are JSON pointers ("a/b/0", "~1" for "/", "~0" for "~") or arrays of segments.
 */
import { equal, isArray, ObjectValue, SetValue, typeName, type Value } from '../../ir/value';
import { arrayArg, collectionItems, objectArg, operand, operandError, typeError } from './args';
import { builtin, T } from './spec';
import type { BuiltinDef } from './types';

type Path = readonly Value[];

/** A JSON pointer's segments: leading slashes dropped, ~1 and ~0 unescaped. */
function parsePathText(p: string): Path {
  return p
    .replace(/^\/+/, '')
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parsePath(name: string, p: Value): Path {
  if (typeof p === 'string') return p === '' ? [] : parsePathText(p);
  if (isArray(p)) return p;
  operandError(
    name,
    2,
    `must be one of {set, array} containing string paths or array of path segments but got ${typeName(p)}`,
  );
}

function pathsArg(name: string, args: readonly Value[]): Path[] {
  const v = operand(name, args, 2);
  const items = collectionItems(v);
  if (items === undefined) typeError(name, 2, v, 'set', 'array');
  return items.map((p) => parsePath(name, p));
}

/** The paths as a tree of objects whose leaves are null (a shorter path wins over longer). */
function pathTree(paths: readonly Path[]): ObjectValue {
  const root = new ObjectValue();
  for (const path of paths) {
    if (path.length === 0) continue;
    let node = root;
    let done = false;
    for (const seg of path.slice(0, -1)) {
      const child = node.get(seg);
      if (child === undefined) {
        const next = new ObjectValue();
        node.set(seg, next);
        node = next;
      } else if (child instanceof ObjectValue) {
        node = child;
      } else {
        done = true; // an ancestor path is already a leaf
        break;
      }
    }
    if (!done) node.set(path[path.length - 1] as Value, null);
  }
  return root;
}

/** A child of a filter/removal tree for an array index, written as "1" or as 1. */
function indexChild(tree: ObjectValue, i: number): Value | undefined {
  const byText = tree.get(String(i));
  return byText !== undefined ? byText : tree.get(i);
}

function filterValue(v: Value, tree: Value): Value {
  if (tree === null || !(tree instanceof ObjectValue)) return v;
  if (isArray(v)) {
    const out: Value[] = [];
    v.forEach((x, i) => {
      const sub = indexChild(tree, i);
      if (sub !== undefined) out.push(filterValue(x, sub));
    });
    return out;
  }
  if (v instanceof SetValue) {
    return new SetValue(
      v.sorted().flatMap((x) => {
        const sub = tree.get(x);
        return sub === undefined ? [] : [filterValue(x, sub)];
      }),
    );
  }
  if (v instanceof ObjectValue) {
    const out = new ObjectValue();
    for (const [k, x] of v) {
      const sub = tree.get(k);
      if (sub !== undefined) out.set(k, filterValue(x, sub));
    }
    return out;
  }
  return v;
}

/** v without the leaves of `tree`; undefined when v itself is removed. */
function removeValue(v: Value, tree: Value | undefined): Value | undefined {
  if (tree === undefined) return v;
  if (tree === null) return undefined;
  if (!(tree instanceof ObjectValue)) return v;
  if (isArray(v)) {
    const out: Value[] = [];
    v.forEach((x, i) => {
      const kept = removeValue(x, indexChild(tree, i));
      if (kept !== undefined) out.push(kept);
    });
    return out;
  }
  if (v instanceof SetValue) {
    return new SetValue(
      v.sorted().flatMap((x) => {
        const kept = removeValue(x, tree.get(x));
        return kept === undefined ? [] : [kept];
      }),
    );
  }
  if (v instanceof ObjectValue) {
    const out = new ObjectValue();
    for (const [k, x] of v) {
      const kept = removeValue(x, tree.get(k));
      if (kept !== undefined) out.set(k, kept);
    }
    return out;
  }
  return v;
}

const pathsType = T.anyOf(
  T.array(T.anyOf(T.string, T.array())),
  T.set(T.anyOf(T.string, T.array())),
);

const jsonFilter = builtin('json.filter', [T.object(), pathsType], T.object(), (args) => {
  const obj = objectArg('json.filter', args, 1);
  return filterValue(obj, pathTree(pathsArg('json.filter', args)));
});

const jsonRemove = builtin('json.remove', [T.object(), pathsType], T.object(), (args) => {
  const obj = objectArg('json.remove', args, 1);
  return removeValue(obj, pathTree(pathsArg('json.remove', args)));
});

// ---------------------------------------------------------------------------------------------
// json.patch

/** A patch that cannot apply; json.patch is then undefined. */
class PatchError extends Error {}

/** An array index segment: "0", "12" (no leading zeros), or "-" (append) when allowed. */
function arrayIndex(seg: Value, length: number, forInsert: boolean): number {
  if (typeof seg === 'number' && Number.isInteger(seg)) {
    if (seg < 0 || seg > length || (!forInsert && seg === length))
      throw new PatchError('index out of range');
    return seg;
  }
  if (typeof seg !== 'string') throw new PatchError('invalid array index');
  if (seg === '-' && forInsert) return length;
  if (!/^(0|[1-9]\d*)$/.test(seg)) throw new PatchError(`invalid array index ${seg}`);
  const i = Number(seg);
  if (i > length || (!forInsert && i === length)) throw new PatchError('index out of range');
  return i;
}

function getAt(v: Value, path: Path): Value {
  let cur = v;
  for (const seg of path) {
    if (cur instanceof ObjectValue) {
      const next = cur.get(seg);
      if (next === undefined) throw new PatchError('path does not exist');
      cur = next;
    } else if (isArray(cur)) {
      cur = cur[arrayIndex(seg, cur.length, false)] as Value;
    } else if (cur instanceof SetValue) {
      if (!cur.has(seg)) throw new PatchError('path does not exist');
      cur = seg;
    } else {
      throw new PatchError('path does not exist');
    }
  }
  return cur;
}

/** Returns v with `value` inserted at path (add semantics: arrays shift, objects replace). */
function addAt(v: Value, path: Path, value: Value): Value {
  const [seg, ...rest] = path;
  if (seg === undefined) return value;
  if (v instanceof ObjectValue) {
    const out = new ObjectValue(v.sortedEntries());
    if (rest.length === 0) return out.set(seg, value);
    const child = v.get(seg);
    if (child === undefined) throw new PatchError('path does not exist');
    return out.set(seg, addAt(child, rest, value));
  }
  if (isArray(v)) {
    const out = [...v];
    if (rest.length === 0) {
      out.splice(arrayIndex(seg, v.length, true), 0, value);
      return out;
    }
    const i = arrayIndex(seg, v.length, false);
    out[i] = addAt(v[i] as Value, rest, value);
    return out;
  }
  if (v instanceof SetValue) {
    if (rest.length === 0) return new SetValue([...v.sorted(), value]);
    if (!v.has(seg)) throw new PatchError('path does not exist');
    return new SetValue([...v.sorted().filter((x) => !equal(x, seg)), addAt(seg, rest, value)]);
  }
  throw new PatchError('path does not exist');
}

function removeAt(v: Value, path: Path): Value {
  const [seg, ...rest] = path;
  if (seg === undefined) throw new PatchError('cannot remove the whole document');
  if (v instanceof ObjectValue) {
    const child = v.get(seg);
    if (child === undefined) throw new PatchError('path does not exist');
    if (rest.length === 0)
      return new ObjectValue(v.sortedEntries().filter(([k]) => !equal(k, seg)));
    return new ObjectValue(v.sortedEntries()).set(seg, removeAt(child, rest));
  }
  if (isArray(v)) {
    const i = arrayIndex(seg, v.length, false);
    const out = [...v];
    if (rest.length === 0) out.splice(i, 1);
    else out[i] = removeAt(v[i] as Value, rest);
    return out;
  }
  if (v instanceof SetValue) {
    if (!v.has(seg)) throw new PatchError('path does not exist');
    const others = v.sorted().filter((x) => !equal(x, seg));
    return new SetValue(rest.length === 0 ? others : [...others, removeAt(seg, rest)]);
  }
  throw new PatchError('path does not exist');
}

const OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

function applyPatch(doc: Value, patch: Value): Value {
  if (!(patch instanceof ObjectValue)) throw new PatchError('patch operations must be objects');
  const attr = (name: string): Value => {
    const v = patch.get(name);
    if (v === undefined) throw new PatchError(`missing '${name}' attribute`);
    return v;
  };
  const op = attr('op');
  if (typeof op !== 'string' || !OPS.has(op)) throw new PatchError(`unrecognized op`);
  const pathOf = (v: Value): Path => {
    if (typeof v === 'string' || isArray(v)) return parsePath('json.patch', v);
    throw new PatchError('invalid path');
  };
  const path = pathOf(attr('path'));
  switch (op) {
    case 'add':
      return addAt(doc, path, attr('value'));
    case 'remove':
      return removeAt(doc, path);
    case 'replace': {
      const value = attr('value');
      return path.length === 0
        ? (getAt(doc, path), value)
        : addAt(removeAt(doc, path), path, value);
    }
    case 'move': {
      const from = pathOf(attr('from'));
      const value = getAt(doc, from);
      return addAt(removeAt(doc, from), path, value);
    }
    case 'copy':
      return addAt(doc, path, getAt(doc, pathOf(attr('from'))));
    default: {
      // test
      if (!equal(getAt(doc, path), attr('value'))) throw new PatchError('test failed');
      return doc;
    }
  }
}

const jsonPatch = builtin('json.patch', [T.any, T.array(T.object())], T.any, (args) => {
  const doc = operand('json.patch', args, 1);
  const patches = arrayArg('json.patch', args, 2);
  try {
    return patches.reduce<Value>(applyPatch, doc);
  } catch (e) {
    if (e instanceof PatchError) return undefined;
    throw e;
  }
});

export const JSON_PATH_BUILTINS: readonly BuiltinDef[] = [jsonFilter, jsonRemove, jsonPatch];
