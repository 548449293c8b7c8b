/**
 * Reads policy sources from files and folders, as `opa eval -d` does: a folder is read
 * recursively; its `.rego` files are policies, and each `.json` / `.yaml` / `.yml` file is data
 * mounted at the path of its folder relative to the folder given (`-d policies` with
 * policies/rbac/roles/data.json gives `data.rbac.roles`). A data file given directly is mounted
 * at `data`, or under a prefix written as `<prefix>:<file>` (`users:people.json` gives
 * `data.users`).
 *
 * A CASL bundle folder (its `.manifest` says `"engine": "casl"`, or, given directly, it holds a
 * `rules.json` / `rules.yaml` and no `.rego` file) is not read as data: it is returned as a
 * rule set with its case files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { JSONParseError, parseJSONValue } from '../ir/json';
import { fromJS, ObjectValue, toJSONText, typeName, type Value } from '../ir/value';
import type { SourceFile } from '../query';

/** An input problem (unreadable file, bad JSON, conflicting data) told as `where: message`. */
export class SourceLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceLoadError';
  }
}

/** A CASL bundle folder: its rule set file and its case files. */
export interface CaslBundleSource {
  readonly dir: string;
  readonly rules: { readonly file: string; readonly text: string };
  readonly cases: readonly { readonly file: string; readonly text: string }[];
}

/** Everything `loadSources` read: Rego modules, data merged into one document, CASL folders. */
export interface LoadedSources {
  readonly modules: readonly SourceFile[];
  readonly data: ObjectValue;
  /** CASL bundle folders met on the way. */
  readonly casl: readonly CaslBundleSource[];
}

const DATA_FILE = /\.(json|ya?ml)$/;
const RULE_SET_FILES = ['rules.json', 'rules.yaml', 'rules.yml'];
/** CASL case files: `cases.yaml`, or a name ending in `.cases.yaml` / `_cases.yaml`. */
const CASES_FILE = /(^|[._])cases\.ya?ml$/;

/** Reads the policies and data named by `-d` arguments. */
export function loadSources(paths: readonly string[]): LoadedSources {
  const modules: SourceFile[] = [];
  const data = new ObjectValue();
  const casl: CaslBundleSource[] = [];
  for (const arg of paths) {
    const { prefix, target } = splitPrefix(arg);
    const stat = statOrFail(target);
    if (stat.isDirectory() && prefix.length === 0 && isCaslBundle(target, true)) {
      casl.push(readCaslBundle(target));
    } else if (stat.isDirectory()) {
      for (const file of walk(target, casl)) {
        const rel = path.relative(target, path.dirname(file));
        const mount = [...prefix, ...(rel === '' ? [] : rel.split(path.sep))];
        addFile(file, mount, modules, data);
      }
    } else {
      addFile(target, prefix, modules, data);
    }
  }
  return { modules, data, casl };
}

/** The engine a folder's `.manifest` names, if it is readable and names one. */
function manifestEngine(dir: string): unknown {
  const file = path.join(dir, '.manifest');
  if (!fs.existsSync(file)) return undefined;
  try {
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { engine?: unknown } | null)?.engine;
  } catch {
    return undefined; // the build reports a broken manifest
  }
}

function hasRego(dir: string): boolean {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .some((e) =>
      e.isDirectory() && !e.name.startsWith('.')
        ? hasRego(path.join(dir, e.name))
        : e.name.endsWith('.rego'),
    );
}

/**
 * A CASL bundle folder: its manifest says so; or, for a folder the user named (`given`), it
 * holds a rule set file and no Rego, with no manifest naming another engine.
 */
export function isCaslBundle(dir: string, given: boolean): boolean {
  const engine = manifestEngine(dir);
  if (engine === 'casl') return true;
  if (!given || engine !== undefined) return false;
  return RULE_SET_FILES.some((f) => fs.existsSync(path.join(dir, f))) && !hasRego(dir);
}

function readCaslBundle(dir: string): CaslBundleSource {
  const present = RULE_SET_FILES.filter((f) => fs.existsSync(path.join(dir, f)));
  const [rulesName] = present;
  if (rulesName === undefined)
    throw new SourceLoadError(
      `${dir}: a CASL bundle needs its rule set in rules.json (or rules.yaml)`,
    );
  if (present.length > 1)
    throw new SourceLoadError(`${dir}: holds ${present.join(' and ')}; keep one rule set file`);
  const cases: { file: string; text: string }[] = [];
  for (const file of walk(dir, [])) {
    const name = path.basename(file);
    if (file === path.join(dir, rulesName)) continue;
    if (CASES_FILE.test(name)) cases.push({ file, text: readText(file) });
    else
      throw new SourceLoadError(
        `${file}: a CASL bundle holds its rule set (${rulesName}) and case files (cases.yaml); move this file out`,
      );
  }
  const rulesFile = path.join(dir, rulesName);
  return { dir, rules: { file: rulesFile, text: readText(rulesFile) }, cases };
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
    throw new SourceLoadError(`${file}: no such file or directory`);
  }
}

/**
 * Files under `dir`, in a stable order, skipping hidden entries (.git, .manifest, ...); CASL
 * bundle folders below it go to `casl` instead.
 */
function walk(dir: string, casl: CaslBundleSource[]): string[] {
  const out: string[] = [];
  const entries = fs.readdirSync(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory() && isCaslBundle(full, false)) casl.push(readCaslBundle(full));
    else if (e.isDirectory()) out.push(...walk(full, casl));
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
    throw new SourceLoadError(`${file}: not a policy (.rego) or data (.json, .yaml) file`);
  }
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new SourceLoadError(`${file}: ${err instanceof Error ? err.message : String(err)}`);
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
        throw new SourceLoadError(`${file}:${err.line}:${err.column}: ${err.message}`);
      }
      throw err;
    }
  }
  const doc = parseDocument(text, { intAsBigInt: true });
  const problem = doc.errors[0];
  if (problem) {
    const where = problem.linePos?.[0];
    const at = where ? `:${where.line}:${where.col}` : '';
    throw new SourceLoadError(
      `${file}${at}: invalid YAML: ${problem.message.split('\n')[0] ?? ''}`,
    );
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
      throw new SourceLoadError(
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
      throw new SourceLoadError(`${file}: ${where} is already defined by data loaded before`);
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
      throw new SourceLoadError(`${file}: ${where} is already defined by data loaded before`);
    }
  }
}
