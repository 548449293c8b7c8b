/**
 * Validates a raw CASL rule set (JSON) and parses it into `CaslRule`s. The shape is checked by
 * an ajv schema; conditions are then parsed operator by operator. Every error names the rule
 * index and the field it is about, and says what to write instead.
 */
import Ajv, { type ErrorObject } from 'ajv';
import { RE2JS } from 're2js';
import type { CaslRule, Condition, FieldPath, Operand, Scalar } from './rules';

/** One problem found in a rule set. */
export interface CaslIssue {
  /** Index of the rule in the rule set (absent when the rule set itself is wrong). */
  readonly rule?: number;
  /** JSON-pointer-like location inside the rule set: `/2/conditions/age/$gt`. */
  readonly at: string;
  readonly message: string;
}

/** A rule set that fails validation; the message lists every issue, one per line. */
export class CaslValidationError extends Error {
  readonly issues: readonly CaslIssue[];

  constructor(issues: readonly CaslIssue[]) {
    super(issues.map((i) => `${i.at || '/'}: ${i.message}`).join('\n'));
    this.name = 'CaslValidationError';
    this.issues = issues;
  }
}

const stringOrList = {
  anyOf: [
    { type: 'string', minLength: 1 },
    { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
  ],
};

const ruleSchema = {
  type: 'object',
  required: ['action'],
  additionalProperties: false,
  properties: {
    action: stringOrList,
    subject: stringOrList,
    fields: stringOrList,
    conditions: { type: 'object' },
    inverted: { type: 'boolean' },
    reason: { type: 'string' },
  },
};

/** Role names; integer-like names are refused because JavaScript objects reorder them. */
export const ROLE_NAME = '^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$';

const ruleListSchema = { type: 'array', items: ruleSchema };

/**
 * A rule set is a list of rules (for every user), or an object with `rules` for every user
 * and `roles`, a map from role name to the extra rules of users holding that role.
 */
const roleSetSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    rules: ruleListSchema,
    roles: {
      type: 'object',
      propertyNames: { pattern: ROLE_NAME },
      additionalProperties: ruleListSchema,
    },
  },
};

const ajv = new Ajv({ allErrors: true, strict: true });
const checkList = ajv.compile(ruleListSchema);
const checkRoleSet = ajv.compile(roleSetSchema);

/** One rule as written, with where it sits in the file. */
interface PlacedRule {
  readonly raw: unknown;
  /** JSON pointer of the rule in the file (`/3`, `/rules/3`, `/roles/editor/0`). */
  readonly at: string;
  readonly role?: string;
}

/**
 * The rules in decision order: each role's rules in the order the roles are written, then the
 * rules for everyone, so that a `cannot` for everyone (a legal hold) binds every role. A rule's
 * index is its position in this order. Entries that are not lists are passed over (the shape
 * check reports them).
 */
function placeRules(raw: unknown): PlacedRule[] {
  const list = (x: unknown): unknown[] => (Array.isArray(x) ? (x as unknown[]) : []);
  if (Array.isArray(raw)) return list(raw).map((r, i) => ({ raw: r, at: `/${String(i)}` }));
  if (!isRecord(raw)) return [];
  const out: PlacedRule[] = [];
  for (const [role, rules] of Object.entries(isRecord(raw.roles) ? raw.roles : {})) {
    list(rules).forEach((r, i) => {
      out.push({ raw: r, at: `/roles/${role}/${String(i)}`, role });
    });
  }
  list(raw.rules).forEach((r, i) => {
    out.push({ raw: r, at: `/rules/${String(i)}` });
  });
  return out;
}

