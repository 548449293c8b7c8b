/**
 * Role mappings and packed rules: for random principals (ids, roles given as a list or as one
 * role) and random requests, the decision Verdict compiles from a rule set with roles equals
 * the decision of a CASL ability built by a front end from the user's packed rules
 * (`unpackRules(packedRulesForUser(...))`), including which rule decided and its reason.
 */
import { createMongoAbility, subject as withType } from '@casl/ability';
import { unpackRules } from '@casl/ability/extra';
import fc from 'fast-check';
import { PolicyEngine } from '../../../../policies/engine';
import {
  CASL_ENTRYPOINT,
  CaslInterpreter,
  buildCaslWasm,
  compileRuleSet,
  decisionOf,
  holdsRole,
  packedRulesForUser,
  parseRuleSet,
  planRuleSet,
  rulesForUser,
  type CaslDecision,
  type RawRule,
  type CaslRequest,
} from '../../../../policies/casl';

const SEED = Number(process.env.CASL_SEED ?? Date.now() % 2_147_483_647);

const ruleSet = {
  roles: {
    editor: [
      {
        action: 'update',
        subject: 'Doc',
        fields: ['title', 'body'],
        conditions: { team: '${user.team}' },
      },
    ],
    admin: [{ action: 'manage', subject: 'all' }],
    'billing:viewer': [
      { action: 'read', subject: 'Invoice', conditions: { org: '${user.org.id}' } },
    ],
  },
  rules: [
    { action: 'read', subject: 'Doc', conditions: { public: true } },
    { action: 'manage', subject: 'Doc', conditions: { owner: '${user.id}' } },
    {
      action: ['update', 'delete'],
      subject: 'Doc',
      inverted: true,
      conditions: { locked: true },
      reason: 'locked',
    },
  ],
};

const ROLES = ['editor', 'admin', 'billing:viewer', 'guest'];
const VALUES = ['u1', 'u2', 't1', 't2', 'o1', 7];

const user = fc.record(
  {
    id: fc.constantFrom(...VALUES),
    team: fc.constantFrom(...VALUES, null),
    org: fc.option(fc.record({ id: fc.constantFrom(...VALUES) }, { requiredKeys: [] }), {
      nil: undefined,
    }),
    roles: fc.subarray(ROLES),
    role: fc.constantFrom(...ROLES),
  },
  { requiredKeys: [] },
);

const request = fc.record({
  user,
  action: fc.constantFrom('read', 'update', 'delete', 'manage'),
  subject: fc.constantFrom('Doc', 'Invoice', 'all'),
  resource: fc.option(
    fc.record(
      {
        public: fc.boolean(),
        owner: fc.constantFrom(...VALUES),
        team: fc.constantFrom(...VALUES),
        org: fc.constantFrom(...VALUES),
        locked: fc.boolean(),
      },
      { requiredKeys: [] },
    ),
    { nil: undefined },
  ),
  field: fc.option(fc.constantFrom('title', 'body', 'owner'), { nil: undefined }),
});

/** What a front end decides with the user's packed rules, with the rule set's indexes. */
function frontEnd(rules: ReturnType<typeof parseRuleSet>, r: CaslRequest): CaslDecision {
  const userRules = rulesForUser(rules, r.user);
  const unpacked = unpackRules<RawRule>(packedRulesForUser(rules, r.user));
  const ability = createMongoAbility(unpacked);
  const target = r.resource ? withType(r.subject, { ...r.resource }) : r.subject;
  const rule = ability.relevantRuleFor(r.action, target, r.field);
  const at = rule ? unpacked.indexOf(rule.origin) : -1;
  return {
    allow: ability.can(r.action, target, r.field),
    reason: rule?.reason ?? null,
    rule: at >= 0 ? (userRules[at]?.index ?? null) : null,
  };
}

function strip(r: CaslRequest): CaslRequest {
  return JSON.parse(JSON.stringify(r)) as CaslRequest;
}

describe('CASL role mapping and packed rules', () => {
  const rules = parseRuleSet(ruleSet);
  const program = compileRuleSet(ruleSet);
  const interpreter = new CaslInterpreter(planRuleSet(program));
  let engine: PolicyEngine;

  beforeAll(async () => {
    const built = await buildCaslWasm(program);
    if (!built.wasm) throw new Error(JSON.stringify(built.diagnostics));
    engine = await PolicyEngine.load(built.wasm);
  });

  it('decides as a front end with the packed rules does (interpreter and WASM)', () => {
    let checks = 0;
    process.stdout.write(`CASL packed-rules property test: seed ${String(SEED)}\n`);
    fc.assert(
      fc.property(request, (raw) => {
        const r = strip(raw);
        const want = frontEnd(rules, r);
        expect(interpreter.decide(r)).toEqual(want);
        expect(decisionOf(engine.evaluate(CASL_ENTRYPOINT, r))).toEqual(want);
        checks++;
      }),
      { seed: SEED, numRuns: 3000 },
    );
    expect(checks).toBe(3000);
  });

  it('gives each user the rules of their roles, templates filled in', () => {
    expect(packedRulesForUser(rules, { id: 'u1', team: 't1', roles: ['editor'] })).toEqual([
      ['update', 'Doc', { team: 't1' }, 0, 'title,body'],
      ['read', 'Doc', { public: true }],
      ['manage', 'Doc', { owner: 'u1' }],
      ['update,delete', 'Doc', { locked: true }, 1, 0, 'locked'],
    ]);
    // The editor rule needs user.team; without it the rule is left out, as the decision does.
    expect(rulesForUser(rules, { id: 'u1', role: 'editor' }).map((r) => r.index)).toEqual([
      3, 4, 5,
    ]);
    expect(
      rulesForUser(rules, { id: 'u1', role: 'billing:viewer', org: { id: 'o1' } }).map(
        (r) => r.rule,
      )[0],
    ).toEqual({ action: 'read', subject: 'Invoice', conditions: { org: 'o1' } });
    // A rule whose template reads a missing principal leaves the rule out too.
    expect(rulesForUser(rules, null).map((r) => r.index)).toEqual([3, 5]);
  });

  it('reads roles from user.roles (a list) or user.role', () => {
    expect(holdsRole({ roles: ['a', 'b'] }, 'b')).toBe(true);
    expect(holdsRole({ role: 'b' }, 'b')).toBe(true);
    expect(holdsRole({ roles: 'b' }, 'b')).toBe(false);
    expect(holdsRole('b', 'b')).toBe(false);
    expect(holdsRole(null, 'b')).toBe(false);
  });
});
