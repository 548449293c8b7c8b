/**
 * Lowers a validated CASL rule set to a Rego module (AST built in code) with one entrypoint,
 * `casl/decision`, whose value is `{ allow, reason, rule }`. The module then goes through the
 * same compile → plan → interpret / WASM pipeline as any Rego policy.
 *
 * Semantics follow @casl/ability 7 with createMongoAbility (see docs/casl.md):
 * - a rule applies when its action (or `manage`) and subject type (or `all`) match, its fields
 *   match (`field` absent: inverted rules with fields are skipped), and its conditions hold
 *   (no `resource` given: conditions count as met, except on inverted rules);
 * - the last applying rule decides: allow unless it is inverted.
 * Conditions are read from `input.resource` with @ucast/js's rules: dotted paths flatten through
 * arrays, scalar operators test each element of an array value, comparisons are JavaScript's.
 */
import type * as ast from '../rego/ast';
import { fieldsPattern } from './fields';
import { RegoBuilder } from './rego-build';
import { ANY_ACTION, ANY_SUBJECT, type CaslRule, type Condition, type Operand } from './rules';

export const CASL_PACKAGE = ['casl'] as const;
export const CASL_ENTRYPOINT = 'casl/decision';

/** Integers and decimals `to_number` reads the way JavaScript's Number() does. */
const DECIMAL = '^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$';

class Lowering {
  private readonly r: RegoBuilder;
  private readonly rules: ast.Rule[] = [];
  private counter = 0;
  /** Functions already made for a path or a condition (same text, same function). */
  private readonly memo = new Map<string, string>();

  constructor(file: string) {
    this.r = new RegoBuilder(file);
  }

  module(caslRules: readonly CaslRule[]): ast.Module {
    const r = this.r;
    this.helpers();
    for (const rule of caslRules) {
      this.rules.push(r.ruleContains('casl_match', r.n(rule.index), this.ruleBody(rule)));
    }
    const info = r.arr(
      caslRules.map((c) =>
        r.obj([
          ['allow', r.b(!c.inverted)],
          ['reason', c.reason === undefined ? r.nul() : r.s(c.reason)],
        ]),
      ),
    );
    this.rules.push(
      r.rule('decision', [], {
        isDefault: true,
        value: r.obj([
          ['allow', r.b(false)],
          ['reason', r.nul()],
          ['rule', r.nul()],
        ]),
      }),
      r.rule(
        'decision',
        [
          r.op('gt', r.call('count', r.v('casl_match')), r.n(0)),
          r.assign('i', r.call('max', r.v('casl_match'))),
          r.assign('info', { ...r.ref('info'), head: info, path: [r.v('i')] }),
        ],
        {
          value: r.obj([
            ['allow', r.ref('info', 'allow')],
            ['reason', r.ref('info', 'reason')],
            ['rule', r.v('i')],
          ]),
        },
      ),
    );
    return r.module(CASL_PACKAGE, this.rules);
  }

