import {
  generateKeys,
  signBundle,
  verifyBundle,
  SignatureError,
  SIGNATURES_FILE,
} from '../../../../policies/bundle/sign';
import { readTarGz, writeTarGz, type TarEntry } from '../../../../policies/bundle/tar';

const enc = new TextEncoder();
const files: TarEntry[] = [
  { path: '.manifest', data: enc.encode('{"revision":"r1"}') },
  { path: 'data.json', data: enc.encode('{"roles":{}}') },
  { path: 'policy.wasm', data: new Uint8Array([0, 97, 115, 109, 1]) },
];

function rewrite(bundle: Uint8Array, change: (entries: TarEntry[]) => TarEntry[]): Buffer {
  return writeTarGz(change(readTarGz(bundle)));
}

describe('bundle signatures', () => {
  const keys = generateKeys();
  const signed = signBundle(writeTarGz(files), keys.privateKey, 'release');

  it('adds /.signatures.json and verifies with the public key', () => {
    expect(readTarGz(signed).map((e) => e.path)).toEqual([
      '.manifest',
      SIGNATURES_FILE,
      'data.json',
      'policy.wasm',
    ]);
    expect(verifyBundle(signed, keys.publicKey)).toEqual({ ok: true, problems: [] });
  });

  it('names a changed, a missing and an added file', () => {
    const tampered = rewrite(signed, (entries) => [
      ...entries
        .filter((e) => e.path !== 'policy.wasm')
        .map((e) =>
          e.path === 'data.json' ? { ...e, data: enc.encode('{"roles":{"admin":["eve"]}}') } : e,
        ),
      { path: 'extra.rego', data: enc.encode('package extra') },
    ]);
    const result = verifyBundle(tampered, keys.publicKey);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      'data.json: changed since it was signed (SHA-256 differs)',
      'policy.wasm: signed but missing from the bundle',
      'extra.rego: in the bundle but not signed',
    ]);
  });

  it('refuses a signature made with another key, and an unsigned bundle', () => {
    const other = generateKeys();
    expect(verifyBundle(signed, other.publicKey).problems[0]).toMatch(/signature does not match/);
    expect(verifyBundle(writeTarGz(files), keys.publicKey).problems).toEqual([
      '.signatures.json is missing: the bundle is not signed',
    ]);
    expect(verifyBundle(new Uint8Array([1, 2, 3]), keys.publicKey).ok).toBe(false);
  });

  it('refuses keys that are not Ed25519 PEM', () => {
    expect(() => signBundle(writeTarGz(files), 'not a key')).toThrow(SignatureError);
    expect(() => verifyBundle(signed, keys.privateKey.replace('PRIVATE', 'PUBLIC'))).toThrow(
      SignatureError,
    );
  });
});
