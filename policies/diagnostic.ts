/**
 * The one diagnostic type shared by the lexer, parser, compiler, interpreter and CLI.
 * Codes follow OPA's where OPA has one (`rego_parse_error`, `rego_unsafe_var_error`,
 * `rego_type_error`, `eval_conflict_error`, ...), so users can search for them.
 */

/** A place in a source file, for pointing a diagnostic at the offending text. */
export interface Position {
  /** File name as given by the caller (may be empty for ad-hoc queries). */
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column, counted in UTF-16 code units. */
  readonly col: number;
  /** 0-based offset into the source text. */
  readonly offset: number;
}

/** What kind of problem a diagnostic reports; OPA's code where OPA has one. */
export type DiagnosticCode =
  | 'rego_parse_error'
  | 'rego_compile_error'
  | 'rego_unsafe_var_error'
  | 'rego_recursion_error'
  | 'rego_type_error'
  | 'eval_conflict_error'
  | 'eval_builtin_error'
  | 'eval_type_error'
  | 'eval_budget_error'
  | 'eval_memory_error'
  | 'eval_internal_error'
  | 'eval_with_merge_error'
  /** A CASL rule set that does not validate (shape, operators, templates, patterns). */
  | 'casl_rule_error';

/** One problem found in a policy or a query, by any stage. */
export interface Diagnostic {
  readonly code: DiagnosticCode;
  readonly message: string;
  readonly position?: Position;
  /** Text of the offending token or term, when there is one. */
  readonly token?: string;
}

/** `file:line:col: message` — the form every tool prints. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.position
    ? `${d.position.file || '<query>'}:${d.position.line}:${d.position.col}: `
    : '';
  return `${where}${d.code}: ${d.message}`;
}

/** An exception that carries diagnostics; thrown inside a stage, caught at its boundary. */
export class PolicyError extends Error {
  readonly diagnostics: readonly Diagnostic[];

  constructor(diagnostics: readonly Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'PolicyError';
    this.diagnostics = diagnostics;
  }

  /** The code of the first diagnostic, which is what callers branch on. */
  get code(): DiagnosticCode {
    return this.diagnostics[0]?.code ?? 'eval_internal_error';
  }
}

/** The position of `offset` in `text`: 1-based line and column, counted in UTF-16 units. */
export function positionAt(file: string, text: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { file, line, col: offset - lineStart + 1, offset };
}
