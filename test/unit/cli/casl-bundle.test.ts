/**
 * CASL bundle folders through the CLI: `verdict build` (a bundle with engine casl whose
 * policy.wasm the SDK runs), `verdict test` (cases.yaml, coverage by deciding rule),
 * `verdict eval` (the lowered package `casl`), and the errors each gives on bad input.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { capture, fixtureFolder } from '../../helpers/cli-io';
import { runBuild } from '../../../cli/build';
import { runCaslRules } from '../../../cli/casl';
import { runEval } from '../../../cli/eval';
import { runTestCommand } from '../../../cli/test';
import { loadSources, SourceLoadError } from '../../../policies/bundle/sources';
import { readTarGz } from '../../../policies/bundle/tar';
import { decisionOf } from '../../../policies/casl';
import { PolicyEngine } from '../../../policies/engine';

const RULES = [
  { action: 'read', subject: 'Doc', conditions: { public: true } },
  { action: 'manage', subject: 'Doc', conditions: { owner: '${user.id}' } },
  {
    action: 'delete',
    subject: 'Doc',
    inverted: true,
    conditions: { locked: true },
    reason: 'locked',
  },
];

const CASES = `
- name: anyone reads a public doc
  input: { user: { id: u1 }, action: read, subject: Doc, resource: { public: true } }
  want: { allow: true, rule: 0 }
- name: the owner deletes
  input: { user: { id: u1 }, action: delete, subject: Doc, resource: { owner: u1 } }
  allow: true
`;

const fixtures = fixtureFolder('casl');
const write = fixtures.write;

describe('loading CASL bundle folders', () => {
  it('takes a folder given directly with rules.json and no Rego as a CASL bundle', () => {
    write('docs/rules.json', JSON.stringify(RULES));
    write('docs/cases.yaml', CASES);
    write('docs/more/extra.cases.yaml', '[]');
    const loaded = loadSources([path.join(fixtures.dir(), 'docs')]);
    expect(loaded.modules).toEqual([]);
    expect(loaded.casl).toHaveLength(1);
    expect(loaded.casl[0]?.rules.file).toBe(path.join(fixtures.dir(), 'docs/rules.json'));
    expect(loaded.casl[0]?.cases.map((c) => path.basename(c.file))).toEqual([
      'cases.yaml',
      'extra.cases.yaml',
    ]);
  });

  it('finds CASL bundles below a folder by their manifest, and reads the rest as usual', () => {
    write('all/app/policy.rego', 'package app\n\nallow := true\n');
    write('all/app/data.json', '{"x": 1}');
    write('all/docs/.manifest', '{"engine": "casl"}');
    write('all/docs/rules.yaml', '- action: read\n  subject: Doc\n');
    // Without a manifest saying casl, a rules.json below the folder given is data.
    write('all/other/rules.json', '{"y": 2}');
    const loaded = loadSources([path.join(fixtures.dir(), 'all')]);
    expect(loaded.modules.map((m) => path.basename(m.file))).toEqual(['policy.rego']);
    expect(loaded.casl.map((c) => path.basename(c.rules.file))).toEqual(['rules.yaml']);
    expect(loaded.data.get('other')).toBeDefined();
  });

  it('refuses a CASL folder with stray files, two rule set files, or none', () => {
    write('a/.manifest', '{"engine": "casl"}');
    write('a/rules.json', '[]');
    write('a/notes.json', '{}');
    expect(() => loadSources([path.join(fixtures.dir(), 'a')])).toThrow(
      /notes\.json: a CASL bundle holds its rule set \(rules\.json\) and case files/,
    );
    write('b/rules.json', '[]');
    write('b/rules.yaml', '[]');
    expect(() => loadSources([path.join(fixtures.dir(), 'b')])).toThrow(
      /holds rules\.json and rules\.yaml; keep one rule set file/,
    );
    write('c/.manifest', '{"engine": "casl"}');
    expect(() => loadSources([path.join(fixtures.dir(), 'c')])).toThrow(SourceLoadError);
    expect(() => loadSources([path.join(fixtures.dir(), 'c')])).toThrow(
      /needs its rule set in rules\.json/,
    );
  });
});

describe('verdict build on a CASL folder', () => {
  it('writes a bundle with engine casl whose policy.wasm decides as the rules say', async () => {
    write('docs/.manifest', JSON.stringify({ name: 'docs', version: '1.2.0', engine: 'casl' }));
    write('docs/rules.json', JSON.stringify(RULES));
    write('docs/cases.yaml', CASES);
    const output = path.join(fixtures.dir(), 'docs.tar.gz');
    const c = capture();
    expect(
      await runBuild([path.join(fixtures.dir(), 'docs')], { output, entrypoint: [] }, c.io),
    ).toBe(0);
    expect(c.err()).toContain('entrypoints casl/decision');
    const files = new Map(readTarGz(fs.readFileSync(output)).map((e) => [e.path, e.data]));
    expect([...files.keys()].sort()).toEqual([
      '.manifest',
      'data.json',
      'policy.wasm',
      'rules.json',
    ]);
    const manifest = JSON.parse(Buffer.from(files.get('.manifest') ?? []).toString()) as Record<
      string,
      unknown
    >;
    expect(manifest).toMatchObject({
      name: 'docs',
      version: '1.2.0',
      engine: 'casl',
      roots: ['casl'],
      entrypoints: ['casl/decision'],
    });
    const engine = await PolicyEngine.load(files.get('policy.wasm') ?? new Uint8Array());
    const decide = (input: unknown) => decisionOf(engine.evaluate('casl/decision', input));
    expect(
      decide({ user: { id: 'u1' }, action: 'delete', subject: 'Doc', resource: { owner: 'u1' } }),
    ).toEqual({ allow: true, reason: null, rule: 1 });
    expect(
      decide({
        user: { id: 'u1' },
        action: 'delete',
        subject: 'Doc',
        resource: { owner: 'u1', locked: true },
      }),
    ).toEqual({ allow: false, reason: 'locked', rule: 2 });

    // Same sources, same revision.
    const again = path.join(fixtures.dir(), 'again.tar.gz');
    expect(
      await runBuild([path.join(fixtures.dir(), 'docs')], { output: again, entrypoint: [] }, c.io),
    ).toBe(0);
    expect(fs.readFileSync(again)).toEqual(fs.readFileSync(output));
  });

  it('points at the rule and field of an invalid rule set, and writes nothing', async () => {
    write(
      'bad/rules.yaml',
      '- action: read\n  subject: Doc\n  conditions:\n    age: { $gt: [1] }\n',
    );
    const output = path.join(fixtures.dir(), 'bad.tar.gz');
    const c = capture();
    expect(
      await runBuild([path.join(fixtures.dir(), 'bad')], { output, entrypoint: [] }, c.io),
    ).toBe(1);
    expect(c.err()).toBe(
      `${path.join(fixtures.dir(), 'bad/rules.yaml')}:4:17: casl_rule_error: rule 0: /0/conditions/age/$gt: $gt needs a number or a string\n`,
    );
    expect(fs.existsSync(output)).toBe(false);
  });

  it('refuses manifests and flags that do not fit a CASL bundle', async () => {
    write('m/rules.json', JSON.stringify(RULES));
    const output = path.join(fixtures.dir(), 'm.tar.gz');
    const build = async (manifest: unknown, entrypoint: string[] = []) => {
      write('m/.manifest', JSON.stringify(manifest));
      const c = capture();
      const code = await runBuild([path.join(fixtures.dir(), 'm')], { output, entrypoint }, c.io);
      return { code, err: c.err() };
    };
    expect(await build({ engine: 'casl', entrypoints: ['casl/allow'] })).toEqual({
      code: 1,
      err: 'rego_compile_error: a CASL bundle has the one entrypoint casl/decision; remove casl/allow from the manifest\n',
    });
    expect(await build({ engine: 'casl', roots: ['docs'] })).toEqual({
      code: 1,
      err: 'rego_compile_error: a CASL bundle\'s roots are ["casl"]; remove "roots" from the manifest\n',
    });
    expect(await build({ engine: 'casl' }, ['rbac/allow'])).toEqual({
      code: 1,
      err: 'verdict build: a CASL bundle has the one entrypoint casl/decision; drop -e\n',
    });
    expect(fs.existsSync(output)).toBe(false);
  });

  it('refuses to mix Rego and a CASL rule set in one bundle', async () => {
    write('mix/app/policy.rego', 'package app\n\nallow := true\n');
    write('mix/docs/.manifest', '{"engine": "casl"}');
    write('mix/docs/rules.json', JSON.stringify(RULES));
    const c = capture();
    const code = await runBuild(
      [path.join(fixtures.dir(), 'mix')],
      { output: path.join(fixtures.dir(), 'x.tar.gz'), entrypoint: ['app/allow'] },
      c.io,
    );
    expect(code).toBe(1);
    expect(c.err()).toContain('a bundle is either Rego or one CASL rule set');
  });
});

describe('verdict test on CASL cases', () => {
  it('runs the cases through WASM and the interpreter, with coverage by deciding rule', async () => {
    write('docs/rules.json', JSON.stringify(RULES, null, 2));
    write('docs/cases.yaml', CASES);
    for (const engine of ['wasm', 'interp']) {
      const c = capture();
      const code = await runTestCommand(
        [path.join(fixtures.dir(), 'docs')],
        { engine, coverage: true, verbose: true },
        c.io,
      );
      expect(code).toBe(0);
      expect(c.out()).toContain('PASS');
      expect(c.out()).toContain('cases.yaml:2:3: anyone reads a public doc');
      // Rule 2 (the inverted one) decided no case: it is named with its line.
      expect(c.out()).toContain('rules 2/3');
      expect(c.out()).toMatch(/not covered: .*rules\.json:16: rule 2/);
      expect(c.out()).toContain(`2 passed, 0 failed (engine: ${engine})`);
    }
    const c = capture();
    expect(
      await runTestCommand(
        [path.join(fixtures.dir(), 'docs')],
        { threshold: '90', quiet: true },
        c.io,
      ),
    ).toBe(1);
  });

  it('reports a failing case with both decisions, and a malformed request as an error', async () => {
    write('docs/rules.json', JSON.stringify(RULES));
    write(
      'docs/cases.yaml',
      `- name: 'case: wrong expectation'
  input: { user: { id: u1 }, action: read, subject: Doc, resource: { public: false } }
  want: { allow: true }
- name: 'case: not a request'
  input: { action: read }
  allow: false
- name: 'other: skipped by --run'
  input: { action: read, subject: Doc }
  allow: true
`,
    );
    const c = capture();
    const code = await runTestCommand(
      [path.join(fixtures.dir(), 'docs')],
      { format: 'json', run: 'case:' },
      c.io,
    );
    expect(code).toBe(1);
    const report = JSON.parse(c.out()) as {
      failed: number;
      results: { name: string; status: string; detail?: string }[];
    };
    expect(report.results.map((r) => [r.name, r.status, r.detail])).toEqual([
      [
        'case: wrong expectation',
        'fail',
        'want {"allow":true}, got {"allow":false,"reason":null,"rule":null}',
      ],
      [
        'case: not a request',
        'error',
        "input is not a CASL request: /: must have required property 'subject'",
      ],
    ]);
  });

  it('names the line of a role rule no case decided', async () => {
    write(
      'docs/rules.json',
      JSON.stringify(
        {
          roles: { admin: [{ action: 'manage', subject: 'all' }] },
          rules: [{ action: 'read', subject: 'Doc', conditions: { owner: '${user.id}' } }],
        },
        null,
        2,
      ),
    );
    write(
      'docs/cases.yaml',
      `- name: the owner reads
  input: { user: { id: u1 }, action: read, subject: Doc, resource: { owner: u1 } }
  want: { allow: true, rule: 1 }
`,
    );
    const c = capture();
    const code = await runTestCommand(
      [path.join(fixtures.dir(), 'docs')],
      { engine: 'interp', coverage: true },
      c.io,
    );
    expect(code).toBe(0);
    // Rule 0 is the admin role's rule, on line 4 of rules.json.
    expect(c.out()).toMatch(/rules\.json: rules 1\/2, lines 1\/2 \(50\.0%\)\n/);
    expect(c.out()).toMatch(/not covered: .*rules\.json:4: rule 0\n/);
  });

  it('reports an invalid rule set instead of running its cases', async () => {
    write('docs/rules.json', '[{"action": []}]');
    write('docs/cases.yaml', CASES);
    const c = capture();
    expect(await runTestCommand([path.join(fixtures.dir(), 'docs')], {}, c.io)).toBe(1);
    expect(c.err()).toMatch(/^\S*rules\.json:1:13: casl_rule_error: rule 0: \/0\/action: .*\n$/);
    expect(c.out()).toBe('');
  });

  it('finds no tests when --run matches no case', async () => {
    write('docs/rules.json', JSON.stringify(RULES));
    write('docs/cases.yaml', CASES);
    const c = capture();
    expect(
      await runTestCommand([path.join(fixtures.dir(), 'docs')], { run: 'nothing like it' }, c.io),
    ).toBe(1);
    expect(c.out()).toBe('no tests found (Rego rules named test_*, CASL cases in cases.yaml)\n');
  });

  it('refuses malformed case files with their line', async () => {
    write('docs/rules.json', JSON.stringify(RULES));
    const cases = path.join(fixtures.dir(), 'docs/cases.yaml');
    const run = async (text: string) => {
      fs.writeFileSync(cases, text);
      const c = capture();
      const code = await runTestCommand([path.join(fixtures.dir(), 'docs')], {}, c.io);
      return { code, err: c.err() };
    };
    expect(await run('- name: x\n  input: {}\n  want: { allow: true }\n  allow: true\n')).toEqual({
      code: 1,
      err: `${cases}:1:3: casl_rule_error: case file: a case needs either want: { allow, reason, rule } or allow: true|false (not both)\n`,
    });
    expect(
      await run('- name: x\n  input: {}\n- name: y\n  input: {}\n  expect: 1\n'),
    ).toMatchObject({
      code: 1,
      err: expect.stringContaining(
        `${cases}:1:3: casl_rule_error: case file: a case needs either`,
      ) as unknown,
    });
    expect(
      (
        await run(
          '- name: x\n  input: {}\n  allow: true\n- name: y\n  input: {}\n  allow: true\n  expect: 1\n',
        )
      ).err,
    ).toBe(
      `${cases}:4:3: casl_rule_error: case file: unknown property expect; a case has name, input and want (or allow)\n`,
    );
    expect((await run('name: x\n')).err).toBe(
      `${cases}:1:1: casl_rule_error: case file: a case file is a list of cases\n`,
    );
    expect((await run('- name: [\n')).err).toMatch(
      /cases\.yaml:\d+:\d+: casl_rule_error: not a valid case file/,
    );
    expect(
      (await run('- name: x\n  input: {}\n  allow: true\n- name: ""\n  input: {}\n  allow: true\n'))
        .err,
    ).toBe(
      `${cases}:4:3: casl_rule_error: case file: /1/name must NOT have fewer than 1 characters\n`,
    );
    // An empty case file holds no cases.
    const empty = await run('');
    expect(empty.code).toBe(1);
  });
});

describe('verdict eval on a CASL folder', () => {
  it('evaluates data.casl.decision on the input', () => {
    write('docs/rules.json', JSON.stringify(RULES));
    const input = write(
      'input.json',
      JSON.stringify({
        user: { id: 'u1' },
        action: 'delete',
        subject: 'Doc',
        resource: { owner: 'u1' },
      }),
    );
    const c = capture();
    expect(
      runEval(
        'data.casl.decision.rule',
        { data: [path.join(fixtures.dir(), 'docs')], input },
        c.io,
      ),
    ).toBe(0);
    expect(c.out()).toBe('1\n');
  });

  it('reports an invalid rule set at its position, and refuses two CASL bundles', () => {
    write('bad/rules.json', '[{"action": "read", "subject": 3}]');
    const c = capture();
    expect(runEval('data.casl.decision', { data: [path.join(fixtures.dir(), 'bad')] }, c.io)).toBe(
      1,
    );
    expect(c.err()).toContain('rules.json:1:32: casl_rule_error: rule 0: /0/subject:');
    write('one/rules.json', JSON.stringify(RULES));
    write('two/rules.json', JSON.stringify(RULES));
    const d = capture();
    expect(
      runEval(
        'data.casl.decision',
        { data: [path.join(fixtures.dir(), 'one'), path.join(fixtures.dir(), 'two')] },
        d.io,
      ),
    ).toBe(1);
    expect(d.err()).toContain('are CASL bundles; evaluate one at a time');
  });
});

describe('verdict casl rules', () => {
  const ROLE_SET = {
    roles: { admin: [{ action: 'manage', subject: 'all' }] },
    rules: [{ action: 'read', subject: 'Doc', conditions: { owner: '${user.id}' } }],
  };

  it('prints the rules a user gets, raw or packed, from a folder or a built bundle', async () => {
    write('docs/rules.json', JSON.stringify(ROLE_SET));
    const c = capture();
    expect(
      runCaslRules(
        path.join(fixtures.dir(), 'docs'),
        { user: '{"id": "u1", "roles": ["admin"]}' },
        c.io,
      ),
    ).toBe(0);
    expect(JSON.parse(c.out())).toEqual([
      { action: 'manage', subject: 'all' },
      { action: 'read', subject: 'Doc', conditions: { owner: 'u1' } },
    ]);
    const output = path.join(fixtures.dir(), 'docs.tar.gz');
    expect(
      await runBuild([path.join(fixtures.dir(), 'docs')], { output, entrypoint: [] }, capture().io),
    ).toBe(0);
    write('alice.yaml', 'id: u2\n');
    const p = capture();
    expect(
      runCaslRules(
        output,
        { user: `@${path.join(fixtures.dir(), 'alice.yaml')}`, packed: true },
        p.io,
      ),
    ).toBe(0);
    expect(JSON.parse(p.out())).toEqual([['read', 'Doc', { owner: 'u2' }]]);
  });

  it('gives one-line errors for what is not a CASL bundle or not a principal', () => {
    write('docs/rules.json', JSON.stringify(ROLE_SET));
    write('app/policy.rego', 'package app\n');
    write('junk.tar.gz', 'not a tarball');
    const cases: [string, string, RegExp][] = [
      [path.join(fixtures.dir(), 'docs'), '[1]', /--user: the principal is an object/],
      [path.join(fixtures.dir(), 'docs'), '{', /--user: not JSON/],
      [path.join(fixtures.dir(), 'docs'), '@/nonexistent/user.json', /--user: cannot read/],
      [path.join(fixtures.dir(), 'app'), '{}', /give one CASL bundle/],
      [path.join(fixtures.dir(), 'junk.tar.gz'), '{}', /junk\.tar\.gz: /],
      [path.join(fixtures.dir(), 'missing'), '{}', /no such file or directory/],
    ];
    for (const [target, user, message] of cases) {
      const c = capture();
      expect(runCaslRules(target, { user }, c.io)).toBe(1);
      expect(c.err()).toMatch(message);
      expect(c.err().split('\n')).toHaveLength(2);
    }
  });

  it('reports an invalid rule set with its position', () => {
    write('bad/rules.json', '[{"action": []}]');
    const c = capture();
    expect(runCaslRules(path.join(fixtures.dir(), 'bad'), { user: '{}' }, c.io)).toBe(1);
    expect(c.err()).toContain('rules.json:1:13: casl_rule_error: rule 0: /0/action:');
  });
});
