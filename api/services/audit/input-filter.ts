/**
 * The `input=` filter of the decision-log search: a small path syntax matched against the
 * recorded input, `input.subject.id=bob`.
 *
 * - The path starts with `input` and names members with `.name`; a name is letters, digits,
 *   `_`, `-`, `:` or `@`. A segment of digits also reaches into arrays (`input.roles.0=admin`).
 * - The value after the first `=` is JSON when it reads as a JSON scalar (`true`, `false`,
 *   `null`, a number, a "quoted string"), else the text as it is: `input.age=42` matches
 *   the number 42, `input.age="42"` the string.
 *
 * The path and the value are bound as query parameters (`input #> $1::text[] = $2::jsonb`),
 * never written into the SQL text.
 */
import { storableText, type JsonValue } from './canonical';

export interface InputFilter {
  /** Members from the input's root, e.g. ['subject', 'id']. */
  readonly path: readonly string[];
  readonly value: JsonValue;
}

/** Deepest path accepted; inputs are checked against a depth limit far below this anyway. */
export const maxInputFilterDepth = 32;

const segmentPattern = /^[A-Za-z0-9_:@-]+$/u;
const jsonNumber = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/u;

function parseValue(text: string): JsonValue | undefined {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text === 'null') return null;
  if (jsonNumber.test(text)) {
    const number = Number(text);
    return Number.isFinite(number) ? number : undefined;
  }
  if (text.startsWith('"')) {
    try {
      const parsed: unknown = JSON.parse(text);
      // Compared with the input as stored, where NUL and lone surrogate halves became U+FFFD.
      return typeof parsed === 'string' ? storableText(parsed) : undefined;
    } catch {
      return undefined;
    }
  }
  return text;
}

/** The filter `text` stands for, or a one-line reason it is not one. */
export function parseInputFilter(text: string): InputFilter | string {
  const equals = text.indexOf('=');
  if (equals < 0) return 'must be path=value, e.g. input.subject.id=bob';
  const segments = text.slice(0, equals).split('.');
  if (segments[0] !== 'input' || segments.length < 2) {
    return 'the path must start with input. and name a member, e.g. input.subject.id=bob';
  }
  const path = segments.slice(1);
  if (path.length > maxInputFilterDepth) {
    return `the path is deeper than ${maxInputFilterDepth} members`;
  }
  const bad = path.find((segment) => !segmentPattern.test(segment));
  if (bad !== undefined) {
    return `path member ${JSON.stringify(bad)} may hold only letters, digits, _, -, : and @`;
  }
  const value = parseValue(text.slice(equals + 1));
  if (value === undefined) return 'the value after = starts with " but is not a JSON string';
  return { path, value };
}
