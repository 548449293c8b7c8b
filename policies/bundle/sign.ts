/**
 * Bundle signatures in OPA's layout: `/.signatures.json` holds `{"signatures": [<JWS>]}`, a
 * compact JWS (EdDSA over Ed25519) whose payload lists every other file of the bundle with its
 * SHA-256. Verification recomputes the hashes and names any file that was changed, removed or
 * added.
 */
import * as crypto from 'node:crypto';
import { readTarGz, writeTarGz, type TarEntry } from './tar';

export const SIGNATURES_FILE = '.signatures.json';

interface FileHash {
  readonly name: string;
  readonly hash: string;
  readonly algorithm: 'SHA-256';
}

/** A bad signing or verification key; a bad signature is a failed `Verification` instead. */
export class SignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignatureError';
  }
}

/** A new Ed25519 key pair as PEM texts (PKCS#8 private key, SPKI public key). */
export function generateKeys(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

function hashes(entries: readonly TarEntry[]): FileHash[] {
  return entries
    .filter((e) => e.path !== SIGNATURES_FILE)
    .map((e) => ({
      name: e.path,
      hash: crypto.createHash('sha256').update(e.data).digest('hex'),
      algorithm: 'SHA-256' as const,
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function privateKeyOf(pem: string): crypto.KeyObject {
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey(pem);
  } catch {
    throw new SignatureError(
      'the signing key is not a PEM private key (make one with verdict keys gen)',
    );
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new SignatureError(
      `the signing key is ${key.asymmetricKeyType ?? 'unknown'}; Verdict signs with Ed25519 keys`,
    );
  }
  return key;
}

function publicKeyOf(pem: string): crypto.KeyObject {
  let key: crypto.KeyObject;
  try {
    key = crypto.createPublicKey(pem);
  } catch {
    throw new SignatureError('the verification key is not a PEM public key');
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new SignatureError(
      `the verification key is ${key.asymmetricKeyType ?? 'unknown'}, not Ed25519`,
    );
  }
  return key;
}

/** Signs a bundle: returns the .tar.gz with `/.signatures.json` added (or replaced). */
export function signBundle(tarGz: Uint8Array, privateKeyPem: string, keyId = 'default'): Buffer {
  const key = privateKeyOf(privateKeyPem);
  const entries = readTarGz(tarGz).filter((e) => e.path !== SIGNATURES_FILE);
  const header = b64url(JSON.stringify({ alg: 'EdDSA', kid: keyId }));
  const payload = b64url(JSON.stringify({ files: hashes(entries), keyid: keyId }));
  const signature = crypto.sign(null, Buffer.from(`${header}.${payload}`), key);
  const jws = `${header}.${payload}.${b64url(signature)}`;
  const signatures: TarEntry = {
    path: SIGNATURES_FILE,
    data: new TextEncoder().encode(JSON.stringify({ signatures: [jws] }, null, 2) + '\n'),
  };
  const manifestFirst = [...entries].sort(
    (a, b) => Number(b.path === '.manifest') - Number(a.path === '.manifest'),
  );
  return writeTarGz([...manifestFirst.slice(0, 1), signatures, ...manifestFirst.slice(1)]);
}

/** The outcome of `verifyBundle`: `ok` only when no problem was found. */
export interface Verification {
  readonly ok: boolean;
  /** One line per problem: the file and what is wrong with it. */
  readonly problems: readonly string[];
}

/** Verifies a signed bundle against a public key. Never throws for a bad bundle. */
export function verifyBundle(tarGz: Uint8Array, publicKeyPem: string): Verification {
  const key = publicKeyOf(publicKeyPem);
  let entries: TarEntry[];
  try {
    entries = readTarGz(tarGz);
  } catch (err) {
    return { ok: false, problems: [err instanceof Error ? err.message : String(err)] };
  }
  const signatureFile = entries.find((e) => e.path === SIGNATURES_FILE);
  if (!signatureFile)
    return { ok: false, problems: [`${SIGNATURES_FILE} is missing: the bundle is not signed`] };
  let jws: string | undefined;
  try {
    const parsed = JSON.parse(Buffer.from(signatureFile.data).toString()) as {
      signatures?: unknown;
    };
    jws =
      Array.isArray(parsed.signatures) && typeof parsed.signatures[0] === 'string'
        ? parsed.signatures[0]
        : undefined;
  } catch {
    jws = undefined;
  }
  const parts = jws?.split('.');
  if (parts?.length !== 3)
    return { ok: false, problems: [`${SIGNATURES_FILE} holds no compact JWS signature`] };
  const [header, payload, signature] = parts as [string, string, string];
  const valid = crypto.verify(
    null,
    Buffer.from(`${header}.${payload}`),
    key,
    Buffer.from(signature, 'base64url'),
  );
  if (!valid)
    return {
      ok: false,
      problems: [
        'the signature does not match: signed with another key, or the signed file list was changed',
      ],
    };
  let signed: FileHash[];
  try {
    signed = (JSON.parse(Buffer.from(payload, 'base64url').toString()) as { files: FileHash[] })
      .files;
  } catch {
    return { ok: false, problems: ['the signature payload is not a file list'] };
  }
  const actual = new Map(hashes(entries).map((f) => [f.name, f.hash]));
  const problems: string[] = [];
  for (const f of signed) {
    const hash = actual.get(f.name);
    if (hash === undefined) problems.push(`${f.name}: signed but missing from the bundle`);
    else if (hash !== f.hash)
      problems.push(`${f.name}: changed since it was signed (SHA-256 differs)`);
    actual.delete(f.name);
  }
  for (const name of actual.keys()) problems.push(`${name}: in the bundle but not signed`);
  return { ok: problems.length === 0, problems };
}
