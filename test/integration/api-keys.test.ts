/**
 * Tenant API keys on the real Postgres: creation shows the key once and stores only a hash,
 * verification accepts exactly the key it issued, and revocation, expiry and the
 * once-a-minute `last_used_at` write behave as documented, including across two instances
 * whose caches differ: a key in use is re-read in the background once its entry is 15 s old
 * and never trusted once it is 30 s old. Time is a clock the test moves, never a sleep.
 */
import { createHash } from 'node:crypto';
import { isDatabaseOutage } from '../../api/db/breaker';
import { createKnex, openDatabase, type Database } from '../../api/db/database';
import { migrateUp } from '../../api/db/migrator';
import { ApiKey } from '../../api/models/api-key';
import { ApiKeyService, looksLikeApiKey } from '../../api/services/api-keys';
import { CircuitBreaker } from '../../api/services/breaker';
import { TenantService } from '../../api/services/tenants';
import { VerdictError } from '../../api/errors';
import {
  capturingLogger,
  createTestDatabase,
  postgresUrl,
  silentLogger,
  testConfig,
  type TestDatabase,
} from './helpers/services';
import { TcpProxy } from '../helpers/tcp-proxy';

let database: TestDatabase;
let db: Database;
let tenants: TenantService;
let acmeId: string;
let globexId: string;

/** A clock the test moves by hand. */
function manualClock(start = Date.parse('2026-11-27T12:00:00Z')): {
  now: () => number;
  advance: (ms: number) => void;
} {
  let current = start;
  return {
    now: () => current,
    advance: (ms) => {
      current += ms;
    },
  };
}

function service(clock: () => number, cacheMaxAgeMs = 30_000): ApiKeyService {
  return new ApiKeyService({ knex: db.knex, logger: silentLogger, clock, cacheMaxAgeMs });
}

/** Counts the reads of api_keys (verification) the knex of the test database sends. */
async function countingKeyReads<T>(fn: () => Promise<T>): Promise<{ result: T; reads: number }> {
  let reads = 0;
  const onQuery = (q: { sql: string }): void => {
    if (q.sql.includes('api_keys') && q.sql.startsWith('select')) reads++;
  };
  db.knex.on('query', onQuery);
  try {
    return { result: await fn(), reads };
  } finally {
    db.knex.off('query', onQuery);
  }
}

beforeAll(async () => {
  database = await createTestDatabase('apikeys');
  db = await openDatabase(testConfig({ DATABASE_URL: database.url }), silentLogger);
  await migrateUp(db);
  tenants = new TenantService(db.knex);
  acmeId = (await tenants.create({ slug: 'acme', name: 'Acme' })).id;
  globexId = (await tenants.create({ slug: 'globex', name: 'Globex' })).id;
});
afterAll(async () => {
  await db.close();
  await database.drop();
});

