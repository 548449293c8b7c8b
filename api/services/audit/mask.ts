/**
 * Input masking for the decision log, after OPA's decision-log mask paths: each path is a
 * JSON pointer (RFC 6901) under `/input` naming a part of the input to remove before the
 * decision is recorded, e.g. `/input/password` or `/input/user/ssn`.
 *
 * Supported: object members (with `~1` for `/` and `~0` for `~` in names), array elements
 * by index (`/input/cards/0/number`; removing an element removes it from the array), and
 * `/input` itself (the whole input is left out). A path naming nothing in this input is
 * ignored. Not supported: OPA's `upsert` operation and paths under `/result`.
 *
 * The caller's value is never changed: only the containers along a masked path are copied.
 */
import { VerdictError } from '../../errors';

/** Why `path` is not a mask path, or undefined when it is one. */
export function maskPathProblem(path: string): string | undefined {
  if (path !== '/input' && !path.startsWith('/input/')) {
    return `mask path ${JSON.stringify(path)} must start with /input`;
  }
  if (/~(?![01])/u.test(path)) {
    return `mask path ${JSON.stringify(path)} has a ~ not followed by 0 or 1`;
  }
  return undefined;
}

function segmentsOf(path: string): string[] {
  return path
    .split('/')
    .slice(2)
    .map((segment) => segment.replace(/~1/gu, '/').replace(/~0/gu, '~'));
}

function arrayIndex(segment: string, length: number): number | undefined {
  if (!/^(0|[1-9][0-9]*)$/u.test(segment)) return undefined;
  const index = Number(segment);
  return index < length ? index : undefined;
}

/** `node` without the part `segments` names; `node` itself when it names nothing. */
function removeAt(node: unknown, segments: readonly string[], depth: number): unknown {
  const segment = segments[depth];
  if (segment === undefined || typeof node !== 'object' || node === null) return node;
  const last = depth === segments.length - 1;
  if (Array.isArray(node)) {
    const items = node as unknown[];
    const index = arrayIndex(segment, items.length);
    if (index === undefined) return node;
    if (last) return items.filter((_, i) => i !== index);
    const child = items[index];
    const updated = removeAt(child, segments, depth + 1);
    if (updated === child) return node;
    const copy = [...items];
    copy[index] = updated;
    return copy;
  }
  const record = node as Record<string, unknown>;
  if (!Object.hasOwn(record, segment)) return node;
  if (last) {
    const copy = { ...record };
    // The member must go; a computed delete on a copy we own is the plain way to do that.
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete
    delete copy[segment];
    return copy;
  }
  const child = record[segment];
  const updated = removeAt(child, segments, depth + 1);
  return updated === child ? node : { ...record, [segment]: updated };
}

/** Orders paths so that removing array elements never shifts an index a later path uses. */
function compareForRemoval(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i] as string;
    const y = b[i] as string;
    if (x === y) continue;
    const bothIndexes = /^[0-9]+$/u.test(x) && /^[0-9]+$/u.test(y);
    if (bothIndexes) return Number(y) - Number(x);
    return x < y ? -1 : 1;
  }
  return b.length - a.length;
}

/**
 * The input with every masked part removed; undefined when `/input` itself is masked.
 * Throws a `bad_request` VerdictError for a path that is not a mask path (check paths with
 * `maskPathProblem` when a bundle is uploaded).
 */
export function maskInput(input: unknown, paths: readonly string[]): unknown {
  const parsed: string[][] = [];
  for (const path of paths) {
    const problem = maskPathProblem(path);
    if (problem !== undefined) throw new VerdictError('bad_request', problem);
    const segments = segmentsOf(path);
    if (segments.length === 0) return undefined;
    parsed.push(segments);
  }
  parsed.sort(compareForRemoval);
  let masked = input;
  for (const segments of parsed) masked = removeAt(masked, segments, 0);
  return masked;
}
