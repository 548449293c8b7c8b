/**
 * The one place where a case's `input_term` (the input written as a Rego term, which may hold
 * sets: `{"initial": {"a"}}`) becomes a value.
 *
 * Until the front end exposes a term parser, the term is handed to the evaluator as the query
 * `input_term_value := <term>`: a ground term evaluates to exactly the value it denotes, with
 * the same parser and value model the case itself then runs on. Swap this for a direct parse
 * when one is available.
 */
import { formatDiagnostic } from '../../policies/diagnostic';
import type { QueryOutcome, QueryRequest } from '../../policies/query';
import type { Value } from '../../policies/ir/value';

export type Evaluator = (request: QueryRequest) => QueryOutcome;

export type InputTermOutcome =
  { readonly ok: true; readonly value: Value } | { readonly ok: false; readonly reason: string };

const VAR = 'input_term_value';

export function inputTermValue(term: string, evaluate: Evaluator): InputTermOutcome {
  const outcome = evaluate({ modules: [], query: `${VAR} := ${term}`, stepBudget: 100_000 });
  if (!outcome.ok) {
    const why = outcome.diagnostics.map(formatDiagnostic).join('; ');
    return { ok: false, reason: `input_term could not be evaluated: ${why}` };
  }
  const value = outcome.results[0]?.get(VAR);
  if (outcome.results.length !== 1 || value === undefined) {
    return {
      ok: false,
      reason: `input_term gave ${outcome.results.length} results, not one value`,
    };
  }
  return { ok: true, value };
}