  /** Functions shared by every rule set: CASL's field access and small tests. */
  private helpers(): void {
    const r = this.r;
    const [x, v, s, c, f] = ['x', 'v', 's', 'c', 'f'].map((n) => r.v(n)) as [
      ast.VarTerm,
      ast.VarTerm,
      ast.VarTerm,
      ast.VarTerm,
      ast.VarTerm,
    ];
    this.rules.push(
      // casl_list(x): an array as is, anything else as a one-element array (Array#concat).
      r.rule('casl_list', [r.lit(r.call('is_array', x))], { args: [x], value: x }),
      r.rule('casl_list', [r.not(r.call('is_array', x))], { args: [x], value: r.arr([x]) }),
      // casl_field(v, s): v[s] on an object; on an array, the elements' s values, flattened.
      r.rule(
        'casl_field',
        [r.lit(r.call('is_object', v)), r.assign('out', { ...r.ref('v'), path: [s] })],
        {
          args: [v, s],
          value: r.v('out'),
        },
      ),
      r.rule(
        'casl_field',
        [
          r.lit(r.call('is_array', v)),
          r.assign(
            'out',
            r.arrayComp(r.v('y'), [
              r.someIn('e', v),
              r.assign('z', { ...r.ref('e'), path: [s] }),
              r.someIn('y', r.call('casl_list', r.v('z'))),
            ]),
          ),
        ],
        { args: [v, s], value: r.v('out') },
      ),
      // casl_has(c, f): Object.hasOwn(c, f) for a field name f.
      r.rule(
        'casl_has',
        [r.lit(r.call('is_object', c)), r.lit(r.member(f, r.call('object.keys', c)))],
        {
          args: [c, f],
        },
      ),
      // casl_null_test(c, f): @ucast/js's `$eq: null` test on one candidate object.
      r.rule('casl_null_test', [r.lit(r.call('is_array', c))], { args: [c, f] }),
      r.rule('casl_null_test', [r.lit(r.call('is_object', c)), r.not(r.call('casl_has', c, f))], {
        args: [c, f],
      }),
      r.rule('casl_null_test', [r.eq({ ...r.ref('c'), path: [f] }, r.nul())], { args: [c, f] }),
      r.rule(
        'casl_null_test',
        [
          r.lit(r.call('is_array', { ...r.ref('c'), path: [f] })),
          r.lit(r.member(r.nul(), { ...r.ref('c'), path: [f] })),
        ],
        { args: [c, f] },
      ),
      // The same for a segment that is an array index `n` (or the object key `s`, its text).
      ...this.indexHelpers(),
      r.rule('casl_scalar', [r.lit(r.call('is_string', x))], { args: [x] }),
      r.rule('casl_scalar', [r.lit(r.call('is_number', x))], { args: [x] }),
      r.rule('casl_scalar', [r.lit(r.call('is_boolean', x))], { args: [x] }),
      r.rule('casl_has_field', [
        r.lit(r.call('is_string', r.ref('input', 'field'))),
        r.op('neq', r.ref('input', 'field'), r.s('')),
      ]),
      r.rule('casl_has_resource', [r.lit(r.call('is_object', r.ref('input', 'resource')))]),
      // casl_has_role(x): the principal holds role x, listed in `user.roles` or as `user.role`.
      r.rule(
        'casl_has_role',
        [
          r.lit(r.call('is_array', r.ref('input', 'user', 'roles'))),
          r.eq(r.ref('input', 'user', 'roles', r.v('_')), x),
        ],
        { args: [x] },
      ),
      r.rule('casl_has_role', [r.eq(r.ref('input', 'user', 'role'), x)], { args: [x] }),
    );
  }

  private indexHelpers(): ast.Rule[] {
    const r = this.r;
    const [v, c, s, n] = [r.v('v'), r.v('c'), r.v('s'), r.v('n')];
    const args = { args: [v, s, n] };
    const cargs = { args: [c, s, n] };
    const at = r.call('casl_index', c, s, n);
    return [
      r.rule(
        'casl_index',
        [r.lit(r.call('is_array', v)), r.assign('out', { ...r.ref('v'), path: [n] })],
        {
          ...args,
          value: r.v('out'),
        },
      ),
      r.rule(
        'casl_index',
        [r.lit(r.call('is_object', v)), r.assign('out', { ...r.ref('v'), path: [s] })],
        {
          ...args,
          value: r.v('out'),
        },
      ),
      // @ucast/js's getter on a one-segment path reads the value itself: `"10"[0]` is "1" (used
      // by comparisons, $regex and $in inside $elemMatch on strings; equality does not read it).
      r.rule('casl_get_index', [r.assign('out', at)], { ...cargs, value: r.v('out') }),
      r.rule(
        'casl_get_index',
        [
          r.lit(r.call('is_string', c)),
          r.op('lt', n, r.call('count', c)),
          r.assign('out', r.call('substring', c, n, r.n(1))),
        ],
        { ...cargs, value: r.v('out') },
      ),
      // Object.hasOwn: array and string indexes below the length, object keys.
      r.rule(
        'casl_has_index',
        [r.lit(r.call('is_array', c)), r.op('lt', n, r.call('count', c))],
        cargs,
      ),
      r.rule(
        'casl_has_index',
        [r.lit(r.call('is_string', c)), r.op('lt', n, r.call('count', c))],
        cargs,
      ),
      r.rule('casl_has_index', [r.lit(r.call('casl_has', c, s))], cargs),
      r.rule(
        'casl_null_test_index',
        [r.lit(r.call('is_array', c)), r.not(r.call('casl_has_index', c, s, n))],
        cargs,
      ),
      r.rule(
        'casl_null_test_index',
        [r.lit(r.call('is_object', c)), r.not(r.call('casl_has', c, s))],
        cargs,
      ),
      r.rule('casl_null_test_index', [r.eq(at, r.nul())], cargs),
      r.rule(
        'casl_null_test_index',
        [
          r.assign('z', at),
          r.lit(r.call('is_array', r.v('z'))),
          r.lit(r.member(r.nul(), r.v('z'))),
        ],
        cargs,
      ),
    ];
  }

