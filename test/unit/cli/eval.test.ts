import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  formatResults,
  readsDocument,
  isSingleExpression,
  prettyJSON,
  runEval,
} from '../../../cli/eval';
import { loadSources, readDocument } from '../../../policies/bundle/sources';
import { ObjectValue, SetValue, type Value } from '../../../policies/ir/value';
import type { Bindings } from '../../../policies/query';

const REPO = path.resolve(__dirname, '..', '..', '..');

let dir: string;

function write(rel: string, text: string): string {
  const file = path.join(dir, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

function capture(): {
  io: { stdout: (t: string) => void; stderr: (t: string) => void };
  out: () => string;
  err: () => string;
} {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: (t) => {
        out += t;
      },
      stderr: (t) => {
        err += t;
      },
    },
    out: () => out,
    err: () => err,
  };
}

const row = (entries: Record<string, Value>): Bindings => new Map(Object.entries(entries));

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-eval-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('loadSources', () => {
  it('reads .rego files and mounts data files at their folder path, as opa eval -d does', () => {
    write('policies/rbac.rego', 'package rbac\n');
    write('policies/rbac/roles/data.json', '{"admin": ["alice"]}');
    write('policies/rbac/roles/extra.yaml', 'viewer: [bob]\n');
    write('policies/top.json', '{"limits": {"max": 12345678901234567890}}');
    write('policies/.hidden/data.json', '{"secret": true}');
    write('policies/notes.txt', 'ignored');
    const { modules, data } = loadSources([path.join(dir, 'policies')]);
    expect(modules.map((m) => path.relative(dir, m.file))).toEqual([
      path.join('policies', 'rbac.rego'),
    ]);
    expect(prettyJSON(data)).toBe(
      prettyJSON(
        ObjectValue.fromRecord({
          limits: ObjectValue.fromRecord({ max: 12345678901234567890n }),
          rbac: ObjectValue.fromRecord({
            roles: ObjectValue.fromRecord({ admin: ['alice'], viewer: ['bob'] }),
          }),
        }),
      ),
    );
  });

  it('mounts a data file given directly at the root, or under a prefix', () => {
    const file = write('people.json', '{"alice": 1}');
    expect(prettyJSON(loadSources([file]).data)).toBe('{\n  "alice": 1\n}');
    const { data } = loadSources([`users.all:${file}`]);
    expect(prettyJSON(data)).toBe('{\n  "users": {\n    "all": {\n      "alice": 1\n    }\n  }\n}');
  });

  it('refuses data that clashes, data at the root that is not an object, and missing paths', () => {
    const a = write('a.json', '{"x": {"y": 1}}');
    const b = write('b.json', '{"x": {"y": 2}}');
    expect(() => loadSources([a, b])).toThrow(
      `${b}: data.x.y is already defined by data loaded before`,
    );
    const list = write('list.json', '[1, 2]');
    expect(() => loadSources([list])).toThrow(/data at the root must be an object, not array/);
    expect(() => loadSources([path.join(dir, 'missing')])).toThrow(
      /missing: no such file or directory/,
    );
  });

  it('reports malformed data with its position', () => {
    const bad = write('bad.json', '{\n  "a": }');
    expect(() => readDocument(bad)).toThrow(`${bad}:2:8: invalid JSON`);
    const badYaml = write('bad.yaml', 'a: [1, 2\n');
    expect(() => readDocument(badYaml)).toThrow(/bad\.yaml:\d+:\d+: invalid YAML/);
  });
});

describe('isSingleExpression', () => {
  it.each([
    ['data.rbac.allow', true],
    ['count(data.x) > 1', true],
    ['data.p == "a=b"', true],
    ['x != 1', true],
    ['data.p with input as {"a": 1}', true],
    ['x := data.p', false],
    ['x = data.p', false],
    ['data.p; data.q', false],
    ['data.p\ndata.q', false],
    ['some x in data.xs', false],
    ['not data.p', false],
  ])('%s → %s', (query, single) => {
    expect(isSingleExpression(query)).toBe(single);
  });
});

