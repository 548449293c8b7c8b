/**
 * Which arm of a canary serves a request. The choice is sticky: it depends only on the
 * rollout and on a key taken from the request — the value at the rollout's input path
 * (`input.user.id`), or the caller (the API key) when the rollout names no path or the input
 * has nothing there. Every instance computes the same choice with no shared state, and
 * raising the percentage keeps everyone already on the canary there.
 */
import { createHash } from 'node:crypto';
import { canonicalJson, toStorableJson } from '../audit/canonical';

/** A sticky path's form: `input` then one or more dot-separated keys. */
export const stickyPathPattern = /^input(\.[^.\s]+)+$/u;

/** Most keys in a sticky path. */
export const maxStickyDepth = 16;

/** Why `path` is not a sticky path, or undefined when it is one. */
export function stickyPathProblem(path: string): string | undefined {
  if (!stickyPathPattern.test(path)) {
    return 'must be an input path like input.user.id (keys separated by dots)';
  }
  if (path.split('.').length - 1 > maxStickyDepth) {
    return `may name at most ${maxStickyDepth} keys below input`;
  }
  return undefined;
}

/** The keys below `input` of a sticky path (`input.user.id` -> ["user", "id"]). */
export function stickyKeys(path: string): string[] {
  return path.split('.').slice(1);
}

/** The value at `keys` inside `input` (object members and array indexes); undefined if none. */
export function valueAt(input: unknown, keys: readonly string[]): unknown {
  let current = input;
  for (const key of keys) {
    if (Array.isArray(current) && /^(0|[1-9][0-9]*)$/u.test(key)) {
      current = (current as unknown[])[Number(key)];
    } else if (typeof current === 'object' && current !== null && !Array.isArray(current)) {
      if (!Object.hasOwn(current, key)) return undefined;
      current = (current as Record<string, unknown>)[key];
    } else {
      return undefined;
    }
  }
  return current;
}

/** The text a request is bucketed by: the sticky value as canonical JSON, else the caller. */
export function stickyKey(
  keys: readonly string[] | undefined,
  input: unknown,
  caller: string,
): string {
  if (keys !== undefined) {
    const value = toStorableJson(valueAt(input, keys));
    if (value !== undefined && value !== null) return `v:${canonicalJson(value)}`;
  }
  return `c:${caller}`;
}

/** The request's place in [0, 100) for this rollout: uniform over keys, fixed per key. */
export function bucketOf(rolloutId: string, key: string): number {
  const digest = createHash('sha256').update(rolloutId).update('\n').update(key).digest();
  return (digest.readUInt32BE(0) / 2 ** 32) * 100;
}

/** Whether the request goes to the canary of a rollout serving `percent` of traffic. */
export function inCanary(rolloutId: string, percent: number, key: string): boolean {
  return bucketOf(rolloutId, key) < percent;
}
