/**
 * The rules one user gets, in CASL's own formats, so a front end can build the same ability the
 * server decides with: the user's roles pick the rules, `${user...}` templates are filled in
 * from the user, and `packRules` (from `@casl/ability/extra`) makes the compact form that
 * `unpackRules` reads back.
 *
 * A rule whose template reads a value the user lacks (missing, null, an object or a list) is
 * left out, just as the compiled decision never applies it.
 */
import { packRules, type PackRule } from '@casl/ability/extra';
import type { MongoAbility, RawRuleOf } from '@casl/ability';
import type { CaslRule } from './rules';
import { templatePath } from './validate';

/** A CASL raw rule, as `createMongoAbility` takes it. */
export type RawRule = RawRuleOf<MongoAbility>;

/** A rule for the user, with its index in the rule set (the `rule` of a decision). */
export interface UserRule {
  readonly index: number;
  readonly rule: RawRule;
}

/** Whether the user holds the role: listed in `user.roles`, or given as `user.role`. */
export function holdsRole(user: unknown, role: string): boolean {
  if (typeof user !== 'object' || user === null) return false;
  const { roles, role: single } = user as { roles?: unknown; role?: unknown };
  return (Array.isArray(roles) && roles.includes(role)) || single === role;
}

type Filled = { readonly ok: true; readonly value: unknown } | { readonly ok: false };

function lookup(user: unknown, path: readonly string[]): unknown {
  let current = user;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** `value` with every template replaced by the user's scalar; not ok when one is missing. */
function fill(value: unknown, user: unknown): Filled {
  if (typeof value === 'string') {
    const path = templatePath(value);
    if (path === undefined) return { ok: true, value };
    const found = lookup(user, path);
    const scalar =
      typeof found === 'string' ||
      typeof found === 'boolean' ||
      (typeof found === 'number' && Number.isFinite(found));
    return scalar ? { ok: true, value: found } : { ok: false };
  }
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const item of value) {
      const f = fill(item, user);
      if (!f.ok) return f;
      out.push(f.value);
    }
    return { ok: true, value: out };
  }
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const f = fill(item, user);
      if (!f.ok) return f;
      out[key] = f.value;
    }
    return { ok: true, value: out };
  }
  return { ok: true, value };
}

/** The user's rules in decision order (a later rule wins), templates filled in. */
export function rulesForUser(rules: readonly CaslRule[], user: unknown): UserRule[] {
  const out: UserRule[] = [];
  for (const rule of rules) {
    if (rule.role !== undefined && !holdsRole(user, rule.role)) continue;
    // Templates sit only in conditions (the validator refuses them elsewhere).
    const { conditions, ...rest } = rule.source;
    if (conditions === undefined) {
      out.push({ index: rule.index, rule: rest as unknown as RawRule });
      continue;
    }
    const filled = fill(conditions, user);
    if (filled.ok)
      out.push({ index: rule.index, rule: { ...rest, conditions: filled.value } as RawRule });
  }
  return out;
}

/** The user's rules in `packRules` form, for `unpackRules` and `createMongoAbility`. */
export function packedRulesForUser(rules: readonly CaslRule[], user: unknown): PackRule<RawRule>[] {
  return packRules(rulesForUser(rules, user).map((r) => r.rule));
}