function shapeIssue(e: ErrorObject, placed: readonly PlacedRule[]): CaslIssue {
  const { additionalProperty } = e.params as { additionalProperty?: string };
  const at =
    additionalProperty !== undefined
      ? `${e.instancePath}/${additionalProperty}`
      : e.propertyName !== undefined
        ? `${e.instancePath}/${e.propertyName}`
        : e.instancePath;
  const rule = placed.findIndex((p) => at === p.at || at.startsWith(`${p.at}/`));
  let message = e.message ?? 'is invalid';
  if (e.keyword === 'additionalProperties')
    message =
      rule >= 0
        ? 'unknown property; a CASL rule has action, subject, fields, conditions, inverted and reason'
        : 'unknown property; a rule set with roles has "rules" (for everyone) and "roles" (role name → list of rules)';
  else if (e.keyword === 'anyOf')
    message = 'must be a non-empty string or a non-empty list of non-empty strings';
  else if (e.keyword === 'pattern' && e.propertyName !== undefined)
    message = `role name "${e.propertyName}" must start with a letter or _ and hold only letters, digits and _ . : -`;
  return rule >= 0 ? { rule, at, message } : { at, message };
}

/**
 * Errors worth showing: an anyOf's own message stands for the failures of its branches, and a
 * propertyNames failure for the pattern failure it wraps.
 */
function shown(errors: readonly ErrorObject[] | null | undefined): ErrorObject[] {
  return (errors ?? []).filter(
    (e) => !e.schemaPath.includes('/anyOf/') && e.keyword !== 'propertyNames',
  );
}

/** The shape problems of a rule set, or none. */
function shapeIssues(raw: unknown): CaslIssue[] {
  const placed = placeRules(raw);
  if (Array.isArray(raw))
    return checkList(raw) ? [] : shown(checkList.errors).map((e) => shapeIssue(e, placed));
  if (isRecord(raw) && 'action' in raw)
    return [
      {
        at: '',
        message:
          'a rule set is a list of rules (or an object with "rules" and "roles"); this looks like one rule: wrap it in [ ]',
      },
    ];
  if (isRecord(raw))
    return checkRoleSet(raw) ? [] : shown(checkRoleSet.errors).map((e) => shapeIssue(e, placed));
  return [
    {
      at: '',
      message:
        'a rule set is a list of rules, or an object with "rules" and "roles" (role name → rules)',
    },
  ];
}

const TEMPLATE = /^\$\{user((?:\.[A-Za-z_$][\w$]*)+)\}$/;
const SEGMENT = /^(?:[A-Za-z_$][\w$-]*|0|[1-9][0-9]*)$/;

/** Names JavaScript objects, arrays or strings answer on their own (CASL would read them). */
function isBuiltInProperty(name: string): boolean {
  return name in Object.prototype || name in Array.prototype || name in String.prototype;
}

const FIELD_OPERATORS = new Set([
  '$eq',
  '$ne',
  '$lt',
  '$lte',
  '$gt',
  '$gte',
  '$in',
  '$nin',
  '$all',
  '$size',
  '$regex',
  '$options',
  '$elemMatch',
  '$exists',
]);

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isScalar(x: unknown): x is Scalar {
  return (
    x === null ||
    typeof x === 'string' ||
    typeof x === 'boolean' ||
    (typeof x === 'number' && Number.isFinite(x))
  );
}

/** Parses the conditions of one rule (or of an `$elemMatch`), collecting issues. */
class ConditionParser {
  constructor(
    private readonly rule: number,
    private readonly issues: CaslIssue[],
  ) {}

  private fail(at: string, message: string): void {
    this.issues.push({ rule: this.rule, at, message });
  }

  query(query: Record<string, unknown>, at: string): Condition[] {
    const out: Condition[] = [];
    for (const [key, value] of Object.entries(query)) {
      const here = `${at}/${key}`;
      if (key.startsWith('$')) {
        this.fail(
          here,
          `${key} is not supported at the top of CASL conditions (createMongoAbility accepts field operators only); write one rule per alternative instead of $or, and an inverted rule instead of $nor/$not`,
        );
        continue;
      }
      const path = this.path(key, here);
      if (!path) continue;
      if (isRecord(value)) out.push(...this.operators(path, value, here));
      else {
        const operand = this.operand(value, here, true);
        if (operand) out.push({ op: 'eq', path, value: operand });
      }
    }
    return out;
  }

