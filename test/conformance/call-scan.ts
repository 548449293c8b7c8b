/**
 * Finds, in Rego source text, the names called as functions and the names a module defines, so
 * the harness can tell which builtins a case needs without parsing it (the harness must judge
 * cases even when Verdict's own parser cannot read them yet).
 *
 * This is a scanner over source text, not a parser: it blanks out comments and string
 * literals, then reads dotted names written directly before `(`.
 */

const NAME = String.raw`[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*`;
/** A rule head's ref: dotted names and `["name"]` segments. */
const HEAD_REF = String.raw`[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*|\["[A-Za-z_][A-Za-z0-9_]*"\])*`;

/** Keywords that may stand before `(` without being a call. */
const KEYWORDS = new Set([
  'as',
  'contains',
  'default',
  'else',
  'every',
  'false',
  'if',
  'import',
  'in',
  'not',
  'null',
  'package',
  'some',
  'true',
  'with',
]);

/** The text with comments and the contents of string literals replaced by spaces. */
export function codeOnly(src: string): string {
  let out = '';
  let i = 0;
  while (i < src.length) {
    const ch = src.charAt(i);
    if (ch === '#') {
      while (i < src.length && src.charAt(i) !== '\n') {
        out += ' ';
        i++;
      }
    } else if (ch === '"' || ch === '`') {
      const { end, closed } = stringEnd(src, i);
      out += ch + blank(src.slice(i + 1, closed ? end - 1 : end)) + (closed ? ch : '');
      i = end;
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

/** Where the string literal opening at `start` ends (just past its closing quote, if any). */
function stringEnd(src: string, start: number): { end: number; closed: boolean } {
  const quote = src.charAt(start);
  let i = start + 1;
  while (i < src.length) {
    const ch = src.charAt(i);
    if (quote === '"' && ch === '\\') i += 2;
    else if (ch === quote) return { end: i + 1, closed: true };
    else if (quote === '"' && ch === '\n') return { end: i, closed: false };
    else i++;
  }
  return { end: src.length, closed: false };
}

function blank(text: string): string {
  return text.replace(/[^\n]/g, ' ');
}

/**
 * Builtin candidates in one source: dotted names written directly before `(` that are not
 * keywords and not refs into `data` or `input` (calls to user functions by full path), names
 * replaced by `with <name> as`, and names given as replacements (`with f as count`) that are
 * not variables. `set()`, the empty set, is not a call.
 */
export function calledNames(src: string): Set<string> {
  const code = codeOnly(src);
  const names = new Set<string>();
  // The name must not continue a ref (`x.y[0].f(`) nor follow a term (`")(`); a lookbehind, so
  // that nested calls (`round(units.parse(x))`) are all found.
  const call = new RegExp(String.raw`(?<![A-Za-z0-9_.\]\)"\x60])(${NAME})([ \t]*)\((\s*\))?`, 'g');
  for (const m of code.matchAll(call)) {
    const name = m[1] ?? '';
    // `contains(s, x)` is the builtin; `p contains (x)` is the keyword of a rule head.
    if (name === 'contains' ? m[2] !== '' : KEYWORDS.has(name)) continue;
    if (name === 'set' && m[3] !== undefined) continue;
    if (!refIntoDocument(name)) names.add(name);
  }
  // `with time.now_ns as 1` replaces a builtin, so the case needs it to exist.
  for (const m of code.matchAll(new RegExp(String.raw`\bwith\s+(${NAME})\s+as\b`, 'g'))) {
    const name = m[1] ?? '';
    if (!refIntoDocument(name)) names.add(name);
  }
  // `with f as count` replaces a function with a builtin (or a rule, a variable, a value).
  const replacement = new RegExp(
    String.raw`\bwith\s+${NAME}\s+as\s+(${NAME})(?![A-Za-z0-9_.(\[])`,
    'g',
  );
  for (const m of code.matchAll(replacement)) {
    const name = m[1] ?? '';
    const at = m.index + m[0].length - name.length;
    if (KEYWORDS.has(name) || refIntoDocument(name) || boundElsewhere(code, name, at)) continue;
    names.add(name);
  }
  return names;
}

function refIntoDocument(name: string): boolean {
  const root = name.split('.')[0];
  return root === 'data' || root === 'input';
}

/**
 * Whether the first segment of `name` shows up in `code` as a term of its own (not a call, not
 * a `with` target or replacement, not the occurrence at `at`): then it is a variable, since a
 * variable must be bound somewhere to be used.
 */
function boundElsewhere(code: string, name: string, at: number): boolean {
  const root = name.split('.')[0] ?? '';
  const word = new RegExp(String.raw`(?<![A-Za-z0-9_.])${root}(?![A-Za-z0-9_.(])`, 'g');
  for (const m of code.matchAll(word)) {
    const index = m.index;
    if (index === at) continue;
    const before = code.slice(Math.max(0, index - 40), index);
    if (/\b(with|as)\s+$/.test(before)) continue;
    return true;
  }
  return false;
}

export interface ModuleNames {
  /** Heads of rules and functions, as written (`f`, `a.b.f`). */
  readonly rules: ReadonlySet<string>;
  /** Names that imports bring into scope (`import data.lib` → `lib`). */
  readonly importAliases: ReadonlySet<string>;
}

/**
 * Names a module defines: every name that starts a statement at nesting depth 0 (rule and
 * function heads), and import aliases.
 */
export function definedNames(src: string): ModuleNames {
  const code = codeOnly(src);
  const rules = new Set<string>();
  const importAliases = new Set<string>();
  let depth = 0;
  let lineStart = true;
  for (let i = 0; i < code.length; i++) {
    const ch = code.charAt(i);
    if (ch === '\n' || ch === ';') {
      lineStart = true;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r') continue;
    if (depth === 0 && lineStart) {
      // Read the head from the source itself: `foo["bar"](x)` names its head with a string.
      const end = src.indexOf('\n', i);
      noteStatement(src.slice(i, end < 0 ? undefined : end), rules, importAliases);
    }
    lineStart = false;
    if (ch === '{' || ch === '[' || ch === '(') depth++;
    else if ((ch === '}' || ch === ']' || ch === ')') && depth > 0) depth--;
  }
  return { rules, importAliases };
}

function noteStatement(statement: string, rules: Set<string>, importAliases: Set<string>): void {
  const imp = new RegExp(String.raw`^import\s+(${NAME})(?:\s+as\s+([A-Za-z_][A-Za-z0-9_]*))?`).exec(
    statement,
  );
  if (imp) {
    const path = imp[1] ?? '';
    const alias = imp[2] ?? path.split('.').pop() ?? '';
    // `import rego.v1` and `import future.keywords...` bring no names into scope.
    if (!path.startsWith('rego.') && !path.startsWith('future.')) importAliases.add(alias);
    return;
  }
  const head = new RegExp(String.raw`^(?:default\s+)?(${HEAD_REF})`).exec(statement);
  if (head?.[1] === undefined) return;
  // `foo["bar"]` is the same head as `foo.bar`, which is how calls spell it.
  const name = head[1].replace(/\["([A-Za-z_][A-Za-z0-9_]*)"\]/g, '.$1');
  if (!KEYWORDS.has(name)) rules.add(name);
}

/**
 * Names called in `sources` that are neither defined by `modules` nor reached through an import
 * alias: the builtins the sources need.
 */
export function builtinCalls(sources: readonly string[], modules: readonly string[]): string[] {
  const rules = new Set<string>();
  const aliases = new Set<string>();
  for (const m of modules) {
    const names = definedNames(m);
    for (const r of names.rules) rules.add(r);
    for (const a of names.importAliases) aliases.add(a);
  }
  const found = new Set<string>();
  for (const src of sources) {
    for (const name of calledNames(src)) {
      if (rules.has(name)) continue;
      if (aliases.has(name.split('.')[0] ?? '')) continue;
      found.add(name);
    }
  }
  return [...found].sort();
}
