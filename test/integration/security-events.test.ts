/**
 * Security events over real HTTP on the real Postgres and Redis: each event is provoked as an
 * attacker or a careless client would (a wrong password, a lockout, a wrong MFA code, a
 * reused refresh token, an admin action the caller's role lacks, a reach into another
 * tenant), or done by an admin (an API key revoked); then its log line is read back from the
 * captured pino output and its count from `GET /metrics`. Lines must name the request and
 * the client, and carry no password, e-mail, code or token.
 *
 * The identity harness holds a clock the test moves, so lockouts engage and hold without
 * waiting; a last test starts the real server to check its own wiring of events to metrics.
 */
import request from 'supertest';
import { hotp, base32Decode, totpStep } from '../../api/services/identity/totp';
import { VerdictMetrics } from '../../api/services/metrics';
import { start } from '../../api/server';
import { securityEventTypes, type SecurityEventType } from '../../api/services/security/events';
import { parseExposition, sampleSum } from '../helpers/prometheus-text';
import {
  adminHeader,
  insertTenant,
  openIdentityHarness,
  type IdentityHarness,
} from './helpers/identity';
import {
  capturingLogger,
  createTestDatabase,
  redisUrl,
  testConfig,
  uniqueName,
} from './helpers/services';

jest.setTimeout(60_000);

type LogLine = Record<string, unknown>;

const password = 'velvet orchid trombone 42';
const wrongPassword = 'not the password at all 17';

let h: IdentityHarness;
let log: () => LogLine[];
let acmeId: string;
let globexId: string;

beforeAll(async () => {
  const captured = capturingLogger();
  log = captured.lines;
  h = await openIdentityHarness('security-events', {
    sessions: 'redis',
    logger: captured.logger,
    metrics: new VerdictMetrics(),
  });
  acmeId = await insertTenant(h.db, 'acme');
  globexId = await insertTenant(h.db, 'globex');
});
afterAll(async () => {
  await h.close();
});

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** The security events logged so far, of one type. */
function events(type: SecurityEventType): LogLine[] {
  return log().filter((line) => line.event === 'security' && line.type === type);
}

/** `verdict_security_events_total` by type, as `GET /metrics` answers it. */
async function counts(): Promise<Record<string, number>> {
  const res = await request(h.app).get('/metrics').expect(200);
  const exposition = parseExposition(res.text);
  return Object.fromEntries(
    securityEventTypes.map((type) => [
      type,
      sampleSum(exposition, 'verdict_security_events_total', { type }),
    ]),
  );
}

/**
 * Runs `provoke` and returns how much each type's count moved meanwhile (types that did not
 * move are left out), and the lines logged meanwhile.
 */
async function provoked(
  provoke: () => Promise<void>,
): Promise<{ moved: Record<string, number>; lines: LogLine[] }> {
  const before = await counts();
  const logged = log().length;
  await provoke();
  const after = await counts();
  const moved: Record<string, number> = {};
  for (const type of securityEventTypes) {
    const delta = (after[type] ?? 0) - (before[type] ?? 0);
    if (delta !== 0) moved[type] = delta;
  }
  return { moved, lines: log().slice(logged) };
}

async function createUser(email: string, role: string, tenant = 'acme'): Promise<string> {
  const res = await request(h.app)
    .post(`/v1/tenants/${tenant}/users`)
    .set(adminHeader)
    .send({ email, role, password })
    .expect(201);
  return (res.body as { user: { id: string } }).user.id;
}

function login(email: string, pass = password, requestId = 'req-login') {
  return request(h.app)
    .post('/v1/auth/login')
    .set('X-Request-Id', requestId)
    .send({ tenant: 'acme', email, password: pass });
}

async function accessToken(email: string): Promise<string> {
  const res = await login(email).expect(200);
  return (res.body as { access_token: string }).access_token;
}

/** No line may hold any of these (passwords, e-mail addresses, tokens, codes). */
function expectNoSecrets(lines: readonly LogLine[], secrets: readonly string[]): void {
  const text = JSON.stringify(lines).toLowerCase();
  for (const secret of secrets) expect(text).not.toContain(secret.toLowerCase());
}

