/**
 * The skip list: a case is skipped when it calls a builtin that Verdict's catalogue does not
 * offer. Detection is by the builtin's name as written in the case's sources (see
 * call-scan.ts), never by the case's note, so the list follows the catalogue as it grows.
 */
import { lookupBuiltin } from '../../policies/rego/builtins/index';
import { builtinCalls } from './call-scan';
import type { ConformanceCase } from './corpus';

/** Whether a name is a builtin Verdict offers. */
export type Catalogue = (name: string) => boolean;

export const verdictCatalogue: Catalogue = (name) => lookupBuiltin(name) !== undefined;

/**
 * Why Verdict leaves a builtin out, for the builtins it leaves out on purpose. A missing builtin
 * not listed here is simply not written yet.
 */
export const MISSING_BUILTIN_REASONS: Readonly<Record<string, string>> = {};

/** The reason given for cases the corpus marks with `skip: true`. */
export const SKIPPED_BY_CORPUS = 'skipped by the corpus';

export const NOT_YET_WRITTEN = "not in Verdict's builtins catalogue yet";

export function missingBuiltinReason(name: string): string {
  return MISSING_BUILTIN_REASONS[name] ?? NOT_YET_WRITTEN;
}

/** The builtins a case calls that the catalogue lacks, sorted by name. */
export function missingBuiltins(c: ConformanceCase, catalogue: Catalogue): string[] {
  const modules = c.modules.map((m) => m.text);
  return builtinCalls([c.query, ...modules], modules).filter((name) => !catalogue(name));
}

export function skipReasonFor(missing: readonly string[]): string {
  return missing.map((name) => `needs builtin ${name} (${missingBuiltinReason(name)})`).join('; ');
}