describe('formatResults', () => {
  const V = '__verdict_eval_value__';

  it('prints the value of a one-expression query, and undefined when it is false or absent', () => {
    expect(formatResults([row({ [V]: new SetValue(['b', 'a']) })], true)).toBe(
      '[\n  "a",\n  "b"\n]',
    );
    expect(formatResults([row({ [V]: false })], true)).toBe('undefined');
    expect(formatResults([row({ [V]: false })], true, true)).toBe('false');
    expect(readsDocument('data.rbac.allow')).toBe(true);
    expect(readsDocument('1 > 2')).toBe(false);
    expect(formatResults([], true)).toBe('undefined');
  });

  it('prints bindings for queries with variables', () => {
    expect(formatResults([row({ x: 1 }), row({ x: 2 })], false)).toBe(
      '[\n  {\n    "x": 1\n  },\n  {\n    "x": 2\n  }\n]',
    );
    expect(formatResults([row({ [V]: 'a', i: 0 })], true)).toBe('[\n  {\n    "i": 0\n  }\n]');
    expect(formatResults([row({})], false)).toBe('true');
    expect(formatResults([], false)).toBe('undefined');
  });
});

describe('runEval input errors', () => {
  it('prints the problem and exits 1 without evaluating', () => {
    const bad = write('input.json', '{"a": }');
    const c = capture();
    expect(runEval('input.a', { data: [], input: bad }, c.io)).toBe(1);
    expect(c.err()).toBe(
      `${bad}:1:7: invalid JSON: unexpected character "}", expected a value at line 1, column 7\n`,
    );
    expect(c.out()).toBe('');
  });
});

describe('verdict eval end to end', () => {
  beforeEach(() => {
    write(
      'policies/rbac.rego',
      [
        'package rbac',
        '',
        'default allow := false',
        '',
        'allow if {',
        '\tsome role in data.rbac.roles.bindings[input.user]',
        '\trole == "admin"',
        '}',
        '',
        'names contains n if {',
        '\tsome n, _ in data.rbac.roles.bindings',
        '}',
        '',
      ].join('\n'),
    );
    write('policies/rbac/roles/data.json', '{"bindings": {"alice": ["admin"], "bob": ["viewer"]}}');
    write('alice.json', '{"user": "alice"}');
    write('bob.json', '{"user": "bob"}');
  });

  const run = (query: string, input?: string): { code: number; out: string; err: string } => {
    const c = capture();
    const options = {
      data: [path.join(dir, 'policies')],
      ...(input ? { input: path.join(dir, input) } : {}),
    };
    const code = runEval(query, options, c.io);
    return { code, out: c.out(), err: c.err() };
  };

  it('prints the value of a rule', () => {
    expect(run('data.rbac.allow', 'alice.json')).toEqual({ code: 0, out: 'true\n', err: '' });
    expect(run('data.rbac.allow', 'bob.json')).toEqual({ code: 0, out: 'false\n', err: '' });
    expect(run('data.rbac.names').out).toBe('[\n  "alice",\n  "bob"\n]\n');
  });

  it('prints bindings for a query with variables', () => {
    expect(run('x := data.rbac.names[_]').out).toBe(
      '[\n  {\n    "x": "alice"\n  },\n  {\n    "x": "bob"\n  }\n]\n',
    );
  });

  it('prints undefined for an undefined query', () => {
    expect(run('data.rbac.missing')).toEqual({ code: 0, out: 'undefined\n', err: '' });
  });

  it('prints errors as file:line:col and exits 1', () => {
    write('policies/broken.rego', 'package broken\n\np := {\n');
    const r = run('data.rbac.allow');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/broken\.rego:\d+:\d+: rego_parse_error: /);
    expect(r.out).toBe('');
  });

  it('points query errors at the text the user typed', () => {
    const r = run('data.rbac.allow[');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^<query>:1:17: rego_parse_error: /);
  });

  it('runs as `verdict eval` from the built CLI', () => {
    const r = spawnSync(
      process.execPath,
      [
        path.join(REPO, 'bin', 'verdict.js'),
        'eval',
        '-d',
        path.join(dir, 'policies'),
        '-i',
        path.join(dir, 'alice.json'),
        'data.rbac.allow',
      ],
      { encoding: 'utf8' },
    );
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 0, stdout: 'true\n' });
  });
});
