import { createHash } from 'node:crypto';
import { MemoryCache } from '../../../../../api/services/cache/memory';
import {
  ConsoleSessions,
  consoleSessionLifetimeMs,
  csrfTokenMatches,
} from '../../../../../api/services/console/sessions';
import { createLogger } from '../../../../../api/logger';

const logger = createLogger({ level: 'silent' });
const credential = 'vdk_abcd1234_s3cr3t-value-of-the-key';

function storeKey(id: string): string {
  return `console-session:${createHash('sha256').update(id, 'utf8').digest('base64url')}`;
}

describe('ConsoleSessions', () => {
  let cache: MemoryCache;
  let clock: number;
  let sessions: ConsoleSessions;

  beforeEach(() => {
    cache = new MemoryCache({ logger });
    clock = Date.parse('2026-11-28T00:00:00Z');
    sessions = new ConsoleSessions({ cache, now: () => clock });
  });

  afterEach(async () => {
    await cache.close();
  });

  it('finds a session by its id, with the credential decrypted', async () => {
    const created = await sessions.create('acme', credential);
    expect(created.id).toMatch(/^[A-Za-z0-9_-]{43}$/u);
    expect(created.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/u);
    expect(created.csrfToken).not.toBe(created.id);
    expect(created.expiresAt.getTime()).toBe(clock + consoleSessionLifetimeMs);
    const found = await sessions.find(created.id);
    expect(found).toEqual({
      tenant: 'acme',
      credential,
      csrfToken: created.csrfToken,
      expiresAt: created.expiresAt,
    });
  });

  it('stores neither the id nor the credential in the clear', async () => {
    const created = await sessions.create('acme', credential);
    const stored = await cache.get(storeKey(created.id));
    expect(stored).toBeDefined();
    expect(stored).not.toContain(created.id);
    expect(stored).not.toContain('s3cr3t');
    expect(await cache.remainingTtl(storeKey(created.id))).toBeLessThanOrEqual(
      consoleSessionLifetimeMs,
    );
  });

  it('knows nothing of unknown, malformed, deleted or expired ids', async () => {
    const created = await sessions.create('acme', credential);
    expect(await sessions.find('A'.repeat(43))).toBeUndefined();
    expect(await sessions.find('')).toBeUndefined();
    expect(await sessions.find(`${created.id}=`)).toBeUndefined();
    clock += consoleSessionLifetimeMs - 1;
    expect(await sessions.find(created.id)).toBeDefined();
    clock += 1;
    expect(await sessions.find(created.id)).toBeUndefined();
    const other = await sessions.create('acme', credential);
    await sessions.delete(other.id);
    expect(await sessions.find(other.id)).toBeUndefined();
  });

  it('refuses an entry whose sealed credential was tampered with', async () => {
    const created = await sessions.create('acme', credential);
    const key = storeKey(created.id);
    const stored = JSON.parse((await cache.get(key)) as string) as { credential: string };
    const bytes = Buffer.from(stored.credential, 'base64url');
    bytes[14] = (bytes[14] as number) ^ 1;
    await cache.set(key, JSON.stringify({ ...stored, credential: bytes.toString('base64url') }));
    expect(await sessions.find(created.id)).toBeUndefined();
    await cache.set(key, 'not json');
    expect(await sessions.find(created.id)).toBeUndefined();
  });
});

describe('csrfTokenMatches', () => {
  const session = {
    tenant: 'acme',
    credential,
    csrfToken: 'the-token',
    expiresAt: new Date(),
  };

  it('takes the token and nothing else', () => {
    expect(csrfTokenMatches(session, 'the-token')).toBe(true);
    for (const given of [undefined, '', 'the-token ', 'the-toke', 'THE-TOKEN']) {
      expect(csrfTokenMatches(session, given)).toBe(false);
    }
  });
});
