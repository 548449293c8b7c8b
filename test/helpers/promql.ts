/**
 * Just enough PromQL for the tests of the deploy files (Grafana dashboard, alert rules): the
 * metric names an expression reads, a shape check in place of promtool (brackets balance,
 * strings close, every function is one Prometheus has), and the sample names Verdict's
 * registry renders.
 */
import { VerdictMetrics } from '../../api/services/metrics';
import { parseExposition } from './prometheus-text';

/** PromQL words that are neither metrics nor functions. */
const keywords = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
]);

/** The PromQL functions and aggregation operators (Prometheus 2.x / 3.x). */
export const promqlFunctions: ReadonlySet<string> = new Set([
  // Aggregation operators.
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  // Functions.
  'abs',
  'absent',
  'absent_over_time',
  'ceil',
  'changes',
  'clamp',
  'clamp_max',
  'clamp_min',
  'day_of_month',
  'day_of_week',
  'day_of_year',
  'days_in_month',
  'delta',
  'deriv',
  'exp',
  'floor',
  'histogram_quantile',
  'holt_winters',
  'hour',
  'idelta',
  'increase',
  'irate',
  'label_join',
  'label_replace',
  'ln',
  'log2',
  'log10',
  'minute',
  'month',
  'predict_linear',
  'rate',
  'resets',
  'round',
  'scalar',
  'sgn',
  'sort',
  'sort_desc',
  'sqrt',
  'time',
  'timestamp',
  'vector',
  'year',
  'avg_over_time',
  'min_over_time',
  'max_over_time',
  'sum_over_time',
  'count_over_time',
  'quantile_over_time',
  'stddev_over_time',
  'stdvar_over_time',
  'last_over_time',
  'present_over_time',
]);

/** `expr` with string literals emptied, so their contents are never read as PromQL. */
function withoutStrings(expr: string): string {
  return expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
}

/** The names called as functions in `expr` (a name followed by `(`), grouping words excepted. */
export function calledNames(expr: string): string[] {
  const text = withoutStrings(expr).replace(/\{[^}]*\}/g, '');
  const names: string[] = [];
  for (const match of text.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*\(/g)) {
    const name = match[1] as string;
    if (!keywords.has(name)) names.push(name);
  }
  return names;
}

/** The metric names a PromQL expression reads. */
export function metricNames(expr: string): string[] {
  const text = withoutStrings(expr)
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const names: string[] = [];
  for (const match of text.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const name = match[0];
    const rest = text.slice(match.index + name.length).trimStart();
    if (rest.startsWith('(') || keywords.has(name)) continue;
    names.push(name);
  }
  return names;
}

/**
 * What is wrong with the shape of `expr` (empty when nothing): unclosed strings, brackets
 * that do not balance or close out of order, functions Prometheus does not have. Not a
 * parser: promtool remains the full check.
 */
export function promqlProblems(expr: string): string[] {
  const problems: string[] = [];
  const quotes = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '');
  if (/["']/.test(quotes)) problems.push('a string is not closed');
  const pairs: Readonly<Record<string, string>> = { ')': '(', ']': '[', '}': '{' };
  const open: string[] = [];
  for (const char of withoutStrings(expr)) {
    if (char === '(' || char === '[' || char === '{') open.push(char);
    else if (char in pairs && open.pop() !== pairs[char]) {
      problems.push(`"${char}" closes nothing open`);
      return problems;
    }
  }
  if (open.length > 0) problems.push(`${open.join('')} not closed`);
  for (const name of calledNames(expr)) {
    if (!promqlFunctions.has(name)) problems.push(`unknown function ${name}`);
  }
  return problems;
}

/** Every sample name the registry renders: each family, histograms with their series. */
export async function exposedNames(): Promise<Set<string>> {
  const { types } = parseExposition(await new VerdictMetrics().text());
  const names = new Set<string>();
  for (const [name, type] of types) {
    if (type === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    } else if (type === 'summary') {
      for (const suffix of ['', '_sum', '_count']) names.add(name + suffix);
    } else {
      names.add(name);
    }
  }
  return names;
}
