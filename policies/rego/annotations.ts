/**
 * METADATA comment blocks: a `# METADATA` comment in column 1, followed by comments in column 1
 * on the lines right after it, holding YAML (title, description, scope, custom, ...). A block
 * belongs to the package or rule that follows it; its scope defaults to `rule` before a rule
 * and `package` before the package declaration.
 */
import { parse as parseYaml } from 'yaml';
import type { Diagnostic, Position } from '../diagnostic';
import type { Annotation, Comment } from './ast';

/**
 * A `# METADATA` block found in the comments: where it starts and its YAML, comment markers
 * removed.
 */
export interface MetadataBlock {
  readonly loc: Position;
  /** Line of the block's last comment. */
  readonly lastLine: number;
  readonly yaml: string;
}

/** A statement annotations can attach to, in source order. */
export interface AnnotationTarget {
  readonly kind: 'package' | 'import' | 'rule';
  readonly loc: Position;
  readonly end?: Position;
}

/** What `attachAnnotations` found: annotations by target, and the blocks it could not read. */
export interface AttachedAnnotations {
  /** Annotations per target index. */
  readonly byTarget: ReadonlyMap<number, readonly Annotation[]>;
  readonly diagnostics: readonly Diagnostic[];
}

const SCOPES = ['rule', 'document', 'package', 'subpackages'];

function isMetadataStart(c: Comment): boolean {
  return c.loc.col === 1 && c.text.trim().startsWith('METADATA');
}

/** The METADATA blocks among `comments`, in source order; their YAML is not parsed yet. */
export function findMetadataBlocks(comments: readonly Comment[]): MetadataBlock[] {
  const blocks: MetadataBlock[] = [];
  for (let i = 0; i < comments.length; i++) {
    const first = comments[i] as Comment;
    if (!isMetadataStart(first)) continue;
    const lines: string[] = [];
    let last = first;
    while (i + 1 < comments.length) {
      const next = comments[i + 1] as Comment;
      if (next.loc.col !== 1 || next.loc.line !== last.loc.line + 1 || isMetadataStart(next)) break;
      lines.push(next.text.startsWith(' ') ? next.text.slice(1) : next.text);
      last = next;
      i++;
    }
    blocks.push({ loc: first.loc, lastLine: last.loc.line, yaml: lines.join('\n') });
  }
  return blocks;
}

function parseError(message: string, at: Position): Diagnostic {
  return { code: 'rego_parse_error', message, position: at, token: '# METADATA' };
}

type FieldsResult =
  | { readonly fields: Record<string, unknown> }
  | { readonly fields?: undefined; readonly error: Diagnostic };

/** The block's YAML as an object, or a diagnostic. */
function parseBlockFields(block: MetadataBlock): FieldsResult {
  if (block.yaml.trim() === '') {
    return { error: parseError('expected YAML after # METADATA, found nothing', block.loc) };
  }
  let fields: unknown;
  try {
    fields = parseYaml(block.yaml, { logLevel: 'error', uniqueKeys: true });
  } catch (err: unknown) {
    const reason = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
    return { error: parseError(`invalid YAML in METADATA block: ${reason}`, block.loc) };
  }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
    const message = 'METADATA block must be a YAML mapping, like `title: My rule`';
    return { error: parseError(message, block.loc) };
  }
  return { fields: fields as Record<string, unknown> };
}

/** Parses every METADATA block and attaches it to the statement that follows it. */
export function attachAnnotations(
  comments: readonly Comment[],
  targets: readonly AnnotationTarget[],
): AttachedAnnotations {
  const byTarget = new Map<number, Annotation[]>();
  const diagnostics: Diagnostic[] = [];
  for (const block of findMetadataBlocks(comments)) {
    const parsed = parseBlockFields(block);
    if (!parsed.fields) {
      diagnostics.push(parsed.error);
      continue;
    }
    const fields = parsed.fields;
    const inside = targets.find(
      (t) => t.loc.offset < block.loc.offset && block.loc.offset < (t.end?.offset ?? 0),
    );
    if (inside) {
      diagnostics.push(
        parseError(
          `METADATA block inside a ${inside.kind}: move it right above the rule`,
          block.loc,
        ),
      );
      continue;
    }
    const index = targets.findIndex((t) => t.loc.line > block.lastLine);
    const target = targets[index];
    const written = fields.scope;
    if (written !== undefined && (typeof written !== 'string' || !SCOPES.includes(written))) {
      diagnostics.push(
        parseError(
          `invalid annotation scope ${JSON.stringify(written)}: use one of rule, document, package or subpackages`,
          block.loc,
        ),
      );
      continue;
    }
    if (!target || target.kind === 'import') {
      diagnostics.push(
        parseError('METADATA block must come right before a package or a rule', block.loc),
      );
      continue;
    }
    const scope = written ?? target.kind;
    const wants = scope === 'package' || scope === 'subpackages' ? 'package' : 'rule';
    if (wants !== target.kind) {
      diagnostics.push(
        parseError(
          `annotation scope ${scope} must be applied to a ${wants}, but the next statement is a ${target.kind}`,
          block.loc,
        ),
      );
      continue;
    }
    const list = byTarget.get(index) ?? [];
    list.push({ scope, fields, loc: block.loc });
    byTarget.set(index, list);
  }
  return { byTarget, diagnostics };
}