  /** A call to helper `name` (or its `_index` variant for an index segment) on `target`. */
  private keyed(name: string, target: ast.Term, seg: string): ast.CallTerm {
    const r = this.r;
    return isIndex(seg)
      ? r.call(`${name === 'casl_field' ? 'casl' : name}_index`, target, r.s(seg), r.n(Number(seg)))
      : r.call(name, target, r.s(seg));
  }

  private fresh(prefix: string): string {
    this.counter++;
    return `${prefix}${String(this.counter)}`;
  }

  private ruleBody(rule: CaslRule): ast.Literal[] {
    const r = this.r;
    const body: ast.Literal[] = [];
    if (rule.role !== undefined) body.push(r.lit(r.call('casl_has_role', r.s(rule.role))));
    if (!rule.actions.includes(ANY_ACTION))
      body.push(r.lit(r.member(r.ref('input', 'action'), r.set(rule.actions.map((a) => r.s(a))))));
    if (!rule.subjects.includes(ANY_SUBJECT))
      body.push(
        r.lit(r.member(r.ref('input', 'subject'), r.set(rule.subjects.map((a) => r.s(a))))),
      );
    if (rule.fields) {
      const pattern = fieldsPattern(rule.fields);
      const inFields =
        pattern === undefined
          ? r.member(r.ref('input', 'field'), r.set(rule.fields.map((a) => r.s(a))))
          : r.call('regex.match', r.s(pattern), r.ref('input', 'field'));
      if (rule.inverted) body.push(r.lit(r.v('casl_has_field')), r.lit(inFields));
      // (casl_has_field makes sure regex.match gets a string)
      else {
        const name = this.fresh('casl_fields_');
        this.rules.push(
          r.rule(name, [r.not(r.v('casl_has_field'))]),
          r.rule(name, [r.lit(inFields)]),
        );
        body.push(r.lit(r.v(name)));
      }
    }
    if (rule.conditions) {
      for (const t of templatesOf(rule.conditions))
        body.push(r.lit(r.call('casl_scalar', this.operand(t))));
      const name = this.fresh('casl_conditions_');
      const withResource = [
        r.lit(r.v('casl_has_resource')),
        ...rule.conditions.map((c) => r.lit(r.call(this.condition(c), r.ref('input', 'resource')))),
      ];
      this.rules.push(r.rule(name, withResource));
      // Without a resource CASL checks the subject type only: conditions hold for regular
      // rules, and for inverted ones only when they are empty (`{}` matches everything).
      if (!rule.inverted || rule.conditions.length === 0)
        this.rules.push(r.rule(name, [r.not(r.v('casl_has_resource'))]));
      body.push(r.lit(r.v(name)));
    }
    return body;
  }

  private operand(o: Operand): ast.Term {
    return o.kind === 'const' ? this.r.scalar(o.value) : this.r.ref('input', 'user', ...o.path);
  }

  /**
   * Wrapped value at a path below `x`: `[value]`, undefined when the path reaches nothing.
   * `getter`: the path is read as @ucast/js's `get` reads it (comparisons, $regex, $in), which
   * on a one-segment index path also indexes a string `x`.
   */
  private pathFunction(path: readonly string[], getter = false): string {
    const r = this.r;
    const [only] = path;
    const indexesStrings = getter && path.length === 1 && only !== undefined && isIndex(only);
    const key = `path:${indexesStrings ? 'get:' : ''}${JSON.stringify(path)}`;
    const known = this.memo.get(key);
    if (known !== undefined) return known;
    const name = this.fresh('casl_path_');
    this.memo.set(key, name);
    const body: ast.Literal[] = [];
    let current: ast.Term = r.v('x');
    if (indexesStrings)
      body.push(r.assign('p0', r.call('casl_get_index', current, r.s(only), r.n(Number(only)))));
    else
      path.forEach((seg, i) => {
        const next = `p${String(i)}`;
        body.push(r.assign(next, this.keyed('casl_field', current, seg)));
        current = r.v(next);
      });
    if (indexesStrings) current = r.v('p0');
    this.rules.push(r.rule(name, body, { args: [r.v('x')], value: r.arr([current]) }));
    return name;
  }

  /** Bodies that bind `v` to the (wrapped) value of function `fn` on `x`. */
  private bind(fn: string, varName = 'v'): ast.Literal[] {
    const r = this.r;
    return [
      r.assign('w', r.call(fn, r.v('x'))),
      r.assign(varName, { ...r.ref('w'), path: [r.n(0)] }),
    ];
  }