  private path(key: string, at: string): FieldPath | undefined {
    const segments = key.split('.');
    for (const s of segments) {
      if (!SEGMENT.test(s)) {
        this.fail(
          at,
          `field path segment "${s}" is not supported; use names of letters, digits, _, $ and - that do not start with a digit, or array indexes such as 0 or 12`,
        );
        return undefined;
      }
      if (isBuiltInProperty(s)) {
        this.fail(
          at,
          `field path segment "${s}" names a built-in JavaScript property, which CASL would read from the value itself; rename the field`,
        );
        return undefined;
      }
    }
    return segments;
  }

  private operand(value: unknown, at: string, templates: boolean): Operand | undefined {
    if (typeof value === 'string') {
      const m = TEMPLATE.exec(value);
      if (m?.[1] !== undefined) {
        if (!templates) {
          this.fail(
            at,
            'a ${user...} template is allowed only in $eq, $ne, $in, $nin and plain equality',
          );
          return undefined;
        }
        return { kind: 'template', path: m[1].slice(1).split('.') };
      }
    }
    if (isScalar(value)) return { kind: 'const', value };
    this.fail(
      at,
      'must be a string, number, boolean or null: CASL compares objects and arrays by reference, so such a value never matches (use $all, $in or a dotted path)',
    );
    return undefined;
  }

  private operators(path: FieldPath, ops: Record<string, unknown>, at: string): Condition[] {
    const out: Condition[] = [];
    const keys = Object.keys(ops);
    if (keys.length === 0)
      this.fail(at, 'an empty operator object; write a value or { "$exists": true }');
    for (const [op, value] of Object.entries(ops)) {
      const here = `${at}/${op}`;
      if (!FIELD_OPERATORS.has(op)) {
        this.fail(
          here,
          op.startsWith('$')
            ? `unknown operator ${op}; CASL supports ${[...FIELD_OPERATORS].join(' ')}`
            : 'an object value needs operator keys ($eq, $in, ...); to reach a nested field use a dotted path such as "author.id"',
        );
        continue;
      }
      const c = this.operator(path, op, value, ops, here);
      if (c) out.push(c);
    }
    return out;
  }

