/**
 * Sessions in Redis (REDIS_URL configured), on the real Redis: login, refresh rotation,
 * reuse detection revoking the family, logout, session lists, revoking every session of a
 * user, and a second instance seeing a revocation at once.
 */
import request from 'supertest';
import type { IdentityService } from '../../api/services/identity/service';
import {
  adminHeader,
  insertTenant,
  openIdentityHarness,
  type IdentityHarness,
} from './helpers/identity';

interface Tokens {
  access_token: string;
  refresh_token: string;
  session_id: string;
}

const password = 'velvet orchid trombone 42';
let h: IdentityHarness;
let other: IdentityService;

beforeAll(async () => {
  h = await openIdentityHarness('identity_redis', { sessions: 'redis' });
  other = await h.another();
  await insertTenant(h.db, 'acme');
  for (const email of ['ann@acme.test', 'bo@acme.test', 'cy@acme.test']) {
    await request(h.app)
      .post('/v1/tenants/acme/users')
      .set(adminHeader)
      .send({ email, role: 'policy-author', password })
      .expect(201);
  }
});
afterAll(async () => {
  await h.close();
});

async function login(email: string): Promise<Tokens> {
  const res = await request(h.app)
    .post('/v1/auth/login')
    .send({ tenant: 'acme', email, password })
    .expect(200);
  return res.body as Tokens;
}

function refresh(token: string) {
  return request(h.app).post('/v1/auth/refresh').send({ refresh_token: token });
}

it('keeps sessions in Redis, not in the database', async () => {
  expect(h.identity.sessions.kind).toBe('redis');
  const tokens = await login('ann@acme.test');
  expect(await h.db.knex('sessions').count<{ count: string }[]>('* as count')).toEqual([
    { count: '0' },
  ]);
  await other.verify(tokens.access_token);
});

it('rotates refresh tokens and revokes the family when a rotated one comes back', async () => {
  const first = await login('ann@acme.test');
  const second = (await refresh(first.refresh_token).expect(200)).body as Tokens;
  expect(second.session_id).toBe(first.session_id);
  await h.identity.verify(second.access_token);
  await refresh(first.refresh_token).expect(401);
  // Revoked for every instance, at once.
  await expect(other.verify(second.access_token)).rejects.toThrow(/session/);
  await refresh(second.refresh_token).expect(401);
});

it('lets one of two concurrent refreshes through', async () => {
  const tokens = await login('bo@acme.test');
  const results = await Promise.all([refresh(tokens.refresh_token), refresh(tokens.refresh_token)]);
  expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
});

it('lists, revokes and logs out sessions', async () => {
  const a = await login('cy@acme.test');
  const b = await login('cy@acme.test');
  const list = await request(h.app)
    .get('/v1/auth/sessions')
    .set({ Authorization: `Bearer ${a.access_token}` })
    .expect(200);
  const ids = (list.body as { sessions: { id: string }[] }).sessions.map((s) => s.id);
  expect(ids.sort()).toEqual([a.session_id, b.session_id].sort());
  await request(h.app)
    .post('/v1/auth/logout')
    .set({ Authorization: `Bearer ${b.access_token}` })
    .expect(204);
  await expect(other.verify(b.access_token)).rejects.toThrow(/session/);
  await other.verify(a.access_token);
});

it('ends every session of a user who is disabled', async () => {
  const a = await login('bo@acme.test');
  const b = await login('bo@acme.test');
  const principal = await h.identity.verify(a.access_token);
  expect(await h.identity.sessions.revokeForUser(principal.id, 'test', new Date())).toBe(2);
  await expect(h.identity.verify(a.access_token)).rejects.toThrow(/session/);
  await expect(h.identity.verify(b.access_token)).rejects.toThrow(/session/);
  expect(await h.identity.sessions.listForUser(principal.id, new Date())).toEqual([]);
  expect(await h.identity.sessions.revoke(principal.sessionId as string, 'x', new Date())).toBe(
    false,
  );
});
