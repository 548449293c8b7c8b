/**
 * Parse figures over the conformance corpus: every module of a case that OPA accepts must parse,
 * every case that expects `rego_parse_error` must be rejected, queries and `input_term`s must
 * parse, and each module must survive parse → format → parse with the same AST while formatting
 * it again changes nothing. Shared by the jest test and `npm run conformance:parse`.
 */
import { formatDiagnostic } from '../../policies/diagnostic';
import { formatModule } from '../../policies/rego/format';
import { parseModule, parseQuery, parseTerm } from '../../policies/rego/parser';
import { comparable } from '../unit/policies/rego/ast-compare';
import type { ConformanceCase } from './corpus';

export interface ParseFigures {
  readonly modules: number;
  readonly parsedModules: number;
  readonly parseErrorCases: number;
  readonly rejectedParseErrorCases: number;
  readonly queries: number;
  readonly parsedQueries: number;
  readonly inputTerms: number;
  readonly parsedInputTerms: number;
  readonly roundTrips: number;
  /** One line per problem: what failed, where, and why. */
  readonly failures: readonly string[];
}

function roundTripProblem(text: string, file: string): string | undefined {
  const first = parseModule(text, file);
  if (!first.module) return undefined;
  const formatted = formatModule(first.module);
  const second = parseModule(formatted, file);
  if (!second.module) {
    return `formatted output does not parse: ${second.diagnostics.map(formatDiagnostic).join('; ')}`;
  }
  if (JSON.stringify(comparable(second.module)) !== JSON.stringify(comparable(first.module))) {
    return 'formatted output parses to a different AST';
  }
  if (formatModule(second.module) !== formatted) return 'formatting is not idempotent';
  return undefined;
}

export function measureParsing(cases: readonly ConformanceCase[]): ParseFigures {
  let modules = 0;
  let parsedModules = 0;
  let parseErrorCases = 0;
  let rejectedParseErrorCases = 0;
  let queries = 0;
  let parsedQueries = 0;
  let inputTerms = 0;
  let parsedInputTerms = 0;
  let roundTrips = 0;
  const failures: string[] = [];

  for (const c of cases) {
    const moduleResults = c.modules.map((m) => ({ m, result: parseModule(m.text, m.file) }));
    const query = parseQuery(c.query, `${c.id}:query`);
    if (c.wantErrorCode === 'rego_parse_error') {
      parseErrorCases++;
      if (moduleResults.some(({ result }) => !result.module) || !query.query) {
        rejectedParseErrorCases++;
      } else {
        failures.push(`${c.id}: expects rego_parse_error but everything parses`);
      }
      continue;
    }
    for (const { m, result } of moduleResults) {
      modules++;
      if (!result.module) {
        failures.push(`${m.file}: ${result.diagnostics.map(formatDiagnostic).join('; ')}`);
        continue;
      }
      parsedModules++;
      const problem = roundTripProblem(m.text, m.file);
      if (problem) failures.push(`${m.file}: ${problem}`);
      else roundTrips++;
    }
    queries++;
    if (query.query) parsedQueries++;
    else failures.push(`${c.id}: query: ${query.diagnostics.map(formatDiagnostic).join('; ')}`);
    if (c.inputTerm !== undefined) {
      inputTerms++;
      const term = parseTerm(c.inputTerm, `${c.id}:input_term`);
      if (term.term) parsedInputTerms++;
      else
        failures.push(`${c.id}: input_term: ${term.diagnostics.map(formatDiagnostic).join('; ')}`);
    }
  }
  return {
    modules,
    parsedModules,
    parseErrorCases,
    rejectedParseErrorCases,
    queries,
    parsedQueries,
    inputTerms,
    parsedInputTerms,
    roundTrips,
    failures,
  };
}

function ratio(n: number, of: number): string {
  const pct = of === 0 ? 100 : (100 * n) / of;
  return `${n}/${of} (${pct.toFixed(1)}%)`;
}

/** The figure, as printed by the test and the script. */
export function parseHeadline(f: ParseFigures): string {
  return [
    `modules OPA accepts that parse: ${ratio(f.parsedModules, f.modules)}`,
    `cases expecting rego_parse_error that are rejected: ${ratio(f.rejectedParseErrorCases, f.parseErrorCases)}`,
    `queries that parse: ${ratio(f.parsedQueries, f.queries)}`,
    `input terms that parse: ${ratio(f.parsedInputTerms, f.inputTerms)}`,
    `round trips (parse, format, parse: same AST; format idempotent): ${ratio(f.roundTrips, f.parsedModules)}`,
  ].join('\n');
}
