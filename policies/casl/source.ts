/**
 * A CASL rule set read from its file (`rules.json` or `rules.yaml`): parsed, validated and
 * compiled, with every problem reported as a diagnostic at its line and column in the file.
 */
import { isMap, isSeq, parseDocument, type Document, type Node } from 'yaml';
import { positionAt, type Diagnostic, type Position } from '../diagnostic';
import { compileModules, type CompiledProgram } from '../rego/compile';
import type * as ast from '../rego/ast';
import { lowerRuleSet } from './lower';
import type { CaslRule } from './rules';
import { CaslValidationError, parseRuleSet } from './validate';

/** A rule set file's name and text; the name positions diagnostics. */
export interface CaslSource {
  readonly file: string;
  readonly text: string;
}

/**
 * What `loadRuleSet` gives: the rules and their Rego module, or the diagnostics that stopped it.
 */
export interface LoadedRuleSet {
  readonly rules?: readonly CaslRule[];
  readonly module?: ast.Module;
  readonly diagnostics: readonly Diagnostic[];
}

/** The node at a JSON pointer (`/roles/editor/0/conditions`), or the deepest one reached. */
function nodeAt(doc: Document, pointer: string): Node | undefined {
  let node = doc.contents ?? undefined;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    let next: unknown;
    if (isMap(node)) next = node.items.find((p) => String(p.key) === key)?.value;
    else if (isSeq(node)) next = node.items[Number(key)];
    if (next === undefined || next === null || typeof next !== 'object') break;
    node = next as Node;
  }
  return node;
}

function positionOf(doc: Document, source: CaslSource, pointer: string): Position {
  const range = nodeAt(doc, pointer)?.range;
  return positionAt(source.file, source.text, range ? range[0] : 0);
}

/** JSON.parse's own complaint about a .json file (clearer there than YAML's). */
function jsonProblem(text: string): string | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** Parses (JSON or YAML: JSON is read as YAML 1.2, which it is), validates and lowers. */
export function loadRuleSet(source: CaslSource): LoadedRuleSet {
  const doc = parseDocument(source.text, { uniqueKeys: true, prettyErrors: false });
  const [syntax] = doc.errors;
  if (syntax) {
    const json = source.file.endsWith('.json') ? jsonProblem(source.text) : undefined;
    return {
      diagnostics: [
        {
          code: 'casl_rule_error',
          message: `not a valid rule set file: ${json ?? syntax.message.split('\n')[0] ?? ''}`,
          position: positionAt(source.file, source.text, syntax.pos[0]),
        },
      ],
    };
  }
  let rules: CaslRule[];
  try {
    rules = parseRuleSet(doc.toJS());
  } catch (err) {
    if (!(err instanceof CaslValidationError)) throw err;
    return {
      diagnostics: err.issues.map((issue) => ({
        code: 'casl_rule_error' as const,
        message: `${issue.rule === undefined ? '' : `rule ${String(issue.rule)}: `}${issue.at || '/'}: ${issue.message}`,
        position: positionOf(doc, source, issue.at),
      })),
    };
  }
  return { rules, module: lowerRuleSet(rules, source.file), diagnostics: [] };
}

/** Loads and compiles a rule set file. */
export function compileRuleSetSource(source: CaslSource): {
  rules?: readonly CaslRule[];
  program?: CompiledProgram;
  diagnostics: readonly Diagnostic[];
} {
  const loaded = loadRuleSet(source);
  if (!loaded.module || !loaded.rules) return { diagnostics: loaded.diagnostics };
  const { program, diagnostics } = compileModules([loaded.module]);
  return program ? { rules: loaded.rules, program, diagnostics: [] } : { diagnostics };
}
