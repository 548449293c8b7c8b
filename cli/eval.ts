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
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { parseDocument } from 'yaml';
import { formatDiagnostic, type Diagnostic } from '../policies/diagnostic';
import { JSONParseError, parseJSONValue } from '../policies/ir/json';
import {
  fromJS,
  ObjectValue,
  SetValue,
  toJSONText,
  typeName,
  type Value,
} from '../policies/ir/value';
import { evalQuery, type Bindings, type SourceFile } from '../policies/query';
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

/** An input problem (unreadable file, bad JSON, conflicting data) told as `where: message`. */
export class EvalInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvalInputError';
  }
}

export interface LoadedSources {
  readonly modules: readonly SourceFile[];
  readonly data: ObjectValue;
}

const DATA_FILE = /\.(json|ya?ml)$/;

/** Reads the policies and data named by `-d` arguments. */
export function loadSources(paths: readonly string[]): LoadedSources {
  const modules: SourceFile[] = [];
  const data = new ObjectValue();
  for (const arg of paths) {
    const { prefix, target } = splitPrefix(arg);
    const stat = statOrFail(target);
    if (stat.isDirectory()) {
      for (const file of walk(target)) {
        const rel = path.relative(target, path.dirname(file));
        const mount = [...prefix, ...(rel === '' ? [] : rel.split(path.sep))];
        addFile(file, mount, modules, data);
      }
    } else {
      addFile(target, prefix, modules, data);
    }
  }
  return { modules, data };
}

/** `users:people.json` → prefix ["users"]; a plain path has none (an existing path wins). */
function splitPrefix(arg: string): { prefix: string[]; target: string } {
  const m = /^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*):(.+)$/.exec(arg);
  if (m?.[1] === undefined || m[2] === undefined || fs.existsSync(arg)) {
    return { prefix: [], target: arg };
  }
  return { prefix: m[1].split('.'), target: m[2] };
}

function statOrFail(file: string): fs.Stats {
  try {
    return fs.statSync(file);
  } catch {
    throw new EvalInputError(`${file}: no such file or directory`);
  }
}

/** Files under `dir`, in a stable order, skipping hidden entries (.git, .manifest, ...). */
function walk(dir: string): string[] {
  const out: string[] = [];
  const entries = fs.readdirSync(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(full));
    else if (e.name.endsWith('.rego') || DATA_FILE.test(e.name)) out.push(full);
  }
  return out;
}

function addFile(
  file: string,
  mount: readonly string[],
  modules: SourceFile[],
  data: ObjectValue,
): void {
  if (file.endsWith('.rego')) {
    modules.push({ file, text: readText(file) });
  } else if (DATA_FILE.test(file)) {
    mountData(data, mount, readDocument(file), file);
  } else {
    throw new EvalInputError(`${file}: not a policy (.rego) or data (.json, .yaml) file`);
  }
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new EvalInputError(`${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** A JSON or YAML document as a Rego value, with big integers kept exact. */
export function readDocument(file: string): Value {
  const text = readText(file);
  if (file.endsWith('.json')) {
    try {
      return parseJSONValue(text);
    } catch (err) {
      if (err instanceof JSONParseError) {
        throw new EvalInputError(`${file}:${err.line}:${err.column}: ${err.message}`);
      }
      throw err;
    }
  }
  const doc = parseDocument(text, { intAsBigInt: true });
  const problem = doc.errors[0];
  if (problem) {
    const where = problem.linePos?.[0];
    const at = where ? `:${where.line}:${where.col}` : '';
    throw new EvalInputError(`${file}${at}: invalid YAML: ${problem.message.split('\n')[0] ?? ''}`);
  }
  return fromJS(doc.toJS());
}

/**
 * Merges `value` into `data` at `mount`: objects merge key by key (the data tree is built here
 * and owned by this loader, so it is filled in place); any other clash is an error.
 */
function mountData(data: ObjectValue, mount: readonly string[], value: Value, file: string): void {
  const last = mount[mount.length - 1];
  if (last === undefined) {
    if (!(value instanceof ObjectValue)) {
      throw new EvalInputError(
        `${file}: data at the root must be an object, not ${typeName(value)} (mount it under a name: -d name:${file})`,
      );
    }
    mergeInto(data, value, file, []);
    return;
  }
  let parent = data;
  const parentPath = mount.slice(0, -1);
  for (const [i, key] of parentPath.entries()) {
    const next = parent.get(key);
    if (next instanceof ObjectValue) {
      parent = next;
    } else if (next === undefined) {
      const created = new ObjectValue();
      parent.set(key, created);
      parent = created;
    } else {
      const where = ['data', ...parentPath.slice(0, i + 1)].join('.');
      throw new EvalInputError(`${file}: ${where} is already defined by data loaded before`);
    }
  }
  mergeInto(parent, new ObjectValue([[last, value]]), file, parentPath);
}

function mergeInto(
  target: ObjectValue,
  source: ObjectValue,
  file: string,
  at: readonly string[],
): void {
  for (const [key, value] of source) {
    const name = typeof key === 'string' ? key : toJSONText(key);
    const existing = target.get(key);
    if (existing === undefined) {
      target.set(key, value);
    } else if (existing instanceof ObjectValue && value instanceof ObjectValue) {
      mergeInto(existing, value, file, [...at, name]);
    } else {
      const where = ['data', ...at, name].join('.');
      throw new EvalInputError(`${file}: ${where} is already defined by data loaded before`);
    }
  }
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
    if (!(err instanceof EvalInputError)) throw err;
    io.stderr(`${err.message}\n`);
    return 1;
  }
  const single = isSingleExpression(query);
  const prefix = single ? `${VALUE_VAR} := ` : '';
  const outcome = evalQuery({
    modules: sources.modules,
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
