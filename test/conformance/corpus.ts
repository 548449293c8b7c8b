/**
 * Loads the OPA conformance corpus (`../shared/conformance/opa/v1/<folder>/<file>.yaml`) into
 * typed cases. The corpus lives outside the repository and is never copied into it; callers
 * check `corpusAvailable()` first and skip with a message when it is absent.
 *
 * Every field a case may carry is handled deliberately (see `KNOWN_FIELDS`); an unknown field
 * stops the load with an error naming it, so a newer corpus cannot be half-understood silently.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { fromJS, type Value } from '../../policies/ir/value';

export interface CaseModule {
  /** Name Verdict sees, unique across the corpus: `<folder>/<file>#<i>.rego`. */
  readonly file: string;
  /** Name OPA's own runner gives the module (`test-<i>.rego`); expected error texts use it. */
  readonly opaFile: string;
  readonly text: string;
}

export type ExpectedBindings = ReadonlyMap<string, Value>;

export interface ConformanceCase {
  /** Unique id: `<folder>/<file>#<index in file>` (notes are not unique in the corpus). */
  readonly id: string;
  readonly folder: string;
  /** Path of the YAML file inside its folder. */
  readonly file: string;
  readonly index: number;
  readonly note: string;
  readonly query: string;
  readonly modules: readonly CaseModule[];
  readonly data?: Value;
  readonly input?: Value;
  /** Input written as a Rego term (may contain sets); see input-term.ts. */
  readonly inputTerm?: string;
  /** `[]` means the query must be undefined (no results). */
  readonly wantResult?: readonly ExpectedBindings[];
  readonly wantErrorCode?: string;
  readonly wantError?: string;
  /** Only asks whether the query has at least one result. */
  readonly wantDefined?: boolean;
  /** Builtin errors are fatal (`strictBuiltinErrors`). */
  readonly strictError: boolean;
  /** Sort each bound array before comparing (the order of set members is not part of the case). */
  readonly sortBindings: boolean;
  /** Drop bindings of variables the compiler generated (`__localq...`) before comparing. */
  readonly ignoreGeneratedVars: boolean;
  /** Environment variables set while the case runs (seen by `opa.runtime()`). */
  readonly env?: Readonly<Record<string, string>>;
  /** The corpus itself marks the case as skipped. */
  readonly skip: boolean;
}

/**
 * Fields a case may carry, with how each is handled. `traces` only turns on tracing in OPA's
 * runner and has no bearing on the outcome, so it is accepted and ignored.
 */
const KNOWN_FIELDS = new Set([
  'note',
  'query',
  'modules',
  'data',
  'input',
  'input_term',
  'want_result',
  'want_error_code',
  'want_error',
  'want_defined',
  'strict_error',
  'sort_bindings',
  'ignore_generated_vars',
  'env',
  'skip',
  'traces',
]);

export class CorpusError extends Error {
  constructor(where: string, problem: string) {
    super(`${where}: ${problem}`);
    this.name = 'CorpusError';
  }
}

