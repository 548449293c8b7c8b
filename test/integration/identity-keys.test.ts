/**
 * Keys behind identity, on the real Postgres: access-token signing keys rotate (by hand and
 * when too old) while tokens of the old key keep verifying until they expire; data keys
 * rotate and `reEncryptAll` moves every encrypted value (e-mail, TOTP secret, signing key)
 * under the new key, keeping what decrypts; users from before encryption are sealed when
 * the service opens.
 */
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { FieldCipher, parseDataKeys } from '../../api/services/identity/data-keys';
import { openIdentity } from '../../api/services/identity';
import { reEncryptAll } from '../../api/services/identity/re-encrypt';
import { UserDirectory } from '../../api/services/identity/users';
import {
  adminHeader,
  insertTenant,
  openIdentityHarness,
  type IdentityHarness,
} from './helpers/identity';
import { silentLogger, testConfig } from './helpers/services';

const password = 'velvet orchid trombone 42';
let h: IdentityHarness;

beforeAll(async () => {
  h = await openIdentityHarness('identity_keys', { settings: { signingKeyRotationDays: 30 } });
  await insertTenant(h.db, 'acme');
  await request(h.app)
    .post('/v1/tenants/acme/users')
    .set(adminHeader)
    .send({ email: 'ann@acme.test', role: 'auditor', password })
    .expect(201);
});
afterAll(async () => {
  await h.close();
});

async function accessToken(): Promise<string> {
  const res = await request(h.app)
    .post('/v1/auth/login')
    .send({ tenant: 'acme', email: 'ann@acme.test', password })
    .expect(200);
  return (res.body as { access_token: string }).access_token;
}

function kidOf(token: string): string {
  const header = JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()) as {
    kid: string;
  };
  return header.kid;
}

describe('signing keys', () => {
  it('signs with the new key after a rotation; the old one verifies until its tokens expire', async () => {
    const before = await accessToken();
    const oldKid = kidOf(before);
    const newKid = await h.identity.signingKeys.rotate();
    expect(newKid).not.toBe(oldKid);
    const after = await accessToken();
    expect(kidOf(after)).toBe(newKid);
    // Another instance, which cached the old key set, learns the new kid when it meets it.
    const other = await h.another();
    await other.verify(before);
    await other.verify(after);
    const { keys } = await h.identity.signingKeys.jwks();
    expect(keys.map((k) => k.kid).sort()).toEqual([oldKid, newKid].sort());
    // Ten minutes on, the old key has nothing left to verify.
    h.clock.advance(600_000 + 1);
    expect(await h.identity.signingKeys.verificationKey(oldKid)).toBeUndefined();
    expect((await h.identity.signingKeys.jwks()).keys.map((k) => k.kid)).toEqual([newKid]);
    const fresh = await accessToken();
    expect(kidOf(fresh)).toBe(newKid);
  });

  it('replaces the signing key by itself once it is older than the rotation interval', async () => {
    const kid = kidOf(await accessToken());
    h.clock.advance(30 * 24 * 3600_000);
    const rotated = kidOf(await accessToken());
    expect(rotated).not.toBe(kid);
    const rows = await h.db.knex('signing_keys').whereNull('retired_at').select('kid');
    expect(rows).toEqual([{ kid: rotated }]);
    const stored = await h.db
      .knex('signing_keys')
      .where({ kid: rotated })
      .first<{ private_key: string; public_key: string }>();
    expect(stored.private_key).toMatch(/^v1:k1:/);
    expect(stored.public_key).toMatch(/^-----BEGIN PUBLIC KEY-----/);
  });
});

describe('data keys', () => {
  it('re-encrypts every value under the new key; the old key may then go', async () => {
    // Put a TOTP secret in place too.
    const token = await accessToken();
    await request(h.app)
      .post('/v1/users/me/mfa')
      .set({ Authorization: `Bearer ${token}` })
      .expect(201);
    const k1 = (h.cipher as unknown as { keys: Map<string, Buffer> }).keys.get('k1') as Buffer;
    const indexKey = (h.cipher as unknown as { indexKey: Buffer }).indexKey;
    const keys = JSON.stringify({
      k1: k1.toString('base64'),
      k2: randomBytes(32).toString('base64'),
    });
    // A new blind-index key too: the e-mail indexes are recomputed on the way.
    const newIndex = randomBytes(32).toString('base64');
    expect(newIndex).not.toBe(indexKey.toString('base64'));
    const rotated = new FieldCipher(parseDataKeys(keys, 'k2', newIndex));
    const reports = await reEncryptAll(h.db.knex, rotated);
    const signingKeys = Number(
      (await h.db.knex('signing_keys').count<{ count: string }[]>('* as count'))[0]?.count,
    );
    expect(reports).toEqual([
      { column: 'users.email', scanned: 1, rewritten: 1 },
      { column: 'user_mfa.secret', scanned: 1, rewritten: 1 },
      { column: 'signing_keys.private_key', scanned: signingKeys, rewritten: signingKeys },
    ]);
    // A second run finds nothing to do.
    expect((await reEncryptAll(h.db.knex, rotated)).map((r) => r.rewritten)).toEqual([0, 0, 0]);
    for (const [table, column] of [
      ['users', 'email'],
      ['user_mfa', 'secret'],
      ['signing_keys', 'private_key'],
    ] as const) {
      const values = (await h.db.knex(table).pluck(column)) as string[];
      for (const value of values) expect(value).toMatch(/^v1:k2:/);
    }
    // Only k2 and the new index key are needed now: the user is found and decrypted.
    const onlyK2 = new FieldCipher(
      parseDataKeys(
        JSON.stringify({ k2: (JSON.parse(keys) as { k2: string }).k2 }),
        'k2',
        newIndex,
      ),
    );
    const tenant = await h.db.knex('tenants').where({ slug: 'acme' }).first<{ id: string }>('id');
    const directory = new UserDirectory(h.db.knex, onlyK2);
    const user = await directory.findByEmail(tenant.id, 'ANN@acme.test');
    expect(user === undefined ? undefined : directory.email(user)).toBe('ann@acme.test');
  });

  it('seals the plaintext e-mail of users from before encryption when the service opens', async () => {
    const tenantId = (
      await h.db.knex('tenants').where({ slug: 'acme' }).first<{ id: string }>('id')
    ).id;
    await h.db.knex('users').insert({
      tenant_id: tenantId,
      email: 'Legacy@Acme.test',
      role: 'auditor',
    });
    const dataKeys = JSON.stringify({ k3: randomBytes(32).toString('base64') });
    const index = randomBytes(32).toString('base64');
    // openIdentity seals the legacy row with the configured keys when it starts.
    const config = testConfig({
      DATABASE_URL: h.database.url,
      VERDICT_DATA_KEYS: dataKeys,
      VERDICT_DATA_KEY_ID: 'k3',
      VERDICT_BLIND_INDEX_KEY: index,
    });
    const service = await openIdentity({ config, knex: h.db.knex, logger: silentLogger });
    try {
      const legacy = await service.users.findByEmail(tenantId, 'legacy@acme.test');
      expect(legacy?.email).toMatch(/^v1:k3:/);
      expect(service.users.email(legacy as { id: string; email: string })).toBe('Legacy@Acme.test');
    } finally {
      await service.close();
    }
  });
});