  /**
   * Bodies testing `test` on the value at `path`: on each element when it is an array (any
   * element may match), else on the value itself; `missing` adds a body for an absent value.
   */
  private valueOrArray(
    path: readonly string[],
    test: (e: ast.Term) => ast.Literal[],
    missing = false,
  ): ast.Literal[][] {
    const r = this.r;
    const val = this.pathFunction(path, true);
    const bodies = [
      [
        ...this.bind(val),
        r.lit(r.call('is_array', r.v('v'))),
        r.someIn('e', r.v('v')),
        ...test(r.v('e')),
      ],
      [...this.bind(val), r.not(r.call('is_array', r.v('v'))), ...test(r.v('v'))],
    ];
    if (missing) bodies.push([r.not(r.call(val, r.v('x')))]);
    return bodies;
  }

  /**
   * Bodies testing the candidates holding the path's last segment (@ucast/js's field cursor):
   * each element of an array (unless the segment is an index), else the holder itself.
   */
  private cursor(
    path: readonly string[],
    test: (item: ast.Term, seg: string) => ast.Literal[],
  ): {
    bodies: ast.Literal[][];
    item: string;
  } {
    const r = this.r;
    const item = this.pathFunction(path.slice(0, -1));
    // The empty path is the value itself (@ucast's ITSELF, whose field name is `__itself__`).
    const seg = path[path.length - 1] ?? '__itself__';
    if (isIndex(seg)) return { item, bodies: [[...this.bind(item, 'i'), ...test(r.v('i'), seg)]] };
    return {
      item,
      bodies: [
        [
          ...this.bind(item, 'i'),
          r.lit(r.call('is_array', r.v('i'))),
          r.someIn('e', r.v('i')),
          ...test(r.v('e'), seg),
        ],
        [...this.bind(item, 'i'), r.not(r.call('is_array', r.v('i'))), ...test(r.v('i'), seg)],
      ],
    };
  }

  /** A function `name(x)` true when condition `c` holds on object `x`; returns its name. */
  private condition(c: Condition): string {
    const r = this.r;
    const key = `cond:${JSON.stringify(c)}`;
    const known = this.memo.get(key);
    if (known !== undefined) return known;
    const bodies = this.conditionBodies(c);
    const name = this.fresh('casl_cond_');
    this.memo.set(key, name);
    for (const body of bodies) this.rules.push(r.rule(name, body, { args: [r.v('x')] }));
    return name;
  }

  private negation(c: Condition): ast.Literal[][] {
    return [[this.r.not(this.r.call(this.condition(c), this.r.v('x')))]];
  }

  private conditionBodies(c: Condition): ast.Literal[][] {
    const r = this.r;
    switch (c.op) {
      case 'eq': {
        if (c.value.kind === 'const' && c.value.value === null)
          return this.cursor(c.path, (item, seg) => [
            r.lit(this.keyed('casl_null_test', item, seg)),
          ]).bodies;
        const value = this.operand(c.value);
        const val = this.pathFunction(c.path);
        return [
          [...this.bind(val), r.eq(r.v('v'), value)],
          [
            ...this.bind(val),
            r.lit(r.call('is_array', r.v('v'))),
            r.lit(r.member(value, r.v('v'))),
          ],
        ];
      }
      case 'ne':
        return this.negation({ ...c, op: 'eq' });
      case 'in': {
        const set = r.set(c.values.map((o) => this.operand(o)));
        return this.valueOrArray(c.path, (e) => [r.lit(r.member(e, set))]);
      }
      case 'nin':
        return this.negation({ ...c, op: 'in' });
      case 'all': {
        const val = this.pathFunction(c.path);
        return [
          [
            ...this.bind(val),
            r.lit(r.call('is_array', r.v('v'))),
            ...c.values.map((x) => r.lit(r.member(r.scalar(x), r.v('v')))),
          ],
        ];
      }
      case 'lt':
      case 'lte':
      case 'gt':
      case 'gte': {
        const gt = this.jsGreater(c.value);
        const value = r.scalar(c.value);
        const tests: Record<typeof c.op, (e: ast.Term) => ast.Literal[][]> = {
          gt: (e) => [[r.lit(r.call(gt, e))]],
          gte: (e) => [[r.eq(e, value)], [r.lit(r.call(gt, e))]],
          lt: (e) => [[r.op('neq', e, value), r.not(r.call(gt, e))]],
          lte: (e) => [[r.not(r.call(gt, e))]],
        };
        const test = this.localTest(tests[c.op]);
        return this.valueOrArray(
          c.path,
          (e) => [r.lit(r.call(test, e))],
          c.op === 'lt' || c.op === 'lte',
        );
      }
      case 'exists': {
        // On the value itself (inside $elemMatch) @ucast/js only asks whether the element is
        // defined, whatever true or false was asked: always.
        if (c.path.length === 0) return [[]];
        const has = (item: ast.Term, seg: string): ast.Literal[] =>
          c.value
            ? [r.lit(this.keyed('casl_has', item, seg))]
            : [r.not(this.keyed('casl_has', item, seg))];
        const { bodies, item } = this.cursor(c.path, has);
        return c.value ? bodies : [...bodies, [r.not(r.call(item, r.v('x')))]];
      }
      case 'size':
        if (c.path.length === 0)
          return [
            [r.lit(r.call('is_array', r.v('x'))), r.eq(r.call('count', r.v('x')), r.n(c.value))],
          ];
        return this.cursor(c.path, (item, seg) => [
          r.assign('z', this.keyed('casl_field', item, seg)),
          r.lit(r.call('is_array', r.v('z'))),
          r.eq(r.call('count', r.v('z')), r.n(c.value)),
        ]).bodies;
      case 'regex': {
        const pattern = c.flags === '' ? c.pattern : `(?${c.flags})${c.pattern}`;
        return this.valueOrArray(c.path, (e) => [
          r.lit(r.call('is_string', e)),
          r.lit(r.call('regex.match', r.s(pattern), e)),
        ]);
      }
      case 'elemMatch': {
        const val = this.pathFunction(c.path);
        const inner = c.conditions.map((sub) => this.condition(sub));
        return [
          [
            ...this.bind(val),
            r.lit(r.call('is_array', r.v('v'))),
            r.someIn('e', r.v('v')),
            ...inner.map((fn) => r.lit(r.call(fn, r.v('e')))),
          ],
        ];
      }
    }
  }

