/**
 * How a replayed decision compares with the recorded one. Results are compared as canonical
 * JSON (key order never counts) after the candidate's result is made storable the way the
 * audit log stored the recorded one, so only a real change of value counts as a change.
 */
import { canonicalJson, deriveAllowed, toStorableJson, type JsonValue } from '../audit';

/** A decision's answer: a value, undefined (OPA answers without `result`), or an error. */
export type ReplayOutcome =
  | { readonly kind: 'defined'; readonly result: JsonValue }
  | { readonly kind: 'undefined' }
  | { readonly kind: 'error'; readonly code: string; readonly message: string };

/** The kinds of change the report counts. */
export const flipKinds = [
  'allow_to_deny',
  'deny_to_allow',
  'other_change',
  'now_undefined',
  'now_error',
] as const;

export type FlipKind = (typeof flipKinds)[number];

/** The outcome of a recorded result column: SQL NULL is an undefined decision. */
export function recordedOutcome(result: JsonValue | undefined): ReplayOutcome {
  return result === undefined ? { kind: 'undefined' } : { kind: 'defined', result };
}

/** The outcome of a candidate's answer, as the audit log would have stored it. */
export function candidateOutcome(answer: { defined: boolean; result?: unknown }): ReplayOutcome {
  if (!answer.defined) return { kind: 'undefined' };
  const stored = toStorableJson(answer.result);
  return stored === undefined ? { kind: 'undefined' } : { kind: 'defined', result: stored };
}

/** How `candidate` differs from `recorded`; undefined when they are the same answer. */
export function classifyChange(
  recorded: ReplayOutcome,
  candidate: ReplayOutcome,
): FlipKind | undefined {
  if (candidate.kind === 'error') return 'now_error';
  if (candidate.kind === 'undefined') {
    return recorded.kind === 'undefined' ? undefined : 'now_undefined';
  }
  if (recorded.kind !== 'defined') return 'other_change';
  if (canonicalJson(recorded.result) === canonicalJson(candidate.result)) return undefined;
  const before = deriveAllowed(recorded.result);
  const after = deriveAllowed(candidate.result);
  if (before === true && after === false) return 'allow_to_deny';
  if (before === false && after === true) return 'deny_to_allow';
  return 'other_change';
}
