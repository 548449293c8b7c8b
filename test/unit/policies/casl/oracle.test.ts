/**
 * Property test: for random rule sets and random requests, Verdict's CASL decision equals
 * @casl/ability's, through the reference interpreter and through the WASM module. Seed:
 * CASL_SEED (printed); size: CASL_RULE_SETS × CASL_REQUESTS (interpreter) and
 * CASL_WASM_RULE_SETS × CASL_WASM_REQUESTS (WASM).
 */
import {
  createMongoAbility,
  subject as withType,
  type RawRuleOf,
  type MongoAbility,
} from '@casl/ability';
import fc from 'fast-check';
import { PolicyEngine } from '../../../../policies/engine';
import {
  CASL_ENTRYPOINT,
  buildCaslWasm,
  decisionOf,
  CaslInterpreter,
  compileRuleSet,
  planRuleSet,
  type CaslDecision,
  type CaslRequest,
} from '../../../../policies/casl';

const SEED = Number(process.env.CASL_SEED ?? Date.now() % 2_147_483_647);
const RULE_SETS = Number(process.env.CASL_RULE_SETS ?? 420);
const REQUESTS = Number(process.env.CASL_REQUESTS ?? 250);
// Each rule set costs a WASM build (~0.15–0.2 s) while a WASM evaluation costs microseconds, so
// the WASM run builds fewer rule sets and sends more requests to each (~104k checks by default).
const WASM_RULE_SETS = Number(process.env.CASL_WASM_RULE_SETS ?? 250);
const WASM_REQUESTS = Number(process.env.CASL_WASM_REQUESTS ?? 420);

const ACTIONS = ['read', 'update', 'delete'];
const TYPES = ['Post', 'Comment'];
const FIELDS = ['title', 'secret', 'meta', 'meta.a', 'meta.a.b', 'meta.b', 'x.a'];
/** Rule fields: names and CASL field patterns. */
const RULE_FIELDS = [
  'title',
  'secret',
  'meta.a',
  'meta.*',
  'meta.**',
  '*',
  '**',
  'meta.*.b',
  '*.a',
  'me*',
];
const KEYS = ['a', 'b', 'c', '0'];
const PATHS = ['a', 'b', 'c', 'a.b', 'a.c', 'b.a', 'a.b.c', 'a.0', 'a.1', 'a.0.b', 'b.a.0', '0'];
const STRINGS = ['', 'a', 'b', 'ab', 'B', 'ba', '1', '-2', ' 3 ', '10', 'é'];
const PATTERNS = ['^a', 'b$', 'a|b', '^$', '[0-9]', '^.$'];

const scalar = fc.oneof(
  fc.integer({ min: -3, max: 12 }),
  fc.constantFrom(0.5, -1.5),
  fc.constantFrom(...STRINGS),
  fc.boolean(),
  fc.constant(null),
);
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
/** Resource values: scalars, arrays of scalars or objects, nested objects over the keys a, b, c. */
const value: fc.Arbitrary<Json> = fc.letrec<{ v: Json; o: Record<string, Json> }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(scalar, { maxLength: 3 }),
    fc.array(tie('o'), { maxLength: 3 }),
    tie('o'),
  ),
  o: fc.dictionary(fc.constantFrom(...KEYS), tie('v'), { maxKeys: 3 }),
})).v;
const resource = fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 3 });