describe('security events', () => {
  it('renders every type from the start, at zero', async () => {
    const start = await counts();
    expect(Object.keys(start).sort()).toEqual([...securityEventTypes].sort());
  });

  it('logs and counts a failed login, with the account name hashed', async () => {
    const userId = await createUser('fay@acme.test', 'auditor');
    const { moved, lines } = await provoked(async () => {
      await login('fay@acme.test', wrongPassword, 'req-wrong-password').expect(401);
    });
    expect(moved).toEqual({ login_failed: 1 });
    const [line] = events('login_failed');
    expect(line).toMatchObject({
      level: 40,
      event: 'security',
      type: 'login_failed',
      actor: `user:${userId}`,
      tenant: acmeId,
      requestId: 'req-wrong-password',
      step: 'password',
    });
    expect(line?.ip).toMatch(/127\.0\.0\.1/);
    expect(line?.account).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expectNoSecrets(lines, [wrongPassword, password, 'fay@acme.test']);

    // An unknown address fails alike: no actor, but an account name of its own.
    await login('nobody@acme.test', wrongPassword).expect(401);
    const unknown = events('login_failed').at(-1);
    expect(unknown).toMatchObject({ actor: null, tenant: acmeId });
    expect(unknown?.account).not.toBe(line?.account);
  });

  it('logs and counts a wrong current password on a password change', async () => {
    const userId = await createUser('cid@acme.test', 'auditor');
    const token = await accessToken('cid@acme.test');
    const { moved, lines } = await provoked(async () => {
      await request(h.app)
        .post('/v1/users/me/password')
        .set(bearer(token))
        .set('X-Request-Id', 'req-change')
        .send({ current_password: wrongPassword, new_password: 'amber falcon lantern 93' })
        .expect(403);
    });
    expect(moved).toEqual({ login_failed: 1 });
    expect(events('login_failed').at(-1)).toMatchObject({
      actor: `user:${userId}`,
      tenant: acmeId,
      requestId: 'req-change',
      step: 'password_change',
    });
    expectNoSecrets(lines, [wrongPassword, 'amber falcon lantern 93', 'cid@acme.test']);
  });

  it('logs and counts the lockout, and each login refused while locked', async () => {
    await createUser('lou@acme.test', 'auditor');
    const first = await provoked(async () => {
      for (let i = 0; i < 5; i += 1) await login('lou@acme.test', wrongPassword).expect(401);
    });
    expect(first.moved).toEqual({ login_failed: 5, account_locked: 1 });
    expect(events('account_locked').at(-1)).toMatchObject({ tenant: acmeId, lockedMs: 1000 });

    const refused = await provoked(async () => {
      await login('lou@acme.test', password, 'req-while-locked').expect(429);
    });
    expect(refused.moved).toEqual({ login_locked: 1 });
    const line = events('login_locked').at(-1);
    expect(line).toMatchObject({ requestId: 'req-while-locked', step: 'login', tenant: acmeId });
    expect(line?.account).toBe(events('account_locked').at(-1)?.account);
    expectNoSecrets([...first.lines, ...refused.lines], [wrongPassword, password, 'lou@acme.test']);
    h.clock.advance(1000);
    await login('lou@acme.test').expect(200);
  });

  it('logs and counts a wrong second factor', async () => {
    const userId = await createUser('mia@acme.test', 'auditor');
    const token = await accessToken('mia@acme.test');
    const enrolment = await request(h.app).post('/v1/users/me/mfa').set(bearer(token)).expect(201);
    const secret = (enrolment.body as { secret: string }).secret;
    const code = (offset = 0): string =>
      hotp(base32Decode(secret) as Buffer, totpStep(h.clock.now) + offset);
    await request(h.app)
      .post('/v1/users/me/mfa/confirm')
      .set(bearer(token))
      .send({ code: code() })
      .expect(200);
    const step1 = (await login('mia@acme.test').expect(200)).body as { mfa_token: string };
    // Five steps away from now: never a code the window accepts.
    const wrong = code(5);
    const { moved, lines } = await provoked(async () => {
      await request(h.app)
        .post('/v1/auth/mfa')
        .set('X-Request-Id', 'req-wrong-code')
        .send({ mfa_token: step1.mfa_token, code: wrong })
        .expect(401);
    });
    expect(moved).toEqual({ mfa_failed: 1 });
    expect(events('mfa_failed').at(-1)).toMatchObject({
      actor: `user:${userId}`,
      tenant: acmeId,
      requestId: 'req-wrong-code',
      factor: 'totp',
    });
    expectNoSecrets(lines, [wrong, step1.mfa_token, secret, 'mia@acme.test']);
  });

  it('logs and counts a reused refresh token', async () => {
    await createUser('rex@acme.test', 'auditor');
    const first = (await login('rex@acme.test').expect(200)).body as {
      refresh_token: string;
      session_id: string;
    };
    await request(h.app)
      .post('/v1/auth/refresh')
      .send({ refresh_token: first.refresh_token })
      .expect(200);
    const { moved, lines } = await provoked(async () => {
      await request(h.app)
        .post('/v1/auth/refresh')
        .set('X-Request-Id', 'req-reuse')
        .send({ refresh_token: first.refresh_token })
        .expect(401);
    });
    expect(moved).toEqual({ refresh_token_reused: 1 });
    expect(events('refresh_token_reused').at(-1)).toMatchObject({
      requestId: 'req-reuse',
      sessionId: first.session_id,
    });
    expectNoSecrets(lines, [first.refresh_token, first.refresh_token.slice(4)]);
  });

  it('logs and counts a revoked API key, naming who revoked it', async () => {
    const created = await request(h.app)
      .post('/v1/tenants/acme/keys')
      .set(adminHeader)
      .send({ name: 'ci', scopes: ['decide'] })
      .expect(201);
    const key = created.body as { id: string; prefix: string; key: string };
    const { moved, lines } = await provoked(async () => {
      await request(h.app)
        .delete(`/v1/tenants/acme/keys/${key.id}`)
        .set(adminHeader)
        .set('X-Request-Id', 'req-revoke')
        .expect(200);
    });
    expect(moved).toEqual({ api_key_revoked: 1 });
    expect(events('api_key_revoked').at(-1)).toMatchObject({
      level: 30,
      actor: 'bootstrap:admin-token',
      tenant: acmeId,
      requestId: 'req-revoke',
      keyId: key.id,
      keyPrefix: key.prefix,
    });
    expectNoSecrets(lines, [key.key]);
  });

  it("logs and counts an admin action the caller's role lacks", async () => {
    const userId = await createUser('pat@acme.test', 'policy-author');
    const token = await accessToken('pat@acme.test');
    const { moved } = await provoked(async () => {
      await request(h.app)
        .post('/v1/tenants/acme/users')
        .set(bearer(token))
        .set('X-Request-Id', 'req-denied')
        .send({ email: 'eve@acme.test', role: 'tenant-admin', password })
        .expect(403);
    });
    expect(moved).toEqual({ access_denied: 1 });
    expect(events('access_denied').at(-1)).toMatchObject({
      actor: `user:${userId}`,
      tenant: acmeId,
      requestId: 'req-denied',
      action: 'users.create',
      targetTenant: acmeId,
    });
  });

  it('logs and counts an automatic rotation of the signing key, not the first key', async () => {
    expect(events('signing_key_rotated')).toEqual([]);
    await createUser('sol@acme.test', 'auditor');
    // Tokens were signed with the first key long since; it turns 30 days old.
    h.clock.advance(30 * 24 * 3600_000);
    const { moved } = await provoked(async () => {
      await login('sol@acme.test').expect(200);
    });
    expect(moved).toEqual({ signing_key_rotated: 1 });
    const [line] = events('signing_key_rotated');
    expect(line).toMatchObject({ level: 30, actor: 'system', trigger: 'age' });
    const jwks = await request(h.app).get('/.well-known/jwks.json').expect(200);
    const kids = (jwks.body as { keys: { kid: string }[] }).keys.map((key) => key.kid);
    expect(kids).toContain(line?.kid);
    expect(kids).toHaveLength(2);
  });

  it("tells a reach into another tenant's resources apart, for users and API keys", async () => {
    const userId = await createUser('tia@acme.test', 'tenant-admin');
    const token = await accessToken('tia@acme.test');
    const created = await request(h.app)
      .post('/v1/tenants/acme/keys')
      .set(adminHeader)
      .send({ name: 'app', scopes: ['decide'] })
      .expect(201);
    const key = created.body as { id: string; key: string };

    const { moved, lines } = await provoked(async () => {
      await request(h.app)
        .get('/v1/tenants/globex/users')
        .set(bearer(token))
        .set('X-Request-Id', 'req-cross-user')
        .expect(403);
      await request(h.app)
        .get('/v1/tenants/globex/keys')
        .set(bearer(key.key))
        .set('X-Request-Id', 'req-cross-key')
        .expect(403);
    });
    expect(moved).toEqual({ cross_tenant_denied: 2 });
    const [byUser, byKey] = events('cross_tenant_denied').slice(-2);
    expect(byUser).toMatchObject({
      actor: `user:${userId}`,
      tenant: acmeId,
      requestId: 'req-cross-user',
      action: 'users.list',
      targetTenant: globexId,
    });
    // A key is refused before the other tenant is looked up: it learns nothing of it.
    expect(byKey).toMatchObject({
      actor: `api-key:${key.id}`,
      tenant: acmeId,
      requestId: 'req-cross-key',
      action: 'keys.list',
      targetTenant: null,
    });
    expectNoSecrets(lines, [key.key, token]);
  });
});

describe('the server', () => {
  it('counts the security events it logs in its own metrics', async () => {
    const database = await createTestDatabase('security-events-server');
    const captured = capturingLogger();
    const server = await start({
      config: testConfig({
        DATABASE_URL: database.url,
        REDIS_URL: redisUrl,
        VERDICT_REDIS_PREFIX: `${uniqueName('secev')}:`,
        VERDICT_ADMIN_TOKEN: 'security-events-admin-token-0123456789',
      }),
      logger: captured.logger,
    });
    try {
      const res = await fetch(`${server.url}/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'req-server' },
        body: JSON.stringify({ tenant: 'acme', email: 'x@acme.test', password: wrongPassword }),
      });
      expect(res.status).toBe(401);
      const scraped = parseExposition(await (await fetch(`${server.url}/metrics`)).text());
      expect(sampleSum(scraped, 'verdict_security_events_total', { type: 'login_failed' })).toBe(1);
      const line = captured
        .lines()
        .find((l) => l.event === 'security' && l.type === 'login_failed');
      // The tenant does not exist: the event says so with a null tenant, as the answer does not.
      expect(line).toMatchObject({ requestId: 'req-server', tenant: null, actor: null });
    } finally {
      await server.stop();
      await database.drop();
    }
  });
});
