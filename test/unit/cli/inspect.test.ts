import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runBuild } from '../../../cli/build';
import { runInspect } from '../../../cli/inspect';
import { runKeysGen, runSign } from '../../../cli/sign';

const root = path.resolve(__dirname, '..', '..', '..');

describe('verdict inspect', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-inspect-'));
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const quiet = { stdout: () => undefined, stderr: () => undefined };

  it('shows the manifest, files, signature status and annotations', async () => {
    const bundle = path.join(dir, 'rbac.tar.gz');
    expect(
      await runBuild([path.join(root, 'examples/rbac')], { output: bundle, entrypoint: [] }, quiet),
    ).toBe(0);
    const key = path.join(dir, 'k.pem');
    expect(runKeysGen(key, quiet)).toBe(0);
    expect(runSign(bundle, { key }, quiet)).toBe(0);
    const out: string[] = [];
    expect(
      runInspect(
        bundle,
        { pubkey: `${key}.pub`, json: true },
        { stdout: (t) => out.push(t), stderr: (t) => out.push(t) },
      ),
    ).toBe(0);
    const report = JSON.parse(out.join('')) as {
      manifest: { name: string; version: string };
      signature: string;
      files: { path: string }[];
      annotations: { rule: string; fields: { title?: string } }[];
    };
    expect(report.manifest).toMatchObject({ name: 'rbac', version: '1.0.0' });
    expect(report.signature).toBe('signed, verified with the given key');
    expect(report.files.map((f) => f.path)).toEqual(
      expect.arrayContaining([
        '.manifest',
        '.signatures.json',
        'data.json',
        'policy.wasm',
        'policy.rego',
      ]),
    );
    expect(report.annotations).toContainEqual(
      expect.objectContaining({
        rule: 'data.rbac.allow',
        fields: expect.objectContaining({ title: 'Allow' }) as unknown,
      }),
    );
  });

  it('refuses a file that is not a bundle', () => {
    const file = path.join(dir, 'not.tar.gz');
    fs.writeFileSync(file, 'hello');
    const err: string[] = [];
    expect(runInspect(file, {}, { stdout: () => undefined, stderr: (t) => err.push(t) })).toBe(1);
    expect(err.join('')).toContain('not.tar.gz');
  });
});
