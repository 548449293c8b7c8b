/**
 * `verdict keys gen`, `verdict sign` and `verdict verify` as an operator meets them: a key pair
 * that is never overwritten, a signature that names every file changed since signing, and one
 * clear line for a missing file, a wrong key or something that is not a bundle.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runKeysGen, runSign, runVerify } from '../../../cli/sign';
import { readTarGz, writeTarGz, type TarEntry } from '../../../policies/bundle/tar';
import { capture, fixtureFolder } from '../../helpers/cli-io';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A small bundle: a manifest, a policy and its data. */
function bundleEntries(): TarEntry[] {
  return [
    { path: '.manifest', data: text('{"name":"small","version":"1.0.0"}') },
    { path: 'policy.rego', data: text('package small\n\nallow := true\n') },
    { path: 'data.json', data: text('{"roles":{}}') },
  ];
}

describe('verdict keys gen', () => {
  const folder = fixtureFolder('keys-gen');

  it('writes a private key only its owner reads and the public key beside it, in a new folder', () => {
    const key = path.join(folder.dir(), 'keys', 'release.pem');
    const c = capture();
    expect(runKeysGen(key, c.io)).toBe(0);
    expect(c.err()).toBe(
      `wrote ${key} (private key, keep it secret) and ${key}.pub (public key)\n`,
    );
    expect(fs.statSync(key).mode & 0o777).toBe(0o600);
    expect(crypto.createPrivateKey(fs.readFileSync(key)).asymmetricKeyType).toBe('ed25519');
    expect(crypto.createPublicKey(fs.readFileSync(`${key}.pub`)).asymmetricKeyType).toBe('ed25519');
  });

  it.each([
    ['private', ''],
    ['public', '.pub'],
  ])('never overwrites an existing %s key file', (_, suffix) => {
    const key = path.join(folder.dir(), 'release.pem');
    folder.write(`release.pem${suffix}`, 'precious');
    const c = capture();
    expect(runKeysGen(key, c.io)).toBe(1);
    expect(c.err()).toBe(
      `verdict keys gen: ${key}${suffix} exists; nothing written (remove it or choose another name)\n`,
    );
    expect(fs.readFileSync(`${key}${suffix}`, 'utf8')).toBe('precious');
    // Neither half of a pair is written when the other half is in the way.
    expect(fs.readdirSync(folder.dir())).toEqual([`release.pem${suffix}`]);
  });
});

