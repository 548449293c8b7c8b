/**
 * The documents app in examples/casl: every case's expected decision must come out of Verdict's
 * interpreter, Verdict's WASM, and @casl/ability given the rules with the principal filled in.
 */
import { createMongoAbility, subject as withType } from '@casl/ability';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { PolicyEngine } from '../../../../policies/engine';
import {
  CASL_ENTRYPOINT,
  CaslInterpreter,
  buildCaslWasm,
  compileRuleSet,
  decisionOf,
  parseRuleSet,
  planRuleSet,
  rulesForUser,
  type CaslDecision,
  type CaslRequest,
} from '../../../../policies/casl';

const dir = path.resolve(__dirname, '..', '..', '..', '..', 'examples', 'casl');
const rules: unknown = JSON.parse(readFileSync(path.join(dir, 'rules.json'), 'utf8'));
const cases = parse(readFileSync(path.join(dir, 'cases.yaml'), 'utf8')) as {
  name: string;
  input: CaslRequest;
  want: CaslDecision;
}[];

describe('examples/casl (documents app)', () => {
  const program = compileRuleSet(rules, 'examples/casl/rules.json');
  const interpreter = new CaslInterpreter(planRuleSet(program));
  let engine: PolicyEngine;

  beforeAll(async () => {
    const built = await buildCaslWasm(program);
    if (!built.wasm) throw new Error(JSON.stringify(built.diagnostics));
    engine = await PolicyEngine.load(built.wasm);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(interpreter.decide(c.input)).toEqual(c.want);
    expect(decisionOf(engine.evaluate(CASL_ENTRYPOINT, c.input))).toEqual(c.want);

    // What a CASL front end builds: the user's roles' rules, templates filled in.
    const userRules = rulesForUser(parseRuleSet(rules), c.input.user);
    const concrete = userRules.map((r) => r.rule);
    const ability = createMongoAbility(concrete);
    const target = c.input.resource
      ? withType(c.input.subject, { ...c.input.resource })
      : c.input.subject;
    const rule = ability.relevantRuleFor(c.input.action, target, c.input.field);
    expect({
      allow: ability.can(c.input.action, target, c.input.field),
      reason: rule?.reason ?? null,
      rule: rule ? (userRules[concrete.indexOf(rule.origin)]?.index ?? null) : null,
    }).toEqual(c.want);
  });

  it('leaves a rule whose template the principal lacks unapplied', () => {
    const decision = interpreter.decide({
      user: {},
      action: 'delete',
      subject: 'Document',
      resource: { owner: { id: 'u1' } },
    });
    expect(decision).toEqual({ allow: false, reason: null, rule: null });
  });
});
