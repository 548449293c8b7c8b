/**
 * `verdict eval -d <path>... [-i input.json] [--strict] <query>`: evaluates a Rego query
 * against policies and data, as `opa eval` does.
 *
 * Loading follows `opa eval -d`: a directory is read recursively; its `.rego` files are
 * policies, and each `.json` / `.yaml` / `.yml` file is data mounted at the path of its folder
 * relative to the directory given (`-d policies` with policies/rbac/roles/data.json gives
 * `data.rbac.roles`). A data file given directly is mounted at `data`, or under a prefix written
 * as `-d <prefix>:<file>` (`-d users:people.json` gives `data.users`).
 *
 * Output is JSON. A query that is one expression prints the expression's value; a query with
 * variables prints one object of bindings per result; an undefined query prints `undefined`.
 * Errors print as `file:line:col: code: message` and end with exit code 1.
 */
import type { Command } from 'commander';
import { formatDiagnostic, type Diagnostic } from '../policies/diagnostic';
import { ObjectValue, SetValue, toJSONText, type Value } from '../policies/ir/value';
import { loadRuleSet } from '../policies/casl/source';
import { evalQuery, type Bindings, type SourceFile } from '../policies/query';
import {
  loadSources,
  readDocument,
  SourceLoadError,
  type LoadedSources,
} from '../policies/bundle/sources';
import { parseQuery } from '../policies/rego/parser';

export interface EvalOptions {
  /** Policy and data files or directories (`-d`, repeatable). */
  readonly data: readonly string[];
  /** Input document file (`-i`), JSON or YAML. */
  readonly input?: string;
  /** Builtin errors end the query instead of making the expression undefined. */
  readonly strict?: boolean;
}

export interface EvalIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** How evalQuery names the query in positions. */
const QUERY_FILE = '<query>';

/** The variable a one-expression query is bound to, so its value can be printed. */
const VALUE_VAR = '__verdict_eval_value__';

/**
 * Whether the query is one expression (`data.rbac.allow`, `count(x) > 1`, `data.p with input
 * as 1`) rather than assignments, unifications or several literals. Strings and comments are
 * skipped; `=` and `:=` at nesting depth 0 make it not a single expression.
 */
export function isSingleExpression(query: string): boolean {
  const q = query.trim();
  if (q === '' || /^(some|every|not|default|import|package)\b/.test(q)) return false;
  let depth = 0;
  for (let i = 0; i < q.length; i++) {
    const ch = q.charAt(i);
    if (ch === '"' || ch === '`') {
      i = skipString(q, i);
      continue;
    }
    if (ch === '#' || ch === '\n' || ch === ';') {
      if (depth === 0) return false;
      continue;
    }
    if (ch === '{' || ch === '[' || ch === '(') depth++;
    else if (ch === '}' || ch === ']' || ch === ')') depth--;
    else if (ch === '=' && depth === 0) {
      const before = q.charAt(i - 1);
      const after = q.charAt(i + 1);
      if (after === '=') {
        i++; // `==`
        continue;
      }
      if (before === '!' || before === '<' || before === '>') continue;
      return false; // `=` or `:=`
    }
  }
  return true;
}

/** Is the query one reference or variable (reading a document), not a test or a call? */
export function readsDocument(query: string): boolean {
  const parsed = parseQuery(query.trim(), QUERY_FILE);
  const body = parsed.query?.body;
  const only = body?.length === 1 ? body[0] : undefined;
  if (!only || only.negated || only.expr.type !== 'term') return false;
  const t = only.expr.term.type;
  return t === 'ref' || t === 'var';
}

/** Index of the closing quote of the string starting at `start`. */
function skipString(q: string, start: number): number {
  const quote = q.charAt(start);
  let i = start + 1;
  while (i < q.length && q.charAt(i) !== quote) i += quote === '"' && q.charAt(i) === '\\' ? 2 : 1;
  return i;
}

/** JSON text with two-space indentation, exact for big integers; sets print as arrays. */
export function prettyJSON(v: Value, indent = ''): string {
  const inner = indent + '  ';
  if (Array.isArray(v) || v instanceof SetValue) {
    const items = v instanceof SetValue ? v.sorted() : (v as readonly Value[]);
    if (items.length === 0) return '[]';
    return `[\n${items.map((x) => inner + prettyJSON(x, inner)).join(',\n')}\n${indent}]`;
  }
  if (v instanceof ObjectValue) {
    if (v.size === 0) return '{}';
    const entries = v
      .sortedEntries()
      .map(
        ([k, x]) =>
          `${inner}${JSON.stringify(typeof k === 'string' ? k : toJSONText(k))}: ${prettyJSON(x, inner)}`,
      );
    return `{\n${entries.join(',\n')}\n${indent}}`;
  }
  return toJSONText(v);
}

