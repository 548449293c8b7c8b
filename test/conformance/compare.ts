/**
 * How OPA's own runner compares a query's results with a case's `want_result`:
 *
 * - each result becomes an object (variable name → value) after a JSON round trip of every
 *   value (sets become sorted arrays, a non-string object key becomes the JSON text of its own
 *   conversion: `{1: "a"}` → `{"1": "a"}`), since the YAML of a case cannot spell a set;
 * - with `sort_bindings`, each bound array is sorted too;
 * - the results and the expected list are then compared as sets of such objects, so neither
 *   their order nor repeats matter.
 *
 * Numbers compare by value (`equal`), and big integers stay exact throughout.
 */
import type { Bindings } from '../../policies/query';
import {
  compare,
  equal,
  ObjectValue,
  SetValue,
  toJSONText,
  type Value,
} from '../../policies/ir/value';
import type { ExpectedBindings } from './corpus';

/** Variables the compiler generates for the query; `ignore_generated_vars` drops them. */
const GENERATED_VAR_PREFIX = '__localq';

export interface CompareOptions {
  readonly sortBindings: boolean;
  readonly ignoreGeneratedVars: boolean;
}

/** A value as it reads after conversion to JSON and back: no sets, string keys only. */
export function asJSONValue(v: Value): Value {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(asJSONValue);
  if (v instanceof SetValue) return v.sorted().map(asJSONValue);
  const out = new ObjectValue();
  for (const [k, val] of v as ObjectValue) {
    out.set(typeof k === 'string' ? k : toJSONText(asJSONValue(k)), asJSONValue(val));
  }
  return out;
}

export function actualResultSet(results: readonly Bindings[], options: CompareOptions): SetValue {
  const set = new SetValue();
  for (const bindings of results) {
    const row = new ObjectValue();
    for (const [name, value] of bindings) {
      if (options.ignoreGeneratedVars && name.startsWith(GENERATED_VAR_PREFIX)) continue;
      let converted = asJSONValue(value);
      if (options.sortBindings && Array.isArray(converted)) {
        converted = [...(converted as readonly Value[])].sort(compare);
      }
      row.set(name, converted);
    }
    set.add(row);
  }
  return set;
}

export function expectedResultSet(want: readonly ExpectedBindings[]): SetValue {
  return new SetValue(want.map((b) => new ObjectValue(b)));
}

/** Whether the results match the expected list, by OPA's rules (see the file comment). */
export function resultsMatch(
  results: readonly Bindings[],
  want: readonly ExpectedBindings[],
  options: CompareOptions,
): boolean {
  return equal(actualResultSet(results, options), expectedResultSet(want));
}

const MAX_SHOWN = 240;

/** A result set printed compactly for a failure reason: `[{"x":1},{"x":2}]`, cut when long. */
export function showResultSet(set: SetValue): string {
  return clip(toJSONText(set));
}

export function clip(text: string, max = MAX_SHOWN): string {
  const oneLine = text.replace(/\s*\n\s*/g, ' ');
  return oneLine.length <= max ? oneLine : oneLine.slice(0, max - 1) + '…';
}

/**
 * Where two values first differ, as `<path>: expected <a> got <b>`, descending through objects
 * and arrays of equal length; undefined when they are equal.
 */
export function firstDifference(want: Value, got: Value, at = ''): string | undefined {
  if (equal(want, got)) return undefined;
  if (want instanceof ObjectValue && got instanceof ObjectValue) {
    const keys = new SetValue([...want.keys(), ...got.keys()]);
    for (const k of keys) {
      const w = want.get(k);
      const g = got.get(k);
      // At the top (a row of bindings) keys are variable names.
      const path = at === '' && typeof k === 'string' ? k : `${at}[${toJSONText(k)}]`;
      if (w === undefined) return `${path}: unexpected, got ${clip(toJSONText(g ?? null), 80)}`;
      if (g === undefined) return `${path}: missing, expected ${clip(toJSONText(w), 80)}`;
      const inner = firstDifference(w, g, path);
      if (inner !== undefined) return inner;
    }
  }
  if (Array.isArray(want) && Array.isArray(got) && want.length === got.length) {
    const w = want as readonly Value[];
    const g = got as readonly Value[];
    for (let i = 0; i < w.length; i++) {
      const inner = firstDifference(w[i] as Value, g[i] as Value, `${at}[${i}]`);
      if (inner !== undefined) return inner;
    }
  }
  return `${at || 'value'}: expected ${clip(toJSONText(want), 80)} got ${clip(toJSONText(got), 80)}`;
}