  /** A one-argument function `name(x)` holding when any of the bodies built on `x` holds. */
  private localTest(bodies: (x: ast.Term) => ast.Literal[][]): string {
    const r = this.r;
    const name = this.fresh('casl_test_');
    for (const body of bodies(r.v('x'))) this.rules.push(r.rule(name, body, { args: [r.v('x')] }));
    return name;
  }

  /**
   * JavaScript's `x > c` for a constant c and any JSON value x (coercing booleans, null and
   * numeric strings to numbers, comparing strings with strings).
   */
  private jsGreater(c: string | number): string {
    const r = this.r;
    return this.localTest((x) => {
      const bodies: ast.Literal[][] = [];
      const numeric = typeof c === 'number' ? c : Number(c);
      if (typeof c === 'string') {
        bodies.push([r.lit(r.call('is_string', x)), r.op('gt', x, r.s(c))]);
        // An object compares as its string form.
        if ('[object Object]' > c) bodies.push([r.lit(r.call('is_object', x))]);
      }
      if (Number.isFinite(numeric))
        bodies.push([r.lit(r.call('is_number', x)), r.op('gt', x, r.n(numeric))]);
      else if (numeric === -Infinity) bodies.push([r.lit(r.call('is_number', x))]);
      if (1 > numeric) bodies.push([r.eq(x, r.b(true))]);
      if (0 > numeric) bodies.push([r.eq(x, r.b(false))], [r.eq(x, r.nul())]);
      if (typeof c === 'number') {
        if (0 > c)
          bodies.push([r.lit(r.call('is_string', x)), r.eq(r.call('trim_space', x), r.s(''))]);
        bodies.push([
          r.lit(r.call('is_string', x)),
          r.assign('t', r.call('trim_space', x)),
          r.lit(r.call('regex.match', r.s(DECIMAL), r.v('t'))),
          r.op('gt', r.call('to_number', r.v('t')), r.n(c)),
        ]);
      }
      return bodies;
    });
  }
}

/** A path segment CASL reads as an array index (or the same-named object key). */
export function isIndex(seg: string): boolean {
  return /^(0|[1-9][0-9]*)$/.test(seg);
}

function templatesOf(conditions: readonly Condition[]): Operand[] {
  const out: Operand[] = [];
  for (const c of conditions) {
    if (c.op === 'eq' || c.op === 'ne') out.push(c.value);
    else if (c.op === 'in' || c.op === 'nin') out.push(...c.values);
    else if (c.op === 'elemMatch') out.push(...templatesOf(c.conditions));
  }
  return out.filter((o) => o.kind === 'template');
}

/** The Rego module deciding `casl/decision` for a validated rule set. */
export function lowerRuleSet(rules: readonly CaslRule[], file = 'rules.json'): ast.Module {
  return new Lowering(file).module(rules);
}