describe('creating a key', () => {
  it('returns the plain key once and stores only the hash of its secret', async () => {
    const clock = manualClock();
    const { key, plainKey } = await service(clock.now).create(acmeId, {
      name: 'checkout backend',
      scopes: ['decide', 'decide', 'audit:read'],
      expiresInSeconds: 3600,
    });
    expect(plainKey).toMatch(/^vdk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(looksLikeApiKey(plainKey)).toBe(true);
    expect(plainKey.startsWith(`vdk_${key.prefix}_`)).toBe(true);
    expect(key).toMatchObject({
      tenant_id: acmeId,
      name: 'checkout backend',
      scopes: ['decide', 'audit:read'],
      status: 'active',
      last_used_at: null,
      revoked_at: null,
    });
    expect(key.expires_at?.getTime()).toBe(clock.now() + 3600_000);
    expect(key).not.toHaveProperty('secret_hash');

    const row = (await db.knex('api_keys').where({ id: key.id }).first()) as Record<
      string,
      unknown
    >;
    const secret = plainKey.slice(`vdk_${key.prefix}_`.length);
    expect(row.secret_hash).toBe(createHash('sha256').update(secret).digest('hex'));
    expect(JSON.stringify(row)).not.toContain(secret);
  });

  it('gives every key a different prefix and secret', async () => {
    const keys = service(Date.now);
    const made = await Promise.all(
      Array.from({ length: 20 }, () => keys.create(acmeId, { name: 'n', scopes: ['decide'] })),
    );
    expect(new Set(made.map((m) => m.key.prefix)).size).toBe(20);
    expect(new Set(made.map((m) => m.plainKey)).size).toBe(20);
  });

  it('refuses scopes it does not know before reaching the database', async () => {
    await expect(
      service(Date.now).create(acmeId, { name: 'n', scopes: ['root' as 'decide'] }),
    ).rejects.toThrow(/scopes/);
  });
});

describe('verifying a key', () => {
  it('accepts the key it issued, with its tenant and scopes', async () => {
    const keys = service(Date.now);
    const { key, plainKey } = await keys.create(acmeId, {
      name: 'n',
      scopes: ['decide', 'bundles:write'],
    });
    expect(await keys.verify(plainKey)).toEqual({
      ok: true,
      principal: {
        tenantId: acmeId,
        tenantSlug: 'acme',
        keyId: key.id,
        scopes: ['decide', 'bundles:write'],
      },
    });
  });

  it('refuses malformed keys, unknown prefixes and wrong secrets alike', async () => {
    const keys = service(Date.now);
    const { plainKey } = await keys.create(acmeId, { name: 'n', scopes: ['decide'] });
    const last = plainKey.at(-1) === 'A' ? 'B' : 'A';
    const wrongSecret = `${plainKey.slice(0, -1)}${last}`;
    const unknownPrefix = plainKey.replace(/^vdk_[0-9a-f]{12}/, 'vdk_000000000000');
    for (const bad of ['', 'vdk_', 'Bearer x', `${plainKey}x`, plainKey.toUpperCase()]) {
      expect(await keys.verify(bad)).toEqual({ ok: false, reason: 'malformed' });
    }
    expect(await keys.verify(wrongSecret)).toEqual({ ok: false, reason: 'unknown' });
    expect(await keys.verify(unknownPrefix)).toEqual({ ok: false, reason: 'unknown' });
    // Once cached, the wrong secret is still refused: the cache holds the hash, not a verdict.
    expect(await keys.verify(wrongSecret)).toEqual({ ok: false, reason: 'unknown' });
    expect((await keys.verify(plainKey)).ok).toBe(true);
  });

  it('reads Postgres once for many concurrent first uses of a key', async () => {
    const keys = service(Date.now);
    const { plainKey } = await keys.create(acmeId, { name: 'n', scopes: ['decide'] });
    const { result, reads } = await countingKeyReads(async () => {
      const results = await Promise.all(Array.from({ length: 25 }, () => keys.verify(plainKey)));
      return [...results, await keys.verify(plainKey)];
    });
    expect(result.every((r) => r.ok)).toBe(true);
    expect(reads).toBe(1);
  });

  it('answers a key in use from its entry while one background read renews it', async () => {
    const clock = manualClock();
    const keys = service(clock.now);
    const { plainKey } = await keys.create(acmeId, { name: 'n', scopes: ['decide'] });
    expect((await keys.verify(plainKey)).ok).toBe(true);
    clock.advance(20_000);
    const { result, reads } = await countingKeyReads(async () => {
      const results = await Promise.all(Array.from({ length: 25 }, () => keys.verify(plainKey)));
      await keys.flush();
      // Renewed 20 s after the first read: young again, no read for the next 15 s.
      clock.advance(14_999);
      return [...results, await keys.verify(plainKey)];
    });
    expect(result.every((r) => r.ok)).toBe(true);
    expect(reads).toBe(1);
  });

  it('keeps a key working while Postgres is unreachable only until its entry is 30 s old', async () => {
    const clock = manualClock();
    const ownDb = await openDatabase(testConfig({ DATABASE_URL: database.url }), silentLogger);
    const keys = new ApiKeyService({ knex: ownDb.knex, logger: silentLogger, clock: clock.now });
    const { plainKey } = await keys.create(acmeId, { name: 'n', scopes: ['decide'] });
    expect((await keys.verify(plainKey)).ok).toBe(true);
    await keys.flush();
    await ownDb.close();
    // Re-reads fail in the background; the entry read at the start still answers.
    clock.advance(20_000);
    expect((await keys.verify(plainKey)).ok).toBe(true);
    await keys.flush();
    clock.advance(10_000);
    expect((await keys.verify(plainKey)).ok).toBe(true);
    await keys.flush();
    clock.advance(1);
    await expect(keys.verify(plainKey)).rejects.toThrow();
  });

  it('refuses an expired key from the moment it expires, cached or not', async () => {
    const clock = manualClock();
    const keys = service(clock.now, 3_600_000);
    const { plainKey } = await keys.create(acmeId, {
      name: 'n',
      scopes: ['decide'],
      expiresInSeconds: 60,
    });
    expect((await keys.verify(plainKey)).ok).toBe(true);
    clock.advance(59_999);
    expect((await keys.verify(plainKey)).ok).toBe(true);
    clock.advance(1);
    expect(await keys.verify(plainKey)).toEqual({ ok: false, reason: 'expired' });
    expect(await service(clock.now).verify(plainKey)).toEqual({ ok: false, reason: 'expired' });
    expect((await keys.list(acmeId)).find((k) => plainKey.includes(k.prefix))?.status).toBe(
      'expired',
    );
  });

  it('writes last_used_at at most once a minute per key', async () => {
    const clock = manualClock();
    const keys = service(clock.now, 3_600_000);
    const { key, plainKey } = await keys.create(acmeId, { name: 'n', scopes: ['decide'] });
    const lastUsed = async (): Promise<number | undefined> => {
      await keys.flush();
      const row = await ApiKey.query(db.knex).findById(key.id);
      return row?.last_used_at?.getTime();
    };
    const start = clock.now();
    await keys.verify(plainKey);
    expect(await lastUsed()).toBe(start);
    clock.advance(30_000);
    await keys.verify(plainKey);
    expect(await lastUsed()).toBe(start);
    // Another instance with its own memory is held back by the condition in the database.
    const other = service(clock.now);
    await other.verify(plainKey);
    await other.flush();
    expect(await lastUsed()).toBe(start);
    clock.advance(30_000);
    await keys.verify(plainKey);
    expect(await lastUsed()).toBe(start + 60_000);
  });

  it('does not record use of a key that fails verification', async () => {
    const keys = service(Date.now);
    const { key, plainKey } = await keys.create(acmeId, { name: 'n', scopes: ['decide'] });
    await keys.verify(`${plainKey.slice(0, -1)}${plainKey.at(-1) === 'A' ? 'B' : 'A'}`);
    await keys.flush();
    expect((await ApiKey.query(db.knex).findById(key.id))?.last_used_at).toBeNull();
  });

  it('logs a failed last_used_at write instead of failing the request', async () => {
    const { logger, lines } = capturingLogger();
    const brokenDb = await openDatabase(testConfig({ DATABASE_URL: database.url }), silentLogger);
    const keys = new ApiKeyService({ knex: brokenDb.knex, logger });
    const { plainKey } = await keys.create(acmeId, { name: 'n', scopes: ['decide'] });
    await brokenDb.knex.raw('alter table api_keys rename column last_used_at to last_used_at_x');
    try {
      expect((await keys.verify(plainKey)).ok).toBe(true);
      await keys.flush();
      expect(lines().filter((l) => l.msg === 'could not record API key use')).toHaveLength(1);
    } finally {
      await brokenDb.knex.raw('alter table api_keys rename column last_used_at_x to last_used_at');
      await brokenDb.close();
    }
  });
});

describe('revoking a key', () => {
  it('takes effect at once here, and on another instance once its entry is renewed', async () => {
    const clock = manualClock();
    const here = service(clock.now);
    const elsewhere = service(clock.now);
    const { key, plainKey } = await here.create(acmeId, { name: 'n', scopes: ['decide'] });
    expect((await here.verify(plainKey)).ok).toBe(true);
    expect((await elsewhere.verify(plainKey)).ok).toBe(true);

    const revoked = await here.revoke(acmeId, key.id);
    expect(revoked?.status).toBe('revoked');
    expect(revoked?.revoked_at?.getTime()).toBe(clock.now());
    expect(await here.verify(plainKey)).toEqual({ ok: false, reason: 'revoked' });
    // The other instance trusts its entry as read while it is young...
    clock.advance(14_999);
    expect((await elsewhere.verify(plainKey)).ok).toBe(true);
    // ...answers from it once more when it is 15 s old, renewing it in the background...
    clock.advance(1);
    expect((await elsewhere.verify(plainKey)).ok).toBe(true);
    await elsewhere.flush();
    // ...and refuses the key from then on.
    expect(await elsewhere.verify(plainKey)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('is refused on another instance once its entry is 30 s old, asked in between or not', async () => {
    const clock = manualClock();
    const here = service(clock.now);
    const elsewhere = service(clock.now);
    const { key, plainKey } = await here.create(acmeId, { name: 'n', scopes: ['decide'] });
    expect((await elsewhere.verify(plainKey)).ok).toBe(true);
    await here.revoke(acmeId, key.id);
    clock.advance(30_000);
    expect((await elsewhere.verify(plainKey)).ok).toBe(true);
    clock.advance(1);
    expect(await elsewhere.verify(plainKey)).toEqual({ ok: false, reason: 'revoked' });
    // A third instance, asked first 30 s after its read, never answers from the old row.
    const third = service(clock.now);
    const { key: other, plainKey: otherKey } = await here.create(acmeId, {
      name: 'm',
      scopes: ['decide'],
    });
    expect((await third.verify(otherKey)).ok).toBe(true);
    await here.revoke(acmeId, other.id);
    clock.advance(30_001);
    expect(await third.verify(otherKey)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('keeps the first revocation time and answers undefined for keys it does not have', async () => {
    const clock = manualClock();
    const keys = service(clock.now);
    const { key } = await keys.create(acmeId, { name: 'n', scopes: ['decide'] });
    const first = await keys.revoke(acmeId, key.id);
    clock.advance(5000);
    const second = await keys.revoke(acmeId, key.id);
    expect(second?.revoked_at).toEqual(first?.revoked_at);
    // Another tenant's key, an unknown id, and something that is not an id at all.
    expect(await keys.revoke(globexId, key.id)).toBeUndefined();
    expect(await keys.revoke(acmeId, '00000000-0000-0000-0000-000000000000')).toBeUndefined();
    expect(await keys.revoke(acmeId, 'not-a-uuid')).toBeUndefined();
  });
});

describe('listing keys', () => {
  it("lists only the tenant's own keys, newest first, never a secret", async () => {
    const clock = manualClock(Date.parse('2030-01-01T00:00:00Z'));
    const keys = service(clock.now);
    const first = await keys.create(globexId, { name: 'first', scopes: ['decide'] });
    clock.advance(1000);
    const second = await keys.create(globexId, { name: 'second', scopes: ['audit:read'] });
    await keys.revoke(globexId, first.key.id);
    const listed = await keys.list(globexId);
    expect(listed.map((k) => [k.name, k.status])).toEqual([
      ['second', 'active'],
      ['first', 'revoked'],
    ]);
    expect(listed.every((k) => k.tenant_id === globexId)).toBe(true);
    const text = JSON.stringify(listed);
    expect(text).not.toContain('secret_hash');
    expect(text).not.toContain(second.plainKey.slice(-43));
  });
});

describe('tenants', () => {
  it('finds a tenant by slug or id, and refuses a slug that is taken', async () => {
    expect((await tenants.find('acme'))?.id).toBe(acmeId);
    expect((await tenants.find(acmeId))?.slug).toBe('acme');
    expect(await tenants.find('nobody')).toBeUndefined();
    expect(await tenants.find('00000000-0000-0000-0000-000000000000')).toBeUndefined();
    const taken = await tenants.create({ slug: 'acme', name: 'Again' }).catch((e: unknown) => e);
    expect(taken).toBeInstanceOf(VerdictError);
    expect((taken as VerdictError).code).toBe('conflict');
    expect((await tenants.list()).map((t) => t.slug)).toEqual(['acme', 'globex']);
  });

  it('passes on database failures other than a taken slug', async () => {
    const closed = await openDatabase(testConfig({ DATABASE_URL: database.url }), silentLogger);
    await closed.close();
    const failure = await new TenantService(closed.knex)
      .create({ slug: 'later', name: 'Later' })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(VerdictError);
  });
});

describe('while the database is down (its breaker open)', () => {
  it('keeps serving keys verified before the outage past 30 s, and only those', async () => {
    const clock = manualClock();
    const direct = service(clock.now);
    const known = (await direct.create(acmeId, { name: 'outage known', scopes: ['decide'] }))
      .plainKey;
    const unseen = (await direct.create(acmeId, { name: 'outage unseen', scopes: ['decide'] }))
      .plainKey;
    // This instance reaches Postgres through a proxy the test cuts.
    const upstream = new URL(postgresUrl);
    const proxy = await TcpProxy.start({ host: upstream.hostname, port: Number(upstream.port) });
    const viaProxy = new URL(database.url);
    viaProxy.port = String(proxy.port);
    const knex = createKnex(viaProxy.toString(), 2, silentLogger);
    const breaker = new CircuitBreaker({
      name: 'database',
      failureThreshold: 1,
      openMs: 5000,
      isFailure: isDatabaseOutage,
      clock: clock.now,
    });
    const keys = new ApiKeyService({ knex, logger: silentLogger, clock: clock.now, breaker });
    const unguarded = new ApiKeyService({ knex, logger: silentLogger, clock: clock.now });
    try {
      expect(await keys.verify(known)).toMatchObject({ ok: true });
      expect(await unguarded.verify(known)).toMatchObject({ ok: true });
      proxy.cut();
      clock.advance(31_000);
      // Without the breaker the 30 s rule holds: the key cannot be checked.
      await expect(unguarded.verify(known)).rejects.toThrow();
      // With it, the failed read opens the breaker and the key verified before stays usable.
      expect(await keys.verify(known)).toMatchObject({ ok: true });
      expect(breaker.state).toBe('open');
      clock.advance(10 * 60_000);
      expect(await keys.verify(known)).toMatchObject({ ok: true });
      await keys.flush();
      // A key this instance never verified still needs the database.
      await expect(keys.verify(unseen)).rejects.toThrow();

      // Revoked during the outage (elsewhere); once the database is back, the first read
      // (the breaker's probe) replaces the held value and the 30 s rule holds again.
      const summary = (await direct.list(acmeId)).find((k) => k.name === 'outage known');
      await direct.revoke(acmeId, summary?.id ?? '');
      proxy.restore();
      clock.advance(5000);
      await keys.verify(known); // served from the held value; its background read is the probe
      await keys.flush();
      expect(breaker.state).toBe('closed');
      expect(await keys.verify(known)).toEqual({ ok: false, reason: 'revoked' });
    } finally {
      await keys.flush();
      await knex.destroy();
      await proxy.close();
    }
  });
});