/** The repository root: the nearest ancestor holding Verdict's package.json (works from dist/ too). */
export function repoRoot(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: unknown };
      if (pkg.name === 'verdict') return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no Verdict package.json above ${from}`);
    dir = parent;
  }
}

export function corpusRoot(): string {
  return path.resolve(repoRoot(), '..', 'shared', 'conformance', 'opa', 'v1');
}

export function corpusAvailable(): boolean {
  return fs.existsSync(corpusRoot());
}

export interface LoadOptions {
  /** Only this folder (e.g. `aggregates`). */
  readonly folder?: string;
  readonly root?: string;
}

/** All cases, ordered by folder, file and position in the file. */
export function loadCorpus(options: LoadOptions = {}): ConformanceCase[] {
  const root = options.root ?? corpusRoot();
  const folders = fs
    .readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  if (options.folder !== undefined && !folders.includes(options.folder)) {
    throw new CorpusError(root, `no folder "${options.folder}" (folders: ${folders.join(', ')})`);
  }
  const cases: ConformanceCase[] = [];
  for (const folder of folders) {
    if (options.folder !== undefined && folder !== options.folder) continue;
    for (const file of yamlFiles(path.join(root, folder))) {
      const text = fs.readFileSync(path.join(root, folder, file), 'utf8');
      cases.push(...parseCaseFile(folder, file, text));
    }
  }
  return cases;
}

function yamlFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  const entries = fs.readdirSync(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const rel = prefix + e.name;
    if (e.isDirectory()) out.push(...yamlFiles(path.join(dir, e.name), rel + '/'));
    else if (/\.ya?ml$/.test(e.name)) out.push(rel);
  }
  return out;
}

/** Parses one YAML file of the corpus (exported for tests). */
export function parseCaseFile(folder: string, file: string, text: string): ConformanceCase[] {
  const where = `${folder}/${file}`;
  // Integers as bigint so that numbers beyond 2^53 stay exact; fromJS narrows the small ones.
  const docs = parseAllDocuments(text, { intAsBigInt: true });
  const cases: ConformanceCase[] = [];
  for (const doc of docs) {
    const problem = doc.errors[0];
    if (problem) throw new CorpusError(where, `invalid YAML: ${problem.message}`);
    const content: unknown = doc.toJS();
    if (content === null || content === undefined) continue;
    const raw = asRecord(content, where);
    const list = raw.cases;
    if (!Array.isArray(list)) throw new CorpusError(where, '"cases" must be a list');
    list.forEach((entry: unknown) => {
      cases.push(toCase(folder, file, cases.length, entry));
    });
  }
  return cases;
}

function toCase(folder: string, file: string, index: number, entry: unknown): ConformanceCase {
  const id = `${folder}/${file}#${index}`;
  const raw = asRecord(entry, id);
  for (const key of Object.keys(raw)) {
    if (!KNOWN_FIELDS.has(key)) {
      throw new CorpusError(id, `unknown field "${key}": decide how corpus.ts handles it`);
    }
  }
  const note = requireString(raw, 'note', id);
  const moduleTexts = optional(raw, 'modules', (v) => stringList(v, `${id} modules`)) ?? [];
  return {
    id,
    folder,
    file,
    index,
    note,
    query: requireString(raw, 'query', id),
    modules: moduleTexts.map((text, i) => ({
      file: `${folder}/${file}#${i}.rego`,
      opaFile: `test-${i}.rego`,
      text,
    })),
    data: optional(raw, 'data', (v) => fromJS(asRecord(v, `${id} data`))),
    input: optional(raw, 'input', fromJS),
    inputTerm: optional(raw, 'input_term', (v) => stringValue(v, `${id} input_term`)),
    wantResult: optional(raw, 'want_result', (v) => expectedResults(v, id)),
    wantErrorCode: optional(raw, 'want_error_code', (v) => stringValue(v, `${id} want_error_code`)),
    wantError: optional(raw, 'want_error', (v) => stringValue(v, `${id} want_error`)),
    wantDefined: optional(raw, 'want_defined', (v) => booleanValue(v, `${id} want_defined`)),
    strictError: flag(raw, 'strict_error', id),
    sortBindings: flag(raw, 'sort_bindings', id),
    ignoreGeneratedVars: flag(raw, 'ignore_generated_vars', id),
    env: optional(raw, 'env', (v) => stringRecord(v, `${id} env`)),
    skip: flag(raw, 'skip', id),
  };
}

function expectedResults(v: unknown, id: string): ExpectedBindings[] {
  if (!Array.isArray(v)) throw new CorpusError(id, 'want_result must be a list');
  return v.map((b: unknown, i) => {
    const record = asRecord(b, `${id} want_result[${i}]`);
    return new Map(Object.entries(record).map(([name, value]) => [name, fromJS(value)]));
  });
}

function optional<T>(
  raw: Record<string, unknown>,
  key: string,
  convert: (v: unknown) => T,
): T | undefined {
  const v = raw[key];
  // As in OPA's runner (Go pointers), a null field is an absent field.
  return v === undefined || v === null ? undefined : convert(v);
}

function flag(raw: Record<string, unknown>, key: string, id: string): boolean {
  const v = raw[key];
  return v === undefined || v === null ? false : booleanValue(v, `${id} ${key}`);
}

function requireString(raw: Record<string, unknown>, key: string, id: string): string {
  if (!(key in raw)) throw new CorpusError(id, `missing "${key}"`);
  return stringValue(raw[key], `${id} ${key}`);
}

function asRecord(v: unknown, where: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new CorpusError(where, 'expected a mapping');
  }
  return v as Record<string, unknown>;
}

function stringValue(v: unknown, where: string): string {
  if (typeof v !== 'string') throw new CorpusError(where, 'expected a string');
  return v;
}

function booleanValue(v: unknown, where: string): boolean {
  if (typeof v !== 'boolean') throw new CorpusError(where, 'expected true or false');
  return v;
}

function stringList(v: unknown, where: string): string[] {
  if (!Array.isArray(v)) throw new CorpusError(where, 'expected a list of strings');
  return v.map((x: unknown) => stringValue(x, where));
}

function stringRecord(v: unknown, where: string): Record<string, string> {
  const record = asRecord(v, where);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(record)) out[k] = stringValue(x, `${where}.${k}`);
  return out;
}