const scalarOperand = fc.oneof(
  fc.integer({ min: -3, max: 12 }),
  fc.constantFrom(...STRINGS),
  fc.boolean(),
);
/** Equality operands may be templates read from the request's principal. */
const TEMPLATES = ['${user.id}', '${user.org.name}'];
const equalityOperand = fc.oneof(
  { weight: 4, arbitrary: scalarOperand },
  { weight: 1, arbitrary: fc.constantFrom(...TEMPLATES) },
);
const user = fc.record({ id: scalarOperand, org: fc.record({ name: scalarOperand }) });
const ordered = fc.oneof(
  fc.integer({ min: -3, max: 12 }),
  fc.constantFrom(0.5),
  fc.constantFrom(...STRINGS),
);
const operator: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  scalarOperand.map((v) => ({ $eq: v })),
  fc.oneof(equalityOperand, fc.constant(null)).map((v) => ({ $eq: v })),
  fc.oneof(equalityOperand, fc.constant(null)).map((v) => ({ $ne: v })),
  fc
    .record({ op: fc.constantFrom('$lt', '$lte', '$gt', '$gte'), v: ordered })
    .map(({ op, v }) => ({ [op]: v })),
  fc.array(fc.oneof(equalityOperand, fc.constant(null)), { maxLength: 3 }).map((v) => ({ $in: v })),
  fc
    .array(fc.oneof(equalityOperand, fc.constant(null)), { maxLength: 3 })
    .map((v) => ({ $nin: v })),
  fc.array(scalarOperand, { maxLength: 2 }).map((v) => ({ $all: v })),
  fc.boolean().map((v) => ({ $exists: v })),
  fc.integer({ min: 0, max: 3 }).map((v) => ({ $size: v })),
  fc
    .record({ p: fc.constantFrom(...PATTERNS), i: fc.boolean() })
    .map(({ p, i }) => (i ? { $regex: p, $options: 'i' } : { $regex: p })),
);
const fieldConditions = (depth: number): fc.Arbitrary<Record<string, unknown>> =>
  fc.dictionary(
    fc.constantFrom(...PATHS),
    depth > 0
      ? fc.oneof(
          { weight: 4, arbitrary: operator },
          { weight: 1, arbitrary: equalityOperand },
          { weight: 1, arbitrary: fieldConditions(depth - 1).map((c) => ({ $elemMatch: c })) },
          { weight: 1, arbitrary: operator.map((o) => ({ $elemMatch: o })) },
        )
      : fc.oneof(operator, equalityOperand),
    { maxKeys: 2 },
  );

const oneOrMany = <T>(arb: fc.Arbitrary<T>, extra: T): fc.Arbitrary<T | T[]> =>
  fc.oneof(
    fc.oneof(arb, fc.constant(extra)),
    fc.uniqueArray(fc.oneof(arb, fc.constant(extra)), { minLength: 1, maxLength: 2 }),
  );
const rule = fc.record(
  {
    action: oneOrMany(fc.constantFrom(...ACTIONS), 'manage'),
    subject: oneOrMany(fc.constantFrom(...TYPES), 'all'),
    fields: fc.uniqueArray(fc.constantFrom(...RULE_FIELDS), { minLength: 1, maxLength: 2 }),
    conditions: fieldConditions(1),
    inverted: fc.boolean(),
    reason: fc.constantFrom('r1', 'r2'),
  },
  { requiredKeys: ['action'] },
);
const ruleSet = fc.array(rule, { minLength: 1, maxLength: 6 });
const request = fc.record(
  {
    action: fc.constantFrom(...ACTIONS, 'manage'),
    subject: fc.constantFrom(...TYPES),
    resource,
    field: fc.constantFrom(...FIELDS),
  },
  { requiredKeys: ['action', 'subject'] },
);

/** The rule set with every template replaced by the principal's value (what CASL users do). */
function interpolate(x: unknown, principal: { id: unknown; org: { name: unknown } }): unknown {
  if (x === '${user.id}') return principal.id;
  if (x === '${user.org.name}') return principal.org.name;
  if (Array.isArray(x)) return x.map((e) => interpolate(e, principal));
  if (typeof x === 'object' && x !== null)
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, interpolate(v, principal)]));
  return x;
}

/** @casl/ability's answer, or undefined when CASL itself throws on this input. */
function oracle(
  ability: MongoAbility,
  raw: readonly unknown[],
  req: CaslRequest,
): CaslDecision | undefined {
  const target = req.resource ? withType(req.subject, structuredClone(req.resource)) : req.subject;
  try {
    const rule = ability.relevantRuleFor(req.action, target, req.field);
    const index = rule ? raw.indexOf(rule.origin) : -1;
    return {
      allow: ability.can(req.action, target, req.field),
      reason: rule?.reason ?? null,
      rule: index < 0 ? null : index,
    };
  } catch {
    return undefined;
  }
}

