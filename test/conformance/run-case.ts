/**
 * Runs one conformance case through the evaluator and judges the outcome by the rules of OPA's
 * own runner:
 *
 * - `want_error` / `want_error_code`: the query must fail, with a diagnostic of that code whose
 *   text (OPA's form, `test-0.rego:4: eval_type_error: message`) contains `want_error`;
 * - any error when none is expected fails the case;
 * - `want_result`: the results must equal the expected list (see compare.ts); `[]` means the
 *   query is undefined;
 * - `want_defined`: the query must (or must not) have a result.
 *
 * One deliberate difference: OPA's runner also sees the results produced before an error and a
 * case may expect both (one does). `evalQuery` answers results or diagnostics, never both, so
 * when an error is expected only the error is judged.
 */
import { formatDiagnostic, type Diagnostic } from '../../policies/diagnostic';
import { evalQuery, type QueryOutcome } from '../../policies/query';
import { equal, type Value } from '../../policies/ir/value';
import {
  actualResultSet,
  clip,
  expectedResultSet,
  firstDifference,
  showResultSet,
} from './compare';
import type { ConformanceCase } from './corpus';
import { inputTermValue, type Evaluator } from './input-term';
import {
  missingBuiltins,
  SKIPPED_BY_CORPUS,
  skipReasonFor,
  verdictCatalogue,
  type Catalogue,
} from './skips';

export type CaseStatus = 'passed' | 'failed' | 'skipped';

export interface CaseResult {
  readonly id: string;
  readonly folder: string;
  readonly file: string;
  readonly note: string;
  readonly status: CaseStatus;
  /** Why the case failed or was skipped. */
  readonly reason?: string;
  /** Builtins the case needs that Verdict lacks (the case is then skipped). */
  readonly missingBuiltins?: readonly string[];
}

/**
 * Steps one case may take. Generous for the corpus (its heaviest cases are small), and the guard
 * that keeps an evaluator caught in a loop from hanging the run.
 */
export const DEFAULT_STEP_BUDGET = 5_000_000;

export interface RunOptions {
  readonly evaluate?: Evaluator;
  readonly catalogue?: Catalogue;
  readonly stepBudget?: number;
}

export function runCase(c: ConformanceCase, options: RunOptions = {}): CaseResult {
  const base = { id: c.id, folder: c.folder, file: c.file, note: c.note };
  if (c.skip) return { ...base, status: 'skipped', reason: SKIPPED_BY_CORPUS };
  const missing = missingBuiltins(c, options.catalogue ?? verdictCatalogue);
  if (missing.length > 0) {
    return { ...base, status: 'skipped', reason: skipReasonFor(missing), missingBuiltins: missing };
  }
  const evaluate = options.evaluate ?? evalQuery;
  let outcome: QueryOutcome;
  try {
    const input = caseInput(c, evaluate);
    if (typeof input === 'string') return { ...base, status: 'failed', reason: input };
    outcome = withEnv(c.env, () =>
      evaluate({
        modules: c.modules.map((m) => ({ file: m.file, text: m.text })),
        query: c.query,
        data: c.data,
        input: input.value,
        strictBuiltinErrors: c.strictError,
        stepBudget: options.stepBudget ?? DEFAULT_STEP_BUDGET,
      }),
    );
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ...base, status: 'failed', reason: clip(`crash: ${message}`) };
  }
  const failure = judge(c, outcome);
  return failure === undefined
    ? { ...base, status: 'passed' }
    : { ...base, status: 'failed', reason: failure };
}

/** The case's input, or why it could not be had. */
function caseInput(c: ConformanceCase, evaluate: Evaluator): { value: Value | undefined } | string {
  if (c.inputTerm === undefined) return { value: c.input };
  const term = inputTermValue(c.inputTerm, evaluate);
  return term.ok ? { value: term.value } : clip(term.reason);
}

/** Runs `fn` with the case's environment variables set, restoring the previous ones after. */
function withEnv<T>(env: Readonly<Record<string, string>> | undefined, fn: () => T): T {
  if (env === undefined) return fn();
  const saved = new Map(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return fn();
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) Reflect.deleteProperty(process.env, k);
      else process.env[k] = v;
    }
  }
}

/** Why the outcome does not meet the case's expectations, or undefined when it does. */
export function judge(c: ConformanceCase, outcome: QueryOutcome): string | undefined {
  const expectsError = c.wantError !== undefined || c.wantErrorCode !== undefined;
  if (!expectsError && c.wantResult === undefined && c.wantDefined === undefined) {
    return 'the case has none of want_result, want_error_code, want_error, want_defined';
  }
  if (expectsError) return judgeError(c, outcome);
  if (!outcome.ok) return clip(`unexpected error: ${showDiagnostics(outcome.diagnostics)}`);
  if (c.wantResult !== undefined) {
    const got = actualResultSet(outcome.results, c);
    const want = expectedResultSet(c.wantResult);
    if (!equal(got, want)) {
      const whole = `expected ${showResultSet(want)} got ${showResultSet(got)}`;
      // With one row on each side, say first where they differ: long values get cut.
      const [w] = want.sorted();
      const [g] = got.sorted();
      const where = want.size === 1 && got.size === 1 && w !== undefined && g !== undefined;
      return where ? clip(`at ${firstDifference(w, g) ?? '?'}; ${whole}`) : whole;
    }
  }
  if (c.wantDefined !== undefined && outcome.results.length > 0 !== c.wantDefined) {
    return `expected ${c.wantDefined ? 'defined' : 'undefined'} got ${outcome.results.length} results`;
  }
  return undefined;
}

function judgeError(c: ConformanceCase, outcome: QueryOutcome): string | undefined {
  const wanted = [c.wantErrorCode, c.wantError === undefined ? undefined : `"${c.wantError}"`]
    .filter((x) => x !== undefined)
    .join(' ');
  if (outcome.ok) {
    const got = actualResultSet(outcome.results, c);
    return clip(`expected error ${wanted} got ${showResultSet(got)}`);
  }
  const opaNames = new Map(c.modules.map((m) => [m.file, m.opaFile]));
  const matches = outcome.diagnostics.some(
    (d) =>
      (c.wantErrorCode === undefined || d.code === c.wantErrorCode) &&
      (c.wantError === undefined || opaErrorText(d, opaNames).includes(c.wantError)),
  );
  return matches
    ? undefined
    : clip(`expected error ${wanted} got ${showDiagnostics(outcome.diagnostics)}`);
}

/**
 * A diagnostic as OPA prints an error, `<file>:<line>: <code>: <message>`, with the module
 * named as OPA's runner names it, since expected texts may include that prefix.
 */
export function opaErrorText(d: Diagnostic, opaNames: ReadonlyMap<string, string>): string {
  const p = d.position;
  const where =
    p === undefined
      ? ''
      : p.file
        ? `${opaNames.get(p.file) ?? p.file}:${p.line}: `
        : `${p.line}:${p.col}: `;
  return `${where}${d.code}: ${d.message}`;
}

function showDiagnostics(diagnostics: readonly Diagnostic[]): string {
  return diagnostics.length === 0
    ? '(no diagnostics)'
    : diagnostics.map(formatDiagnostic).join('; ');
}
