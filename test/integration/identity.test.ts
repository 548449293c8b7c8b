/**
 * Platform identity over real HTTP on the real Postgres (sessions in the database; the same
 * flows with Redis sessions are in identity-redis.test.ts): users created by an admin, login,
 * refresh rotation and reuse detection, logout, lockout engaging and releasing, MFA with
 * single-use codes and recovery codes, invitations, password changes, session lists, and
 * platform admins.
 */
import request from 'supertest';
import { hotp, base32Decode, totpStep } from '../../api/services/identity/totp';
import {
  adminHeader,
  insertTenant,
  openIdentityHarness,
  type IdentityHarness,
} from './helpers/identity';

interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  token_type: string;
  session_id: string;
  mfa_required?: boolean;
}

let h: IdentityHarness;
let acmeId: string;

beforeAll(async () => {
  h = await openIdentityHarness('identity');
  acmeId = await insertTenant(h.db, 'acme');
  await insertTenant(h.db, 'globex');
});
afterAll(async () => {
  await h.close();
});

const strongPassword = 'velvet orchid trombone 42';

async function createUser(
  email: string,
  role = 'policy-author',
  extra: Record<string, unknown> = { password: strongPassword },
  tenant = 'acme',
): Promise<{ id: string }> {
  const res = await request(h.app)
    .post(`/v1/tenants/${tenant}/users`)
    .set(adminHeader)
    .send({ email, role, ...extra })
    .expect(201);
  return (res.body as { user: { id: string } }).user;
}

/** Logs in to `tenant`; null logs in as a platform admin (no tenant). */
function login(email: string, password = strongPassword, tenant: string | null = 'acme') {
  return request(h.app)
    .post('/v1/auth/login')
    .send({ ...(tenant === null ? {} : { tenant }), email, password });
}

