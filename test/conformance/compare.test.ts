import type { Bindings } from '../../policies/query';
import { ObjectValue, SetValue, type Value } from '../../policies/ir/value';
import {
  actualResultSet,
  asJSONValue,
  clip,
  firstDifference,
  resultsMatch,
  showResultSet,
} from './compare';

const plain = { sortBindings: false, ignoreGeneratedVars: false };
const row = (entries: Record<string, Value>): Bindings => new Map(Object.entries(entries));

describe('asJSONValue', () => {
  it('turns sets into sorted arrays and non-string keys into the JSON text of their conversion', () => {
    const v = new ObjectValue([
      ['a', new SetValue([3, 1, 2])],
      [1, 'one'],
      [[1, 'x'], null],
      [new ObjectValue([[3, 4]]), 5],
      [new SetValue(['b', 'a']), 6],
    ]);
    const json = asJSONValue(v) as ObjectValue;
    expect(json.get('a')).toEqual([1, 2, 3]);
    expect(json.get('1')).toBe('one');
    expect(json.get('[1,"x"]')).toBeNull();
    expect(json.get('{"3":4}')).toBe(5);
    expect(json.get('["a","b"]')).toBe(6);
  });

  it('keeps big integers exact', () => {
    expect(asJSONValue([12345678901234567890n])).toEqual([12345678901234567890n]);
  });
});

describe('resultsMatch', () => {
  it('compares result sets regardless of order and repeats', () => {
    const got = [row({ x: 2 }), row({ x: 1 }), row({ x: 1 })];
    expect(resultsMatch(got, [new Map([['x', 1]]), new Map([['x', 2]])], plain)).toBe(true);
    expect(resultsMatch(got, [new Map([['x', 1]])], plain)).toBe(false);
  });

  it('compares numbers by value across number and bigint', () => {
    expect(resultsMatch([row({ x: 1.0 })], [new Map([['x', 1]])], plain)).toBe(true);
    expect(
      resultsMatch([row({ x: 2n ** 64n })], [new Map([['x', 18446744073709551616n]])], plain),
    ).toBe(true);
    expect(
      resultsMatch([row({ x: 2n ** 64n })], [new Map([['x', 18446744073709551617n]])], plain),
    ).toBe(false);
  });

  it('matches a set result against the expected array', () => {
    expect(
      resultsMatch([row({ x: new SetValue(['b', 'a']) })], [new Map([['x', ['a', 'b']]])], plain),
    ).toBe(true);
  });

  it('keeps array order unless sort_bindings is set', () => {
    const got = [row({ x: [2, 1] })];
    const want = [new Map<string, Value>([['x', [1, 2]]])];
    expect(resultsMatch(got, want, plain)).toBe(false);
    expect(resultsMatch(got, want, { ...plain, sortBindings: true })).toBe(true);
  });

  it('treats want_result: [] as undefined', () => {
    expect(resultsMatch([], [], plain)).toBe(true);
    expect(resultsMatch([row({})], [], plain)).toBe(false);
  });

  it('drops generated variables only when asked', () => {
    const got = [row({ x: 1, __localq0__: 5 })];
    const want = [new Map<string, Value>([['x', 1]])];
    expect(resultsMatch(got, want, plain)).toBe(false);
    expect(resultsMatch(got, want, { ...plain, ignoreGeneratedVars: true })).toBe(true);
  });

  it('requires the same variables', () => {
    expect(resultsMatch([row({ x: 1, y: 2 })], [new Map([['x', 1]])], plain)).toBe(false);
  });
});

describe('clip', () => {
  it('keeps short texts and cuts long ones to one line', () => {
    expect(clip('a\n  b')).toBe('a b');
    expect(clip('x'.repeat(300), 10)).toBe('xxxxxxxxx…');
  });

  it('prints result sets compactly', () => {
    const set = actualResultSet([row({ x: new SetValue([2, 1]) }), row({ x: 'a' })], plain);
    expect(showResultSet(set)).toBe('[{"x":"a"},{"x":[1,2]}]');
  });
});

describe('firstDifference', () => {
  it('points at the first differing key or index', () => {
    const want = ObjectValue.fromRecord({ x: ObjectValue.fromRecord({ a: [1, 2], b: 'same' }) });
    const got = ObjectValue.fromRecord({ x: ObjectValue.fromRecord({ a: [1, 3], b: 'same' }) });
    expect(firstDifference(want, got)).toBe('x["a"][1]: expected 2 got 3');
    expect(firstDifference(want, want)).toBeUndefined();
    const missing = ObjectValue.fromRecord({ x: ObjectValue.fromRecord({ a: [1, 2] }) });
    expect(firstDifference(want, missing)).toBe('x["b"]: missing, expected "same"');
    expect(firstDifference([1], [1, 2])).toBe('value: expected [1] got [1,2]');
  });
});
