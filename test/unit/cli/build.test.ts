import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runBuild } from '../../../cli/build';
import { readTarGz } from '../../../policies/bundle/tar';
import { PolicyEngine } from '../../../policies/engine';

const root = path.resolve(__dirname, '..', '..', '..');

function capture(): {
  out: string[];
  err: string[];
  io: { stdout: (t: string) => void; stderr: (t: string) => void };
} {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (t) => out.push(t), stderr: (t) => err.push(t) } };
}

describe('verdict build', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-build-'));
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes an OPA-layout bundle whose policy.wasm the engine runs', async () => {
    const output = path.join(dir, 'rbac.tar.gz');
    const c = capture();
    const code = await runBuild(
      [path.join(root, 'examples/rbac')],
      { output, entrypoint: ['rbac/allow'], ir: true },
      c.io,
    );
    expect(code).toBe(0);
    expect(c.out.join('')).toContain('func data.rbac.allow');
    const files = new Map(readTarGz(fs.readFileSync(output)).map((e) => [e.path, e.data]));
    expect([...files.keys()]).toEqual(
      expect.arrayContaining(['.manifest', 'data.json', 'policy.wasm']),
    );
    const manifest = JSON.parse(Buffer.from(files.get('.manifest') ?? []).toString()) as {
      name: string;
      version: string;
      revision: string;
      wasm: { entrypoint: string }[];
    };
    // examples/rbac/.manifest names the bundle and its entrypoints; -e adds to them.
    expect(manifest).toMatchObject({ name: 'rbac', version: '1.0.0' });
    expect(manifest.wasm).toEqual([
      { entrypoint: 'rbac/allow', module: '/policy.wasm' },
      { entrypoint: 'rbac/reasons', module: '/policy.wasm' },
    ]);
    expect(files.has('policy.rego')).toBe(true);
    expect(manifest.revision).toMatch(/^[0-9a-f]{16}$/);
    const engine = await PolicyEngine.load(files.get('policy.wasm') ?? new Uint8Array());
    engine.setData(JSON.parse(Buffer.from(files.get('data.json') ?? []).toString()));
    const input = {
      subject: { id: 'bob', tenant: 'acme' },
      action: 'delete',
      resource: { type: 'document', id: 'd1', tenant: 'acme', owner: 'bob' },
    };
    expect(engine.evaluate('rbac/allow', input)).toEqual([{ result: true }]);
    expect(
      engine.evaluate('rbac/allow', { ...input, resource: { ...input.resource, tenant: 'other' } }),
    ).toEqual([{ result: false }]);
  });

  it('refuses an entrypoint the policy does not define, and writes nothing', async () => {
    const output = path.join(dir, 'none.tar.gz');
    const c = capture();
    const code = await runBuild(
      [path.join(root, 'examples/rbac')],
      { output, entrypoint: ['rbac/nope'] },
      c.io,
    );
    expect(code).toBe(1);
    expect(c.err.join('')).toContain('entrypoint rbac/nope names no rule or package');
    expect(fs.existsSync(output)).toBe(false);
  });

  it('refuses a bad .manifest with one line per problem, and writes nothing', async () => {
    const src = path.join(dir, 'bad');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'p.rego'), 'package p\nallow := true\n');
    fs.writeFileSync(
      path.join(src, '.manifest'),
      '{"name": "p", "version": "one", "engin": "rego"}',
    );
    const output = path.join(dir, 'bad.tar.gz');
    const c = capture();
    expect(await runBuild([src], { output, entrypoint: ['p/allow'] }, c.io)).toBe(1);
    expect(c.err.join('')).toContain('engin: unknown manifest field');
    expect(c.err.join('')).toContain('version: not a semantic version');
    expect(fs.existsSync(output)).toBe(false);
  });

  it('asks for an entrypoint when none is given', async () => {
    const src = path.join(dir, 'plain');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(src, 'p.rego'), 'package p\nallow := true\n');
    const c = capture();
    const code = await runBuild(
      [src],
      { output: path.join(dir, 'x.tar.gz'), entrypoint: [] },
      c.io,
    );
    expect(code).toBe(1);
    expect(c.err.join('')).toContain('no entrypoint given');
  });
});