/** Counts one back end's checks against CASL and keeps its disagreements. */
class Tally {
  checks = 0;
  caslErrors = 0;
  readonly disagreements: unknown[] = [];
  private readonly started = performance.now();

  constructor(private readonly backEnd: string) {}

  /** Compares one request; `decide` runs only when CASL itself answered. */
  check(
    raw: readonly unknown[],
    concrete: readonly unknown[],
    ability: MongoAbility,
    req: CaslRequest,
    decide: () => CaslDecision,
  ): void {
    const want = oracle(ability, concrete, req);
    if (!want) {
      this.caslErrors++;
      return;
    }
    this.checks++;
    const got = decide();
    if (got.allow !== want.allow || got.rule !== want.rule || got.reason !== want.reason)
      this.disagreements.push({ rules: raw, request: req, want, got });
  }

  /** Prints the seed and counts (and the first disagreements), then asserts there are none. */
  report(ruleSets: number, requests: number): void {
    const seconds = ((performance.now() - this.started) / 1000).toFixed(1);
    console.log(
      `CASL oracle (${this.backEnd}): seed ${String(SEED)}, ${String(ruleSets)} rule sets × ` +
        `${String(requests)} requests, ${String(this.checks)} request checks, ` +
        `${String(this.disagreements.length)} disagreements, ` +
        `${String(this.caslErrors)} requests CASL itself threw on, ${seconds} s`,
    );
    for (const d of this.disagreements.slice(0, 3)) console.log(JSON.stringify(d));
    expect(this.disagreements.slice(0, 3)).toEqual([]);
    expect(this.checks).toBeGreaterThan(0);
  }
}

describe('CASL decisions equal @casl/ability', () => {
  it('on random rule sets and requests (interpreter)', () => {
    const tally = new Tally('interpreter');
    fc.assert(
      fc.property(
        ruleSet,
        user,
        fc.array(request, { minLength: REQUESTS, maxLength: REQUESTS }),
        (raw, principal, requests) => {
          const concrete = interpolate(raw, principal) as RawRuleOf<MongoAbility>[];
          const ability = createMongoAbility(concrete);
          const verdict = new CaslInterpreter(planRuleSet(compileRuleSet(raw)));
          for (const req of requests)
            tally.check(raw, concrete, ability, req, () =>
              verdict.decide({ ...req, user: principal }),
            );
        },
      ),
      { seed: SEED, numRuns: RULE_SETS },
    );
    tally.report(RULE_SETS, REQUESTS);
  });

  it('on random rule sets and requests (WASM)', async () => {
    const tally = new Tally('WASM');
    await fc.assert(
      fc.asyncProperty(
        ruleSet,
        user,
        fc.array(request, { minLength: WASM_REQUESTS, maxLength: WASM_REQUESTS }),
        async (raw, principal, requests) => {
          const concrete = interpolate(raw, principal) as RawRuleOf<MongoAbility>[];
          const ability = createMongoAbility(concrete);
          const built = await buildCaslWasm(compileRuleSet(raw));
          if (!built.wasm) throw new Error(JSON.stringify(built.diagnostics));
          const engine = await PolicyEngine.load(built.wasm);
          for (const req of requests)
            tally.check(raw, concrete, ability, req, () =>
              decisionOf(engine.evaluate(CASL_ENTRYPOINT, { ...req, user: principal })),
            );
        },
      ),
      { seed: SEED, numRuns: WASM_RULE_SETS },
    );
    tally.report(WASM_RULE_SETS, WASM_REQUESTS);
  }, 600_000); // generous: one WASM build per rule set; large CASL_WASM_RULE_SETS runs take minutes
});
