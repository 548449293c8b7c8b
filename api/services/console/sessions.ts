/**
 * Sessions of the auditor console, kept server-side in the cache store (Redis when
 * configured, so every instance sees them; in-process otherwise). The browser holds only the
 * session id, in an HttpOnly cookie; a request that presents it is authenticated with the
 * credential the console signed in with, checked afresh each time, so a revoked key or a
 * rotated admin token ends the session at once.
 *
 * What the store holds cannot be used on its own: the entry sits under a digest of the id,
 * and the credential is encrypted with a key derived from the id (AES-256-GCM), so reading
 * Redis yields neither a cookie nor a credential. The CSRF token (a synchronizer token) is
 * stored beside it: the console gets it from the sign-in answer or from `GET /console/session`
 * and must send it with every request that changes state.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import type { CacheStore } from '../cache';

/** How long a console session lasts from sign-in (8 hours, a working day). */
export const consoleSessionLifetimeMs = 8 * 60 * 60 * 1000;

export interface ConsoleSession {
  /** The tenant the console signed in to, as it was typed (slug or id). */
  readonly tenant: string;
  /** The credential that signed in: a tenant API key, an access token or the admin token. */
  readonly credential: string;
  readonly csrfToken: string;
  readonly expiresAt: Date;
}

export interface NewConsoleSession extends ConsoleSession {
  /** The cookie's value; only its digest is stored. */
  readonly id: string;
}

interface StoredSession {
  readonly tenant: string;
  /** base64url: 12-byte IV, ciphertext, 16-byte tag. */
  readonly credential: string;
  readonly csrfToken: string;
  readonly expiresAt: number;
}

export interface ConsoleSessionsOptions {
  readonly cache: CacheStore;
  readonly lifetimeMs?: number;
  /** Milliseconds since the epoch; tests move it to expire sessions. */
  readonly now?: () => number;
}

const idPattern = /^[A-Za-z0-9_-]{43}$/u;

function digest(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url');
}

function credentialKey(id: string): Buffer {
  return Buffer.from(
    hkdfSync('sha256', Buffer.from(id, 'utf8'), Buffer.alloc(0), 'verdict console credential', 32),
  );
}

function encrypt(id: string, credential: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', credentialKey(id), iv);
  const body = Buffer.concat([cipher.update(credential, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
}

function decrypt(id: string, sealed: string): string | undefined {
  const bytes = Buffer.from(sealed, 'base64url');
  if (bytes.length < 28) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', credentialKey(id), bytes.subarray(0, 12));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    const plain = Buffer.concat([decipher.update(bytes.subarray(12, -16)), decipher.final()]);
    return plain.toString('utf8');
  } catch {
    return undefined;
  }
}

function isStored(value: unknown): value is StoredSession {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Record<string, unknown>;
  return (
    typeof entry.tenant === 'string' &&
    typeof entry.credential === 'string' &&
    typeof entry.csrfToken === 'string' &&
    typeof entry.expiresAt === 'number'
  );
}

/** Whether `given` is the session's CSRF token (constant time). */
export function csrfTokenMatches(session: ConsoleSession, given: string | undefined): boolean {
  if (given === undefined || given === '') return false;
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(session.csrfToken, 'utf8').digest();
  return timingSafeEqual(a, b);
}

export class ConsoleSessions {
  private readonly cache: CacheStore;
  readonly lifetimeMs: number;
  private readonly now: () => number;

  constructor(options: ConsoleSessionsOptions) {
    this.cache = options.cache;
    this.lifetimeMs = options.lifetimeMs ?? consoleSessionLifetimeMs;
    this.now = options.now ?? Date.now;
  }

  private keyOf(id: string): string {
    return `console-session:${digest(id)}`;
  }

  async create(tenant: string, credential: string): Promise<NewConsoleSession> {
    const id = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(32).toString('base64url');
    const expiresAt = this.now() + this.lifetimeMs;
    const stored: StoredSession = {
      tenant,
      credential: encrypt(id, credential),
      csrfToken,
      expiresAt,
    };
    await this.cache.set(this.keyOf(id), JSON.stringify(stored), this.lifetimeMs);
    return { id, tenant, credential, csrfToken, expiresAt: new Date(expiresAt) };
  }

  /** The live session with this id; undefined for an unknown, ended or expired one. */
  async find(id: string): Promise<ConsoleSession | undefined> {
    if (!idPattern.test(id)) return undefined;
    const text = await this.cache.get(this.keyOf(id));
    if (text === undefined) return undefined;
    let stored: unknown;
    try {
      stored = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (!isStored(stored) || stored.expiresAt <= this.now()) return undefined;
    const credential = decrypt(id, stored.credential);
    if (credential === undefined) return undefined;
    return {
      tenant: stored.tenant,
      credential,
      csrfToken: stored.csrfToken,
      expiresAt: new Date(stored.expiresAt),
    };
  }

  async delete(id: string): Promise<void> {
    if (idPattern.test(id)) await this.cache.delete(this.keyOf(id));
  }
}
