/**
 * Password hashing with scrypt (node:crypto). A stored hash carries its own parameters and
 * salt — `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` (base64url) — so the cost can be raised
 * later: a hash made with weaker parameters than the current ones still verifies, and
 * `needsRehash` tells the caller to store a fresh one after a successful login.
 *
 * Passwords are normalized to Unicode NFKC first, so the same password typed on systems
 * that compose characters differently hashes the same.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptParams {
  /** log2 of scrypt's cost N. */
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

/** N = 2^15, r = 8, p = 1: 32 MiB of memory and tens of milliseconds per hash. */
export const defaultScryptParams: ScryptParams = { logN: 15, r: 8, p: 1 };

const saltLength = 32;
const hashLength = 32;
const hashPattern =
  /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

interface ParsedHash {
  readonly params: ScryptParams;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

function derive(
  password: string,
  salt: Buffer,
  params: ScryptParams,
  length: number,
): Promise<Buffer> {
  const options: ScryptOptions = {
    N: 2 ** params.logN,
    r: params.r,
    p: params.p,
    // scrypt needs 128·N·r bytes; leave headroom above Node's 32 MiB default.
    maxmem: 256 * 2 ** params.logN * params.r + 1024 * 1024,
  };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, length, options, (err, key) => {
      if (err === null) resolve(key);
      else reject(err);
    });
  });
}

function parse(stored: string): ParsedHash | undefined {
  const match = hashPattern.exec(stored);
  if (match === null) return undefined;
  const [, logN, r, p, salt, hash] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const params = { logN: Number(logN), r: Number(r), p: Number(p) };
  // Parameters outside these bounds were never written by Verdict; refuse rather than hang.
  if (params.logN < 1 || params.logN > 22 || params.r < 1 || params.p < 1) return undefined;
  return { params, salt: Buffer.from(salt, 'base64url'), hash: Buffer.from(hash, 'base64url') };
}

export async function hashPassword(
  password: string,
  params: ScryptParams = defaultScryptParams,
): Promise<string> {
  const salt = randomBytes(saltLength);
  const hash = await derive(password, salt, params, hashLength);
  return `$scrypt$ln=${params.logN},r=${params.r},p=${params.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

/** Whether `password` matches `stored`; compared in constant time. False for a bad hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (parsed === undefined || parsed.hash.length === 0) return false;
  const candidate = await derive(password, parsed.salt, parsed.params, parsed.hash.length);
  return timingSafeEqual(candidate, parsed.hash);
}

/** Whether `stored` was made with weaker parameters than `params` (or is unreadable). */
export function needsRehash(stored: string, params: ScryptParams = defaultScryptParams): boolean {
  const parsed = parse(stored);
  if (parsed === undefined) return true;
  return (
    parsed.params.logN < params.logN ||
    parsed.params.r < params.r ||
    parsed.params.p < params.p ||
    parsed.salt.length < saltLength
  );
}

/**
 * A hash of a random password, to verify against when there is no account: an unknown
 * e-mail then costs the same scrypt work as a known one, so timing tells nothing.
 */
export function decoyHash(params: ScryptParams = defaultScryptParams): Promise<string> {
  return hashPassword(randomBytes(24).toString('base64url'), params);
}
