import {
  CaslValidationError,
  parseRuleSet,
  rolesOf,
  type CaslIssue,
} from '../../../../policies/casl';

function issuesOf(raw: unknown): CaslIssue[] {
  try {
    parseRuleSet(raw);
  } catch (err) {
    if (err instanceof CaslValidationError) return [...err.issues];
    throw err;
  }
  throw new Error('expected the rule set to be refused');
}

describe('CASL rule set validation', () => {
  it('parses actions, subjects, fields, conditions, inverted and reason', () => {
    const source = {
      action: ['read', 'update'],
      subject: 'Post',
      fields: 'title',
      conditions: { authorId: '${user.id}', 'meta.score': { $gte: 3, $lt: 10 } },
      inverted: true,
      reason: 'nope',
    };
    const [rule] = parseRuleSet([source]);
    expect(rule).toEqual({
      source,
      index: 0,
      actions: ['read', 'update'],
      subjects: ['Post'],
      fields: ['title'],
      conditions: [
        { op: 'eq', path: ['authorId'], value: { kind: 'template', path: ['id'] } },
        { op: 'gte', path: ['meta', 'score'], value: 3 },
        { op: 'lt', path: ['meta', 'score'], value: 10 },
      ],
      inverted: true,
      reason: 'nope',
    });
  });

  it('gives a rule without subject the subject `all`', () => {
    expect(parseRuleSet([{ action: 'manage' }])[0]?.subjects).toEqual(['all']);
  });

  it('orders the rules of a role mapping: each role as written, then those for everyone', () => {
    const rules = parseRuleSet({
      roles: { editor: [{ action: 'update' }], admin: [{ action: 'manage' }, { action: 'x' }] },
      rules: [{ action: 'read' }],
    });
    expect(rules.map((r) => [r.index, r.actions[0], r.role])).toEqual([
      [0, 'update', 'editor'],
      [1, 'manage', 'admin'],
      [2, 'x', 'admin'],
      [3, 'read', undefined],
    ]);
    expect(rolesOf(rules)).toEqual(['editor', 'admin']);
  });

  it('names the role and rule of problems in a role mapping', () => {
    expect(
      issuesOf({
        rules: [{ action: 'read' }],
        roles: { editor: [{ action: 'update', conditions: { a: { $gt: [] } } }] },
      }),
    ).toEqual([
      {
        rule: 0,
        at: '/roles/editor/0/conditions/a/$gt',
        message: '$gt needs a number or a string',
      },
    ]);
    expect(issuesOf({ roles: { '1st': [] } })).toEqual([
      {
        at: '/roles/1st',
        message:
          'role name "1st" must start with a letter or _ and hold only letters, digits and _ . : -',
      },
    ]);
    expect(issuesOf({ rules: [], groups: {} })).toEqual([
      {
        at: '/groups',
        message:
          'unknown property; a rule set with roles has "rules" (for everyone) and "roles" (role name → list of rules)',
      },
    ]);
    expect(issuesOf({ roles: { a: [{ action: 'read', when: 1 }] } })).toEqual([
      {
        rule: 0,
        at: '/roles/a/0/when',
        message:
          'unknown property; a CASL rule has action, subject, fields, conditions, inverted and reason',
      },
    ]);
    expect(issuesOf('rules')).toEqual([
      {
        at: '',
        message:
          'a rule set is a list of rules, or an object with "rules" and "roles" (role name → rules)',
      },
    ]);
  });

  it('refuses a rule set that is not a list', () => {
    expect(issuesOf({ action: 'read' })).toEqual([
      {
        at: '',
        message:
          'a rule set is a list of rules (or an object with "rules" and "roles"); this looks like one rule: wrap it in [ ]',
      },
    ]);
  });

  it('names the rule and property of shape errors', () => {
    const issues = issuesOf([{ action: 'read' }, { subject: 'Post', action: [], invert: true }]);
    const unknown = issues.find((i) => i.at === '/1/invert');
    expect(unknown?.rule).toBe(1);
    expect(unknown?.message).toContain('unknown property');
    expect(issues).toContainEqual({
      rule: 1,
      at: '/1/action',
      message: 'must be a non-empty string or a non-empty list of non-empty strings',
    });
  });

  it.each([
    [{ $or: [{ a: 1 }] }, '/0/conditions/$or', 'one rule per alternative'],
    [{ a: { $foo: 1 } }, '/0/conditions/a/$foo', 'unknown operator $foo'],
    [{ a: { b: 1 } }, '/0/conditions/a/b', 'dotted path'],
    [{ a: [1, 2] }, '/0/conditions/a', 'by reference'],
    [{ a: { $in: 1 } }, '/0/conditions/a/$in', 'list of values'],
    [{ a: { $size: -1 } }, '/0/conditions/a/$size', 'non-negative integer'],
    [{ a: { $exists: 1 } }, '/0/conditions/a/$exists', 'true or false'],
    [{ a: { $gt: null } }, '/0/conditions/a/$gt', 'number or a string'],
    [{ a: { $regex: '(a)\\1' } }, '/0/conditions/a/$regex', 'RE2'],
    [{ a: { $regex: '(' } }, '/0/conditions/a/$regex', 'not a JavaScript regular expression'],
    [{ a: { $regex: 'a', $options: 'g' } }, '/0/conditions/a/$options', 'flags i, m and s'],
    [{ a: { $options: 'i' } }, '/0/conditions/a/$options', 'next to $regex'],
    [{ 'a.length': 1 }, '/0/conditions/a.length', 'built-in JavaScript property'],
    [{ 'a.01': 1 }, '/0/conditions/a.01', 'or array indexes such as 0 or 12'],
    [{ a: { $gt: '${user.age}' } }, '/0/conditions/a/$gt', 'template is allowed only'],
    [{ a: { $elemMatch: { $gt: 1, b: 2 } } }, '/0/conditions/a/$elemMatch', 'not both'],
  ])('refuses conditions %j at %s', (conditions, at, message) => {
    const issues = issuesOf([{ action: 'read', subject: 'Post', conditions }]);
    expect(issues).toHaveLength(1);
    expect(issues[0]?.rule).toBe(0);
    expect(issues[0]?.at).toBe(at);
    expect(issues[0]?.message).toContain(message);
  });

  it('reports every problem at once, in rule order', () => {
    const issues = issuesOf([
      { action: 'read', conditions: { a: { $size: 'x' } } },
      { action: 'read', conditions: { b: { $exists: 'y' } } },
    ]);
    expect(issues.map((i) => i.rule)).toEqual([0, 1]);
  });
});