/** What `verdict eval` prints for the results (without the trailing newline). */
export function formatResults(
  results: readonly Bindings[],
  singleExpression: boolean,
  valueQuery = false,
): string {
  if (singleExpression) {
    // As in OPA, a test that is false makes the query fail; a query that only reads a
    // document (`data.rbac.allow`) prints its value, false included.
    const rows = valueQuery ? results : results.filter((r) => r.get(VALUE_VAR) !== false);
    const named = rows.some((r) =>
      [...r.keys()].some((k) => k !== VALUE_VAR && !k.startsWith('_')),
    );
    if (rows.length === 0) return 'undefined';
    if (!named) {
      const values = rows.map((r) => r.get(VALUE_VAR) ?? true);
      return prettyJSON(values.length === 1 ? (values[0] ?? true) : values);
    }
    return prettyJSON(rows.map((r) => bindingsObject(r, VALUE_VAR)));
  }
  if (results.length === 0) return 'undefined';
  const objects = results.map((r) => bindingsObject(r));
  return objects.every((o) => o.size === 0) ? 'true' : prettyJSON(objects);
}

function bindingsObject(bindings: Bindings, hidden?: string): ObjectValue {
  const obj = new ObjectValue();
  for (const [name, value] of bindings) {
    if (name !== hidden && !name.startsWith('_')) obj.set(name, value);
  }
  return obj;
}

/** Diagnostics in the query point at the text the user typed, not at the rewritten query. */
function shiftQueryColumns(diagnostics: readonly Diagnostic[], by: number): Diagnostic[] {
  return diagnostics.map((d) =>
    (d.position?.file === '' || d.position?.file === QUERY_FILE) && d.position.line === 1
      ? {
          ...d,
          position: { ...d.position, col: d.position.col - by, offset: d.position.offset - by },
        }
      : d,
  );
}

/** Runs `verdict eval`; returns the exit code (0, or 1 on any error). */
export function runEval(query: string, options: EvalOptions, io: EvalIO): number {
  let sources: LoadedSources;
  let input: Value | undefined;
  try {
    sources = loadSources(options.data);
    input = options.input === undefined ? undefined : readDocument(options.input);
  } catch (err) {
    if (!(err instanceof SourceLoadError)) throw err;
    io.stderr(`${err.message}\n`);
    return 1;
  }
  // A CASL bundle evaluates as the Rego it lowers to (package casl, rule decision).
  const lowered: SourceFile[] = [];
  for (const bundle of sources.casl) {
    const loaded = loadRuleSet(bundle.rules);
    if (!loaded.module) {
      for (const d of loaded.diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
      return 1;
    }
    lowered.push({ ...bundle.rules, module: loaded.module });
  }
  if (lowered.length > 1) {
    io.stderr(
      `verdict eval: ${sources.casl.map((c) => c.dir).join(' and ')} are CASL bundles; evaluate one at a time\n`,
    );
    return 1;
  }
  const single = isSingleExpression(query);
  const prefix = single ? `${VALUE_VAR} := ` : '';
  const outcome = evalQuery({
    modules: [...sources.modules, ...lowered],
    query: prefix + query.trim(),
    data: sources.data,
    input,
    strictBuiltinErrors: options.strict ?? false,
  });
  if (!outcome.ok) {
    for (const d of shiftQueryColumns(outcome.diagnostics, prefix.length)) {
      io.stderr(`${formatDiagnostic(d)}\n`);
    }
    return 1;
  }
  io.stdout(`${formatResults(outcome.results, single, single && readsDocument(query))}\n`);
  return 0;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface EvalFlags {
  data: string[];
  input?: string;
  strict?: boolean;
  strictBuiltinErrors?: boolean;
}

export function register(program: Command): void {
  program
    .command('eval')
    .description('evaluate a Rego query against policies, data and input (like `opa eval`)')
    .argument('<query>', 'Rego query, e.g. data.rbac.allow or "x := data.rbac.roles[_]"')
    .option(
      '-d, --data <path>',
      'policy (.rego) or data (.json, .yaml) file or directory; repeatable',
      collect,
      [],
    )
    .option('-i, --input <file>', 'input document (JSON or YAML)')
    .option('--strict', 'builtin errors end the query instead of making the expression undefined')
    .option('--strict-builtin-errors', 'same as --strict (the name `opa eval` uses)')
    .addHelpText(
      'after',
      `\nExamples:\n  $ verdict eval -d examples/rbac -i input.json data.rbac.allow\n  $ verdict eval -d examples/rbac 'x := data.rbac.roles[_]'\n  $ verdict eval -d examples/casl -i request.json data.casl.decision\n`,
    )
    .action((query: string, flags: EvalFlags) => {
      const io: EvalIO = {
        stdout: (text) => process.stdout.write(text),
        stderr: (text) => process.stderr.write(text),
      };
      process.exitCode = runEval(
        query,
        {
          data: flags.data,
          input: flags.input,
          strict: flags.strict === true || flags.strictBuiltinErrors === true,
        },
        io,
      );
    });
}