describe('verdict sign and verify', () => {
  const folder = fixtureFolder('sign');
  let key = '';
  let bundle = '';
  beforeEach(() => {
    key = path.join(folder.dir(), 'k.pem');
    expect(runKeysGen(key, capture().io)).toBe(0);
    bundle = path.join(folder.dir(), 'small.tar.gz');
    fs.writeFileSync(bundle, writeTarGz(bundleEntries()));
  });

  function verify(file: string, pubkey = `${key}.pub`): { code: number; out: string; err: string } {
    const c = capture();
    const code = runVerify(file, { pubkey }, c.io);
    return { code, out: c.out(), err: c.err() };
  }

  it('signs in place, and the signature verifies with the public key', () => {
    const c = capture();
    expect(runSign(bundle, { key, keyId: 'release' }, c.io)).toBe(0);
    expect(c.err()).toBe(`signed ${bundle}\n`);
    const files = readTarGz(fs.readFileSync(bundle)).map((e) => e.path);
    // The manifest stays first, the signature right after it (OPA's layout).
    expect(files).toEqual(['.manifest', '.signatures.json', 'policy.rego', 'data.json']);
    expect(verify(bundle)).toEqual({
      code: 0,
      out: `${bundle}: signature valid, every file matches\n`,
      err: '',
    });
  });

  it('writes the signed bundle to -o and leaves the original unsigned', () => {
    const signed = path.join(folder.dir(), 'out', 'signed.tar.gz');
    fs.mkdirSync(path.dirname(signed));
    expect(runSign(bundle, { key, output: signed }, capture().io)).toBe(0);
    expect(verify(signed).code).toBe(0);
    expect(verify(bundle)).toEqual({
      code: 1,
      out: '',
      err: `${bundle}: .signatures.json is missing: the bundle is not signed\n`,
    });
  });

  it('names every file changed, removed or added since signing', () => {
    expect(runSign(bundle, { key }, capture().io)).toBe(0);
    const entries = readTarGz(fs.readFileSync(bundle))
      .filter((e) => e.path !== 'data.json')
      .map((e) =>
        e.path === 'policy.rego' ? { ...e, data: text('package small\n\nallow := false\n') } : e,
      );
    fs.writeFileSync(bundle, writeTarGz([...entries, { path: 'extra.rego', data: text('x') }]));
    const result = verify(bundle);
    expect(result.code).toBe(1);
    expect(result.err.trimEnd().split('\n').sort()).toEqual([
      `${bundle}: data.json: signed but missing from the bundle`,
      `${bundle}: extra.rego: in the bundle but not signed`,
      `${bundle}: policy.rego: changed since it was signed (SHA-256 differs)`,
    ]);
  });

  it('refuses a signature made with another key', () => {
    expect(runSign(bundle, { key }, capture().io)).toBe(0);
    const other = path.join(folder.dir(), 'other.pem');
    expect(runKeysGen(other, capture().io)).toBe(0);
    expect(verify(bundle, `${other}.pub`)).toEqual({
      code: 1,
      out: '',
      err: `${bundle}: the signature does not match: signed with another key, or the signed file list was changed\n`,
    });
  });

  it('says which file is missing', () => {
    const missingBundle = path.join(folder.dir(), 'nope.tar.gz');
    const c = capture();
    expect(runSign(missingBundle, { key }, c.io)).toBe(1);
    expect(c.err()).toBe(`verdict sign: cannot read the bundle ${missingBundle}: no such file\n`);

    const missingKey = path.join(folder.dir(), 'nope.pem');
    const k = capture();
    expect(runSign(bundle, { key: missingKey }, k.io)).toBe(1);
    expect(k.err()).toBe(`verdict sign: cannot read the key ${missingKey}: no such file\n`);

    expect(verify(bundle, missingKey).err).toBe(
      `verdict verify: cannot read the public key ${missingKey}: no such file\n`,
    );
    expect(verify(missingBundle).err).toBe(
      `verdict verify: cannot read the bundle ${missingBundle}: no such file\n`,
    );
  });

  it('refuses keys of the wrong kind, and leaves the bundle as it was', () => {
    const before = fs.readFileSync(bundle);
    const notPem = folder.write('notes.txt', 'not a key');
    const c = capture();
    expect(runSign(bundle, { key: notPem }, c.io)).toBe(1);
    expect(c.err()).toBe(
      'verdict sign: the signing key is not a PEM private key (make one with verdict keys gen)\n',
    );
    const { privateKey: rsa } = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 });
    const rsaKey = folder.write('rsa.pem', rsa.export({ type: 'pkcs8', format: 'pem' }).toString());
    const r = capture();
    expect(runSign(bundle, { key: rsaKey }, r.io)).toBe(1);
    expect(r.err()).toBe('verdict sign: the signing key is rsa; Verdict signs with Ed25519 keys\n');
    expect(fs.readFileSync(bundle).equals(before)).toBe(true);

    expect(verify(bundle, notPem).err).toBe(
      'verdict verify: the verification key is not a PEM public key\n',
    );
  });

  it('refuses to sign a file that is not a bundle', () => {
    const notBundle = folder.write('notes.tar.gz', 'hello');
    const c = capture();
    expect(runSign(notBundle, { key }, c.io)).toBe(1);
    expect(c.err()).toBe('verdict sign: not a tar archive: shorter than one tar block\n');
    expect(fs.readFileSync(notBundle, 'utf8')).toBe('hello');
    expect(verify(notBundle)).toEqual({
      code: 1,
      out: '',
      err: `${notBundle}: not a tar archive: shorter than one tar block\n`,
    });
  });

  it('refuses a bundle whose signature file holds no signature', () => {
    fs.writeFileSync(
      bundle,
      writeTarGz([
        ...bundleEntries(),
        { path: '.signatures.json', data: text('{"signatures":[]}') },
      ]),
    );
    expect(verify(bundle).err).toBe(`${bundle}: .signatures.json holds no compact JWS signature\n`);
  });
});
