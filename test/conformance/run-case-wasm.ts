/**
 * Runs one conformance case through both back ends: the reference interpreter and the WASM
 * module loaded with the opa-wasm SDK. Each is judged against the case; the two outcomes are
 * also compared with each other (a disagreement is a bug in one of them, whatever the case says).
 */
import { evalQuery, type QueryOutcome, type QueryRequest } from '../../policies/query';
import { evalQueryWasm } from '../../policies/wasm/query';
import { equal } from '../../policies/ir/value';
import type { ConformanceCase } from './corpus';
import { actualResultSet, clip } from './compare';
import { inputTermValue } from './input-term';
import { DEFAULT_STEP_BUDGET, judge, type CaseResult } from './run-case';
import { SKIPPED_BY_CORPUS, missingBuiltins, skipReasonFor, verdictCatalogue } from './skips';

export interface DualResult {
  readonly interp: CaseResult;
  readonly wasm: CaseResult;
  /** Why the two back ends answered differently, or undefined when they agree. */
  readonly disagreement?: string;
}

export async function runCaseBoth(
  c: ConformanceCase,
  stepBudget = DEFAULT_STEP_BUDGET,
): Promise<DualResult> {
  const base = { id: c.id, folder: c.folder, file: c.file, note: c.note };
  if (c.skip) {
    const skipped: CaseResult = { ...base, status: 'skipped', reason: SKIPPED_BY_CORPUS };
    return { interp: skipped, wasm: skipped };
  }
  const missing = missingBuiltins(c, verdictCatalogue);
  if (missing.length > 0) {
    const skipped: CaseResult = {
      ...base,
      status: 'skipped',
      reason: skipReasonFor(missing),
      missingBuiltins: missing,
    };
    return { interp: skipped, wasm: skipped };
  }
  let input: QueryRequest['input'];
  if (c.inputTerm !== undefined) {
    const term = inputTermValue(c.inputTerm, evalQuery);
    if (!term.ok) {
      const failed: CaseResult = { ...base, status: 'failed', reason: clip(term.reason) };
      return { interp: failed, wasm: failed };
    }
    input = term.value;
  } else {
    input = c.input;
  }
  const request: QueryRequest = {
    modules: c.modules.map((m) => ({ file: m.file, text: m.text })),
    query: c.query,
    ...(c.data !== undefined ? { data: c.data } : {}),
    ...(input !== undefined ? { input } : {}),
    strictBuiltinErrors: c.strictError,
    stepBudget,
    nowNs: 1_700_000_000_000_000_000n,
  };
  const interpOutcome = guard(() => evalQuery(request));
  const wasmOutcome = await guardAsync(() => evalQueryWasm(request));
  const verdict = (outcome: QueryOutcome | string): CaseResult => {
    if (typeof outcome === 'string')
      return { ...base, status: 'failed', reason: clip(`crash: ${outcome}`) };
    const failure = judge(c, outcome);
    return failure === undefined
      ? { ...base, status: 'passed' }
      : { ...base, status: 'failed', reason: failure };
  };
  const disagreement = compareOutcomes(c, interpOutcome, wasmOutcome);
  return {
    interp: verdict(interpOutcome),
    wasm: verdict(wasmOutcome),
    ...(disagreement !== undefined ? { disagreement } : {}),
  };
}

function compareOutcomes(
  c: ConformanceCase,
  a: QueryOutcome | string,
  b: QueryOutcome | string,
): string | undefined {
  if (typeof a === 'string' || typeof b === 'string') {
    return typeof a === 'string' && typeof b === 'string' ? undefined : 'one back end crashed';
  }
  if (a.ok !== b.ok) {
    const show = (o: QueryOutcome) =>
      o.ok
        ? `${o.results.length} results`
        : o.diagnostics.map((d) => `${d.code}: ${d.message}`).join('; ');
    return clip(`interpreter: ${show(a)}; wasm: ${show(b)}`);
  }
  if (!a.ok || !b.ok) {
    const ca = a.ok ? '' : (a.diagnostics[0]?.code ?? '');
    const cb = b.ok ? '' : (b.diagnostics[0]?.code ?? '');
    return ca === cb ? undefined : `interpreter error ${ca}, wasm error ${cb}`;
  }
  const ra = actualResultSet(a.results, c);
  const rb = actualResultSet(b.results, c);
  return equal(ra, rb) ? undefined : 'the back ends returned different results';
}

function guard(fn: () => QueryOutcome): QueryOutcome | string {
  try {
    return fn();
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

async function guardAsync(fn: () => Promise<QueryOutcome>): Promise<QueryOutcome | string> {
  try {
    return await fn();
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
