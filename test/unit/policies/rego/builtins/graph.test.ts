import { lookupBuiltin } from '../../../../../policies/rego/builtins';
import { MAX_REACHABLE_PATHS, walkValue } from '../../../../../policies/rego/builtins/graph';
import type { Value } from '../../../../../policies/ir/value';
import { valueToRego } from '../../../../../policies/ir/value-text';
import { context, failure, json, set, show } from './call';

function walk(v: Value): string[] {
  return [...walkValue(v)].map(valueToRego);
}

describe('walk', () => {
  it('yields [path, value] for the value and everything inside, depth first', () => {
    expect(walk(1)).toEqual(['[[], 1]']);
    expect(walk(json('{"b": [true], "a": 1}'))).toEqual([
      '[[], {"a": 1, "b": [true]}]',
      '[["a"], 1]',
      '[["b"], [true]]',
      '[["b", 0], true]',
    ]);
    expect(walk(set(set(1)))).toEqual(['[[], {{1}}]', '[[{1}], {1}]', '[[{1}, 1], 1]']);
  });

  it('is a relation: the catalogue iterates it, a plain call has no value', () => {
    const def = lookupBuiltin('walk');
    expect(def?.relation).toBeDefined();
    expect(def?.impl([1], context())).toBeUndefined();
    const outs = [...(def?.relation?.([[1, 2]], context()) ?? [])].map(valueToRego);
    expect(outs).toEqual(['[[], [1, 2]]', '[[0], 1]', '[[1], 2]']);
  });

  it('gives every pair its own path array', () => {
    const pairs = [...walkValue(json('{"a": [{"b": 1}, {"c": 2}]}'))];
    const paths = pairs.map((p) => valueToRego((p as Value[])[0] as Value));
    expect(paths).toEqual([
      '[]',
      '["a"]',
      '["a", 0]',
      '["a", 0, "b"]',
      '["a", 1]',
      '["a", 1, "c"]',
    ]);
  });
});

describe('graph.reachable', () => {
  const graph = json(
    '{"a": ["b", "c"], "b": ["d"], "c": ["d"], "d": [], "e": ["f"], "f": ["e"], "x": ["x"]}',
  );

  it('collects the nodes reachable from the initial ones', () => {
    expect(show('graph.reachable', graph, set('b', 'e'))).toBe('{"b", "d", "e", "f"}');
    expect(show('graph.reachable', json('{"a": ["b"], "b": ["c"], "c": ["a"]}'), ['a'])).toBe(
      '{"a", "b", "c"}',
    );
    expect(show('graph.reachable', json('{"a": null}'), ['a'])).toBe('{"a"}');
    expect(show('graph.reachable', graph, ['zz'])).toBe('set()');
  });

  it('wants an object and an array or set', () => {
    expect(failure('graph.reachable', json('{"a": []}'), 'a')).toBe(
      'type: graph.reachable: operand 2 must be {array, set} but got string',
    );
    expect(failure('graph.reachable', 1, ['a'])).toBe(
      'type: graph.reachable: operand 1 must be object but got number',
    );
  });
});

describe('graph.reachable_paths', () => {
  it('lists the simple paths from each initial node', () => {
    expect(show('graph.reachable_paths', json('{}'), set('a'))).toBe('set()');
    expect(show('graph.reachable_paths', json('{"a": ["b"], "b": ["c"], "c": ["a"]}'), ['a'])).toBe(
      '{["a", "b", "c"]}',
    );
    expect(
      show('graph.reachable_paths', json('{"a": ["b", "c"], "b": ["c"], "c": []}'), set('a')),
    ).toBe('{["a", "b", "c"], ["a", "c"]}');
    expect(show('graph.reachable_paths', json('{"a": ["b"], "b": ["nope"]}'), set('a', 'b'))).toBe(
      '{["a", "b"], ["b"]}',
    );
    expect(show('graph.reachable_paths', json('{"a": null}'), ['a'])).toBe('{["a"]}');
  });

  it('stops with an error instead of enumerating an explosion of paths', () => {
    // A complete graph on 12 nodes has far more simple paths than the limit.
    const nodes = Array.from({ length: 12 }, (_, i) => `n${i}`);
    const edges = Object.fromEntries(nodes.map((n) => [n, nodes.filter((m) => m !== n)]));
    expect(failure('graph.reachable_paths', json(JSON.stringify(edges)), ['n0'])).toBe(
      `builtin: graph.reachable_paths: more than ${MAX_REACHABLE_PATHS} paths`,
    );
  });
});