async function loginTokens(email: string, password = strongPassword): Promise<Tokens> {
  const res = await login(email, password).expect(200);
  return res.body as Tokens;
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe('users and login', () => {
  it('creates a user with an encrypted e-mail and logs in with a token pair', async () => {
    const user = await createUser('Ann@Acme.test', 'tenant-admin', {
      password: strongPassword,
      display_name: 'Ann',
    });
    const row = await h.db
      .knex('users')
      .where({ id: user.id })
      .first<{ email: string; role: string }>();
    expect(row.email).toMatch(/^v1:k1:/);
    expect(row.email).not.toMatch(/ann/i);
    expect(row.role).toBe('tenant-admin');

    // The e-mail matches whatever its case and surrounding blanks.
    const res = await login('  ann@ACME.test ').expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const tokens = res.body as Tokens;
    expect(tokens).toMatchObject({ mfa_required: false, token_type: 'Bearer', expires_in: 600 });
    expect(tokens.refresh_token).toMatch(/^vrt_[A-Za-z0-9_-]{43}$/);
    const principal = await h.identity.verify(tokens.access_token);
    expect(principal).toEqual({
      kind: 'user',
      id: user.id,
      tenantId: acmeId,
      roles: ['tenant-admin'],
      scopes: [],
      sessionId: tokens.session_id,
      mfa: false,
    });
    const me = await request(h.app)
      .get('/v1/users/me')
      .set(bearer(tokens.access_token))
      .expect(200);
    expect(me.body).toMatchObject({
      email: 'Ann@Acme.test',
      role: 'tenant-admin',
      status: 'active',
      mfa_enabled: false,
    });
    expect(me.body).not.toHaveProperty('password_hash');
  });

  it('lists and disables users; a disabled user cannot log in and their sessions end', async () => {
    const user = await createUser('dan@acme.test', 'auditor');
    const tokens = await loginTokens('dan@acme.test');
    const list = await request(h.app).get('/v1/tenants/acme/users').set(adminHeader).expect(200);
    const emails = (list.body as { users: { email: string }[] }).users.map((u) => u.email);
    expect(emails).toContain('dan@acme.test');
    // Another tenant's list does not show acme's users.
    const other = await request(h.app).get('/v1/tenants/globex/users').set(adminHeader).expect(200);
    expect(other.body).toEqual({ users: [] });

    const disabled = await request(h.app)
      .delete(`/v1/tenants/acme/users/${user.id}`)
      .set(adminHeader)
      .expect(200);
    expect(disabled.body).toMatchObject({ status: 'disabled' });
    await expect(h.identity.verify(tokens.access_token)).rejects.toThrow(/session/);
    const res = await login('dan@acme.test').expect(401);
    expect((res.body as { detail: string }).detail).toMatch(/^Invalid credentials/);
    // A user of another tenant is not found through this one.
    await request(h.app).delete(`/v1/tenants/globex/users/${user.id}`).set(adminHeader).expect(404);
    await request(h.app).delete('/v1/tenants/acme/users/not-a-uuid').set(adminHeader).expect(404);
  });

  it('refuses duplicates, weak passwords, bad roles and unknown fields', async () => {
    await createUser('eve@acme.test');
    const dup = await request(h.app)
      .post('/v1/tenants/acme/users')
      .set(adminHeader)
      .send({ email: 'EVE@acme.test', role: 'auditor', password: strongPassword })
      .expect(409);
    expect((dup.body as { code: string }).code).toBe('conflict');
    // The same address is free in another tenant.
    await createUser('eve@acme.test', 'auditor', { password: strongPassword }, 'globex');

    const weak = await request(h.app)
      .post('/v1/tenants/acme/users')
      .set(adminHeader)
      .send({ email: 'fay@acme.test', role: 'auditor', password: 'Password1234!' })
      .expect(400);
    expect((weak.body as { detail: string }).detail).toMatch(/too easy to guess/);
    const admin = await request(h.app)
      .post('/v1/tenants/acme/users')
      .set(adminHeader)
      .send({ email: 'fay@acme.test', role: 'platform-admin', password: strongPassword })
      .expect(400);
    expect((admin.body as { detail: string }).detail).toMatch(/cannot be a platform admin/);
    const unknown = await request(h.app)
      .post('/v1/tenants/acme/users')
      .set(adminHeader)
      .send({ email: 'fay@acme.test', role: 'auditor', is_admin: true })
      .expect(400);
    expect((unknown.body as { detail: string }).detail).toMatch(/is_admin is not a known property/);
    await request(h.app)
      .post('/v1/tenants/nope/users')
      .set(adminHeader)
      .send({ email: 'fay@acme.test', role: 'auditor' })
      .expect(404);
    await request(h.app)
      .post('/v1/tenants/acme/users')
      .send({ email: 'fay@acme.test', role: 'auditor' })
      .expect(401);
  });

  it('answers every kind of bad login alike', async () => {
    await createUser('gil@acme.test');
    const answers = await Promise.all([
      login('gil@acme.test', 'wrong password entirely'),
      login('nobody@acme.test'),
      login('gil@acme.test', strongPassword, 'no-such-tenant'),
      login('gil@acme.test', strongPassword, 'globex'),
      login('gil@acme.test', strongPassword, null),
    ]);
    for (const res of answers) {
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({
        code: 'unauthorized',
        detail: 'Invalid credentials: check the tenant, e-mail address and password.',
      });
    }
  });
});

describe('refresh tokens', () => {
  it('rotates on every use; reusing a rotated one revokes the whole session', async () => {
    await createUser('hal@acme.test');
    const first = await loginTokens('hal@acme.test');
    const second = (
      await request(h.app)
        .post('/v1/auth/refresh')
        .send({ refresh_token: first.refresh_token })
        .expect(200)
    ).body as Tokens;
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.session_id).toBe(first.session_id);
    const third = (
      await request(h.app)
        .post('/v1/auth/refresh')
        .send({ refresh_token: second.refresh_token })
        .expect(200)
    ).body as Tokens;
    await h.identity.verify(third.access_token);

    // An attacker replays the first token: the session ends, for everyone holding it.
    const reuse = await request(h.app)
      .post('/v1/auth/refresh')
      .send({ refresh_token: first.refresh_token })
      .expect(401);
    expect((reuse.body as { detail: string }).detail).toMatch(/used before.*revoked/);
    await expect(h.identity.verify(third.access_token)).rejects.toThrow(/session/);
    await request(h.app)
      .post('/v1/auth/refresh')
      .send({ refresh_token: third.refresh_token })
      .expect(401);
  });

  it('lets exactly one of two concurrent uses of a token through', async () => {
    await createUser('ida@acme.test');
    const tokens = await loginTokens('ida@acme.test');
    const results = await Promise.all(
      [1, 2].map(() =>
        request(h.app).post('/v1/auth/refresh').send({ refresh_token: tokens.refresh_token }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
  });

  it('refuses unknown and malformed refresh tokens and stops at the session end', async () => {
    await request(h.app)
      .post('/v1/auth/refresh')
      .send({ refresh_token: `vrt_${'A'.repeat(43)}` })
      .expect(401);
    await request(h.app).post('/v1/auth/refresh').send({ refresh_token: 'nope' }).expect(401);
    await request(h.app).post('/v1/auth/refresh').send({}).expect(400);
    await createUser('jon@acme.test');
    const tokens = await loginTokens('jon@acme.test');
    h.clock.advance(7 * 24 * 3600_000 + 1);
    await request(h.app)
      .post('/v1/auth/refresh')
      .send({ refresh_token: tokens.refresh_token })
      .expect(401);
  });
});

describe('logout and sessions', () => {
  it('logout ends the session at once', async () => {
    await createUser('kim@acme.test');
    const tokens = await loginTokens('kim@acme.test');
    await request(h.app).post('/v1/auth/logout').set(bearer(tokens.access_token)).expect(204);
    const after = await request(h.app)
      .get('/v1/users/me')
      .set(bearer(tokens.access_token))
      .expect(401);
    expect((after.body as { detail: string }).detail).toMatch(/session .* was ended/);
    await request(h.app)
      .post('/v1/auth/refresh')
      .send({ refresh_token: tokens.refresh_token })
      .expect(401);
    await request(h.app).post('/v1/auth/logout').expect(401);
  });

  it('lists a user’s own sessions and revokes one of them', async () => {
    await createUser('lea@acme.test');
    const laptop = await loginTokens('lea@acme.test');
    const phone = await loginTokens('lea@acme.test');
    const list = await request(h.app)
      .get('/v1/auth/sessions')
      .set(bearer(laptop.access_token))
      .expect(200);
    const sessions = (list.body as { sessions: { id: string; current: boolean }[] }).sessions;
    expect(sessions.map((s) => s.id).sort()).toEqual([laptop.session_id, phone.session_id].sort());
    expect(sessions.find((s) => s.current)?.id).toBe(laptop.session_id);
    await request(h.app)
      .delete(`/v1/auth/sessions/${phone.session_id}`)
      .set(bearer(laptop.access_token))
      .expect(204);
    await expect(h.identity.verify(phone.access_token)).rejects.toThrow(/session/);
    await h.identity.verify(laptop.access_token);
    // Nobody can end another user's session.
    await createUser('max@acme.test');
    const other = await loginTokens('max@acme.test');
    await request(h.app)
      .delete(`/v1/auth/sessions/${laptop.session_id}`)
      .set(bearer(other.access_token))
      .expect(404);
    await h.identity.verify(laptop.access_token);
  });

  it('changing the password ends every other session and needs the current password', async () => {
    await createUser('ned@acme.test');
    const here = await loginTokens('ned@acme.test');
    const there = await loginTokens('ned@acme.test');
    await request(h.app)
      .post('/v1/users/me/password')
      .set(bearer(here.access_token))
      .send({ current_password: 'not it at all', new_password: 'granite lantern mosaic 7' })
      .expect(403);
    const weak = await request(h.app)
      .post('/v1/users/me/password')
      .set(bearer(here.access_token))
      .send({ current_password: strongPassword, new_password: 'ned@acme.test123' })
      .expect(400);
    expect((weak.body as { field: string }).field).toBe('/new_password');
    await request(h.app)
      .post('/v1/users/me/password')
      .set(bearer(here.access_token))
      .send({ current_password: strongPassword, new_password: 'granite lantern mosaic 7' })
      .expect(204);
    await h.identity.verify(here.access_token);
    await expect(h.identity.verify(there.access_token)).rejects.toThrow(/session/);
    await login('ned@acme.test').expect(401);
    await login('ned@acme.test', 'granite lantern mosaic 7').expect(200);
  });
});

describe('lockout', () => {
  it('locks an account after 5 failures with a doubling delay, and releases it', async () => {
    await createUser('oli@acme.test');
    for (let i = 0; i < 4; i += 1)
      await login('oli@acme.test', 'wrong password number').expect(401);
    // The fifth failure locks for 1 s: even the right password is refused meanwhile.
    await login('oli@acme.test', 'wrong password number').expect(401);
    const locked = await login('oli@acme.test').expect(429);
    expect(locked.headers['retry-after']).toBe('1');
    expect((locked.body as { code: string }).code).toBe('too_many_requests');
    h.clock.advance(1000);
    // The sixth failure locks for 2 s.
    await login('oli@acme.test', 'wrong password number').expect(401);
    expect((await login('oli@acme.test').expect(429)).headers['retry-after']).toBe('2');
    h.clock.advance(2000);
    await login('oli@acme.test').expect(200);
    // A success starts the count afresh.
    await login('oli@acme.test', 'wrong password number').expect(401);
    await login('oli@acme.test').expect(200);
  });

  it('caps the delay at 15 minutes', () => {
    expect(h.identity.throttle.delayAfter(4)).toBe(0);
    expect(h.identity.throttle.delayAfter(5)).toBe(1000);
    expect(h.identity.throttle.delayAfter(9)).toBe(16_000);
    expect(h.identity.throttle.delayAfter(100)).toBe(15 * 60_000);
  });

  it('locks an unknown e-mail exactly like a known one', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1)
      statuses.push((await login('ghost@acme.test', 'whatever it is')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    h.clock.advance(1000);
    await login('ghost@acme.test', 'whatever it is').expect(401);
  });
});

describe('MFA', () => {
  /** The current code of the user's enrolled secret, as their phone would show it. */
  function codeFor(secret: string, offsetSteps = 0): string {
    return hotp(base32Decode(secret) as Buffer, totpStep(h.clock.now) + offsetSteps);
  }

  async function enrol(
    email: string,
  ): Promise<{ secret: string; recovery: string[]; tokens: Tokens }> {
    await createUser(email);
    const tokens = await loginTokens(email);
    const enrolment = await request(h.app)
      .post('/v1/users/me/mfa')
      .set(bearer(tokens.access_token))
      .expect(201);
    const { secret, otpauth_uri, qr_svg } = enrolment.body as {
      secret: string;
      otpauth_uri: string;
      qr_svg: string;
    };
    expect(otpauth_uri).toContain(`secret=${secret}`);
    expect(qr_svg).toMatch(/^<svg /);
    await request(h.app)
      .post('/v1/users/me/mfa/confirm')
      .set(bearer(tokens.access_token))
      .send({ code: '000000' === codeFor(secret) ? '111111' : '000000' })
      .expect(400);
    const confirmed = await request(h.app)
      .post('/v1/users/me/mfa/confirm')
      .set(bearer(tokens.access_token))
      .send({ code: codeFor(secret) })
      .expect(200);
    const recovery = (confirmed.body as { recovery_codes: string[] }).recovery_codes;
    expect(recovery).toHaveLength(10);
    expect(new Set(recovery).size).toBe(10);
    for (const code of recovery) expect(code).toMatch(/^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/);
    return { secret, recovery, tokens };
  }

  it('asks for a second factor; each code works once', async () => {
    const { secret } = await enrol('pia@acme.test');
    const stored = await h.db.knex('user_mfa').first<{ secret: string }>('secret');
    expect(stored.secret).toMatch(/^v1:k1:/);
    h.clock.advance(30_000);
    const step1 = (await login('pia@acme.test').expect(200)).body as {
      mfa_required: boolean;
      mfa_token: string;
    };
    expect(step1.mfa_required).toBe(true);
    expect(step1).not.toHaveProperty('access_token');
    const code = codeFor(secret);
    const tokens = (
      await request(h.app)
        .post('/v1/auth/mfa')
        .send({ mfa_token: step1.mfa_token, code })
        .expect(200)
    ).body as Tokens;
    const principal = await h.identity.verify(tokens.access_token);
    expect(principal.mfa).toBe(true);
    // The MFA token is spent; and the same code is refused on a new login.
    await request(h.app)
      .post('/v1/auth/mfa')
      .send({ mfa_token: step1.mfa_token, code })
      .expect(401);
    const again = (await login('pia@acme.test').expect(200)).body as { mfa_token: string };
    const reused = await request(h.app)
      .post('/v1/auth/mfa')
      .send({ mfa_token: again.mfa_token, code })
      .expect(401);
    expect((reused.body as { detail: string }).detail).toMatch(/each code works once/);
    // The next step's code (phone clock slightly ahead) works.
    await request(h.app)
      .post('/v1/auth/mfa')
      .send({ mfa_token: again.mfa_token, code: codeFor(secret, 1) })
      .expect(200);
  });

  it('takes each recovery code once', async () => {
    const { recovery } = await enrol('quin@acme.test');
    const first = (await login('quin@acme.test').expect(200)).body as { mfa_token: string };
    await request(h.app)
      .post('/v1/auth/mfa')
      .send({ mfa_token: first.mfa_token, recovery_code: (recovery[0] as string).toUpperCase() })
      .expect(200);
    const second = (await login('quin@acme.test').expect(200)).body as { mfa_token: string };
    await request(h.app)
      .post('/v1/auth/mfa')
      .send({ mfa_token: second.mfa_token, recovery_code: recovery[0] })
      .expect(401);
    await request(h.app)
      .post('/v1/auth/mfa')
      .send({ mfa_token: second.mfa_token, recovery_code: recovery[1] })
      .expect(200);
  });

  it('expires MFA tokens, limits their attempts and wants exactly one factor', async () => {
    const { secret } = await enrol('rex@acme.test');
    const { mfa_token } = (await login('rex@acme.test').expect(200)).body as { mfa_token: string };
    await request(h.app).post('/v1/auth/mfa').send({ mfa_token }).expect(400);
    await request(h.app)
      .post('/v1/auth/mfa')
      .send({ mfa_token, code: '123456', recovery_code: 'abcd-efgh' })
      .expect(400);
    h.clock.advance(5 * 60_000 + 1);
    await request(h.app)
      .post('/v1/auth/mfa')
      .send({ mfa_token, code: codeFor(secret) })
      .expect(401);
  });

  it('turns MFA off with the password, and regenerates recovery codes', async () => {
    const { tokens, recovery } = await enrol('sol@acme.test');
    const fresh = await request(h.app)
      .post('/v1/users/me/mfa/recovery-codes')
      .set(bearer(tokens.access_token))
      .expect(200);
    expect((fresh.body as { recovery_codes: string[] }).recovery_codes).not.toContain(recovery[0]);
    await request(h.app).post('/v1/users/me/mfa').set(bearer(tokens.access_token)).expect(409);
    await request(h.app)
      .post('/v1/users/me/mfa/disable')
      .set(bearer(tokens.access_token))
      .send({ password: 'not the password' })
      .expect(403);
    await request(h.app)
      .post('/v1/users/me/mfa/disable')
      .set(bearer(tokens.access_token))
      .send({ password: strongPassword })
      .expect(200);
    const res = await login('sol@acme.test').expect(200);
    expect((res.body as Tokens).mfa_required).toBe(false);
  });
});

describe('invitations and platform admins', () => {
  it('invites a user who sets a first password with the one-time token', async () => {
    const res = await request(h.app)
      .post('/v1/tenants/acme/users')
      .set(adminHeader)
      .send({ email: 'tam@acme.test', role: 'auditor' })
      .expect(201);
    const { user, setup_token } = res.body as { user: { status: string }; setup_token: string };
    expect(user.status).toBe('invited');
    await login('tam@acme.test', 'anything at all here').expect(401);
    await request(h.app)
      .post('/v1/auth/password-setup')
      .send({ token: setup_token, password: 'tam' + 'tamtamtamtam' })
      .expect(400);
    const set = await request(h.app)
      .post('/v1/auth/password-setup')
      .send({ token: setup_token, password: strongPassword })
      .expect(200);
    expect(set.body).toMatchObject({ status: 'active' });
    await request(h.app)
      .post('/v1/auth/password-setup')
      .send({ token: setup_token, password: strongPassword })
      .expect(401);
    await login('tam@acme.test').expect(200);
  });

  it('platform admins have no tenant and log in without one', async () => {
    const res = await request(h.app)
      .post('/v1/platform/users')
      .set(adminHeader)
      .send({ email: 'root@verdict.test', role: 'platform-admin', password: strongPassword })
      .expect(201);
    const id = (res.body as { user: { id: string; tenant_id: null } }).user.id;
    await request(h.app)
      .post('/v1/platform/users')
      .set(adminHeader)
      .send({ email: 'x@verdict.test', role: 'auditor', password: strongPassword })
      .expect(400);
    const tokens = (await login('root@verdict.test', strongPassword, null).expect(200))
      .body as Tokens;
    const principal = await h.identity.verify(tokens.access_token);
    expect(principal).toMatchObject({ id, tenantId: null, roles: ['platform-admin'] });
    // Not through a tenant.
    await login('root@verdict.test', strongPassword, 'acme').expect(401);
    const list = await request(h.app).get('/v1/platform/users').set(adminHeader).expect(200);
    expect((list.body as { users: { email: string }[] }).users.map((u) => u.email)).toEqual([
      'root@verdict.test',
    ]);
    await request(h.app).delete(`/v1/platform/users/${id}`).set(adminHeader).expect(200);
    await expect(h.identity.verify(tokens.access_token)).rejects.toThrow(/session/);
    // The database itself refuses a tenant user without a tenant.
    await expect(
      h.db.knex('users').insert({ email: 'v1:x', role: 'auditor', tenant_id: null }),
    ).rejects.toThrow(/users_platform_admin_tenantless/);
  });

  it('publishes the public keys that verify access tokens', async () => {
    const res = await request(h.app).get('/.well-known/jwks.json').expect(200);
    const { keys } = res.body as { keys: { kty: string; crv: string; kid: string; d?: string }[] };
    expect(keys.length).toBeGreaterThanOrEqual(1);
    expect(keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    expect(keys[0]).not.toHaveProperty('d');
  });
});
