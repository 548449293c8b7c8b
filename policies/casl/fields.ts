/**
 * CASL field lists as a test on the requested field. Without `*` a rule's fields are an exact
 * list. With `*` anywhere in the list, CASL matches the field against one regular expression
 * built from all of them; this module builds the same expression for RE2:
 * - `*` matches within one dot-separated segment (`[^.]`), `**` across segments (`.`);
 * - a wildcard that starts the field, or sits between two dots (`a.*.b`), needs at least one
 *   character; elsewhere it may match nothing;
 * - a wildcard (with the dot before it) that ends the field is optional: `author.*` also
 *   matches `author`.
 */

/** A wildcard run: an optional dot, stars, an optional dot. */
const WILDCARD = /\.?\*+\.?/g;

function escapeLiteral(text: string): string {
  return text.replace(/[-/\\^$+?.()|[\]{}*]/g, (c) => `\\${c}`);
}

function wildcard(run: string, field: string, atEnd: boolean): string {
  const leadingDot = run.startsWith('.');
  const trailingDot = run.length > 1 && run.endsWith('.');
  const quantifier = field.startsWith('*') || (leadingDot && trailingDot) ? '+' : '*';
  const matcher = run.includes('**') ? '.' : '[^.]';
  const piece = `${leadingDot ? '\\.' : ''}${matcher}${quantifier}${trailingDot ? '\\.' : ''}`;
  return atEnd ? `(?:${piece})?` : piece;
}

function fieldPattern(field: string): string {
  let out = '';
  let last = 0;
  for (const m of field.matchAll(WILDCARD)) {
    out += escapeLiteral(field.slice(last, m.index));
    last = m.index + m[0].length;
    out += wildcard(m[0], field, last === field.length);
  }
  return out + escapeLiteral(field.slice(last));
}

/** The RE2 pattern for a field list with wildcards; undefined when the list has none. */
export function fieldsPattern(fields: readonly string[]): string | undefined {
  if (fields.every((f) => !f.includes('*'))) return undefined;
  const alternatives = fields.map(fieldPattern);
  return `^${alternatives.length > 1 ? `(?:${alternatives.join('|')})` : (alternatives[0] ?? '')}$`;
}