  private operator(
    path: FieldPath,
    op: string,
    value: unknown,
    ops: Record<string, unknown>,
    at: string,
  ): Condition | undefined {
    const values: unknown[] = Array.isArray(value) ? value : [value];
    if (
      !['$eq', '$ne', '$in', '$nin'].includes(op) &&
      values.some((v) => typeof v === 'string' && TEMPLATE.test(v))
    ) {
      this.fail(
        at,
        'a ${user...} template is allowed only in $eq, $ne, $in, $nin and plain equality',
      );
      return undefined;
    }
    switch (op) {
      case '$eq':
      case '$ne': {
        const operand = this.operand(value, at, true);
        return operand && { op: op === '$eq' ? 'eq' : 'ne', path, value: operand };
      }
      case '$lt':
      case '$lte':
      case '$gt':
      case '$gte':
        if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value)))
          return { op: op.slice(1) as 'lt' | 'lte' | 'gt' | 'gte', path, value };
        this.fail(at, `${op} needs a number or a string`);
        return undefined;
      case '$in':
      case '$nin': {
        if (!Array.isArray(value)) {
          this.fail(at, `${op} needs a list of values`);
          return undefined;
        }
        const values: Operand[] = [];
        value.forEach((v, i) => {
          const operand = this.operand(v, `${at}/${String(i)}`, true);
          if (operand) values.push(operand);
        });
        return { op: op === '$in' ? 'in' : 'nin', path, values };
      }
      case '$all': {
        if (!Array.isArray(value) || !value.every(isScalar)) {
          this.fail(at, '$all needs a list of strings, numbers, booleans or nulls');
          return undefined;
        }
        return { op: 'all', path, values: value };
      }
      case '$size':
        if (typeof value === 'number' && Number.isInteger(value) && value >= 0)
          return { op: 'size', path, value };
        this.fail(at, '$size needs a non-negative integer');
        return undefined;
      case '$exists':
        if (typeof value === 'boolean') return { op: 'exists', path, value };
        this.fail(at, '$exists needs true or false');
        return undefined;
      case '$options':
        if (!('$regex' in ops)) this.fail(at, '$options is only meaningful next to $regex');
        return undefined;
      case '$regex':
        return this.regex(path, value, ops.$options, at);
      default: {
        const keys = isRecord(value) ? Object.keys(value) : [];
        const operators = keys.filter((k) => k.startsWith('$')).length;
        if (!isRecord(value) || (operators > 0 && operators < keys.length)) {
          this.fail(
            at,
            '$elemMatch needs either conditions on the fields of the elements ({ "id": 1 }) or operators on the elements themselves ({ "$gt": 1 }), not both',
          );
          return undefined;
        }
        // Operators apply to each element itself: the empty path.
        if (operators > 0)
          return { op: 'elemMatch', path, conditions: this.operators([], value, at) };
        return { op: 'elemMatch', path, conditions: this.query(value, at) };
      }
    }
  }

  private regex(
    path: FieldPath,
    pattern: unknown,
    options: unknown,
    at: string,
  ): Condition | undefined {
    if (typeof pattern !== 'string') {
      this.fail(at, '$regex needs the pattern as a string');
      return undefined;
    }
    const flags = options === undefined ? '' : options;
    if (typeof flags !== 'string' || !/^[ims]*$/.test(flags)) {
      this.fail(at.replace(/\$regex$/, '$options'), '$options may hold only the flags i, m and s');
      return undefined;
    }
    try {
      new RegExp(pattern, flags);
    } catch (err) {
      this.fail(at, `not a JavaScript regular expression: ${(err as Error).message}`);
      return undefined;
    }
    try {
      RE2JS.compile(pattern);
    } catch (err) {
      this.fail(
        at,
        `Verdict evaluates patterns with RE2, which refuses this one (${(err as Error).message}); avoid backreferences and lookarounds`,
      );
      return undefined;
    }
    return { op: 'regex', path, pattern, flags };
  }
}

/** Validates a raw rule set; throws CaslValidationError listing every problem. */
export function parseRuleSet(raw: unknown): CaslRule[] {
  const shape = shapeIssues(raw);
  if (shape.length > 0) throw new CaslValidationError(shape);
  const issues: CaslIssue[] = [];
  const rules = placeRules(raw).map(({ raw: rule, at, role }, index): CaslRule => {
    const r = rule as Record<string, unknown>;
    const list = (x: unknown): string[] => (Array.isArray(x) ? (x as string[]) : [x as string]);
    const conditions = isRecord(r.conditions)
      ? new ConditionParser(index, issues).query(r.conditions, `${at}/conditions`)
      : undefined;
    return {
      index,
      actions: list(r.action),
      subjects: r.subject === undefined ? ['all'] : list(r.subject),
      ...(r.fields !== undefined ? { fields: list(r.fields) } : {}),
      ...(conditions ? { conditions } : {}),
      inverted: r.inverted === true,
      ...(typeof r.reason === 'string' ? { reason: r.reason } : {}),
      ...(role !== undefined ? { role } : {}),
      source: r,
    };
  });
  if (issues.length > 0) throw new CaslValidationError(issues);
  return rules;
}

/** The roles a rule set maps, in the order they are written. */
export function rolesOf(rules: readonly CaslRule[]): string[] {
  return [...new Set(rules.flatMap((r) => (r.role === undefined ? [] : [r.role])))];
}

/** The path a `${user.a.b}` template reads (`["a", "b"]`); undefined for any other string. */
export function templatePath(value: string): string[] | undefined {
  const m = TEMPLATE.exec(value);
  return m?.[1] === undefined ? undefined : m[1].slice(1).split('.');
}
