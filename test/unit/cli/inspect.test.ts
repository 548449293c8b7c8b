import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runBuild } from '../../../cli/build';
import { runInspect } from '../../../cli/inspect';
import { runKeysGen, runSign } from '../../../cli/sign';
import { writeTarGz } from '../../../policies/bundle/tar';
import { capture, fixtureFolder } from '../../helpers/cli-io';

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

describe('verdict inspect, as text', () => {
  const folder = fixtureFolder('inspect-text');
  const text = (s: string): Uint8Array => new TextEncoder().encode(s);
  const policy = [
    'package shop.orders',
    '',
    '# METADATA',
    '# title: Refund',
    '# description: Managers may refund an order.',
    'refund if input.role == "manager"',
    '',
    '# METADATA',
    '# title: Audit only',
    'audit := true',
    '',
  ].join('\n');

  function inspect(bundle: string, options: { pubkey?: string } = {}) {
    const c = capture();
    const code = runInspect(bundle, options, c.io);
    return { code, out: c.out(), err: c.err() };
  }

  it('lists the manifest, files and annotated rules', () => {
    const manifest = {
      name: 'shop',
      version: '2.1.0',
      revision: 'abc123',
      roots: ['shop'],
      wasm: [{ entrypoint: 'shop/orders/refund', module: '/policy.wasm' }],
    };
    const bundle = folder.write('shop.tar.gz', '');
    fs.writeFileSync(
      bundle,
      writeTarGz([
        { path: '.manifest', data: text(JSON.stringify(manifest)) },
        { path: 'shop/orders.rego', data: text(policy) },
      ]),
    );
    const result = inspect(bundle);
    expect(result.code).toBe(0);
    expect(result.out.split('\n')).toEqual([
      `bundle     ${bundle}`,
      'name       shop  version 2.1.0  revision abc123',
      'roots      shop',
      'entrypoints shop/orders/refund',
      'signature  not signed',
      'files',
      `  ${String(JSON.stringify(manifest).length).padStart(9)}  .manifest`,
      `  ${String(policy.length).padStart(9)}  shop/orders.rego`,
      'annotations',
      '  data.shop.orders.refund (shop/orders.rego): Refund — Managers may refund an order.',
      '  data.shop.orders.audit (shop/orders.rego): Audit only',
      '',
    ]);
  });

  it('says (none) for what a bundle without a readable manifest lacks', () => {
    const bundle = folder.write('bare.tar.gz', '');
    fs.writeFileSync(
      bundle,
      writeTarGz([
        { path: '.manifest', data: text('{not json') },
        { path: 'data.json', data: text('{}') },
      ]),
    );
    const result = inspect(bundle);
    expect(result.code).toBe(0);
    expect(result.out).toContain('name       (none)  version (none)  revision (none)\n');
    expect(result.out).toContain('roots      (none)\nentrypoints (none)\n');
    expect(result.out).not.toContain('annotations');
  });

  it('reports a signature as unverified without --pubkey, and as NOT valid with the wrong key', () => {
    const bundle = folder.write('signed.tar.gz', '');
    fs.writeFileSync(bundle, writeTarGz([{ path: 'data.json', data: text('{}') }]));
    const key = path.join(folder.dir(), 'k.pem');
    const other = path.join(folder.dir(), 'other.pem');
    expect(runKeysGen(key, capture().io)).toBe(0);
    expect(runKeysGen(other, capture().io)).toBe(0);
    expect(runSign(bundle, { key }, capture().io)).toBe(0);
    expect(inspect(bundle).out).toContain('signature  signed (give --pubkey to verify)\n');
    expect(inspect(bundle, { pubkey: `${other}.pub` }).out).toContain(
      'signature  signed, NOT valid: the signature does not match: signed with another key, or the signed file list was changed\n',
    );
  });

  it('says when the bundle cannot be read', () => {
    const missing = path.join(folder.dir(), 'missing.tar.gz');
    expect(inspect(missing)).toEqual({
      code: 1,
      out: '',
      err: `verdict inspect: cannot read ${missing}\n`,
    });
  });
});
