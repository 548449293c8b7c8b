/**
 * Attacks on users' tokens, on the real Postgres and Redis, through verify() (what the
 * authentication middleware calls) and over HTTP: forged and altered tokens, algorithm
 * tricks (`alg: none`, HMAC with the public key, other curves), wrong or missing claims,
 * expired tokens, ended sessions (logout, refresh-token reuse, disabled user), skipping the
 * second factor, and junk in the Authorization header. Every case must be refused with 401
 * `unauthorized`; the file prints how many cases it tried per category.
 */
import { generateKeyPairSync, createHmac, type KeyObject } from 'node:crypto';
import request from 'supertest';
import { isVerdictError } from '../../api/errors';
import { loadJose } from '../../api/services/identity/jose';
import { base32Decode, hotp, totpStep } from '../../api/services/identity/totp';
import {
  adminHeader,
  insertTenant,
  openIdentityHarness,
  type IdentityHarness,
} from '../integration/helpers/identity';

const password = 'velvet orchid trombone 42';
const counts = new Map<string, number>();
let h: IdentityHarness;

beforeAll(async () => {
  h = await openIdentityHarness('sec_tokens', { sessions: 'redis' });
  await insertTenant(h.db, 'acme');
  await insertTenant(h.db, 'globex');
  for (const email of ['ann@acme.test', 'bo@acme.test', 'mfa@acme.test', 'gone@acme.test']) {
    await request(h.app)
      .post('/v1/tenants/acme/users')
      .set(adminHeader)
      .send({ email, role: 'auditor', password })
      .expect(201);
  }
});
afterAll(async () => {
  await h.close();
  const summary = [...counts].map(([category, n]) => `${category} ${n}`).join(', ');
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  console.log(`token attacks: ${total} cases refused (${summary})`);
});

interface Tokens {
  access_token: string;
  refresh_token: string;
  session_id: string;
  mfa_token?: string;
}

async function login(email = 'ann@acme.test'): Promise<Tokens> {
  const res = await request(h.app)
    .post('/v1/auth/login')
    .send({ tenant: 'acme', email, password })
    .expect(200);
  return res.body as Tokens;
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function parts(token: string): {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signature: string;
} {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>,
    signature,
  };
}

/** Asserts `token` is refused by verify() and by an authenticated route; counts the case. */
async function expectRefused(category: string, token: string, detail?: RegExp): Promise<void> {
  let refused: unknown;
  try {
    await h.identity.verify(token);
  } catch (err) {
    refused = err;
  }
  expect(isVerdictError(refused) && refused.code === 'unauthorized').toBe(true);
  if (detail !== undefined) expect((refused as Error).message).toMatch(detail);
  const res = await request(h.app)
    .get('/v1/users/me')
    .set({ Authorization: `Bearer ${token}` });
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toBe('Bearer realm="verdict"');
  expect(JSON.stringify(res.body)).not.toMatch(/stack|at \w+ \(/);
  counts.set(category, (counts.get(category) ?? 0) + 1);
}

/** Signs `payload` with the service's real current key, under `header`. */
async function signWithRealKey(
  payload: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  const { SignJWT } = await loadJose();
  const { kid, privateKey } = await h.identity.signingKeys.signingKey();
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt', ...header })
    .sign(privateKey);
}

async function signWith(
  key: KeyObject,
  alg: string,
  payload: Record<string, unknown>,
  kid: string,
): Promise<string> {
  const { SignJWT } = await loadJose();
  return new SignJWT(payload).setProtectedHeader({ alg, kid, typ: 'at+jwt' }).sign(key);
}

describe('forged and altered tokens', () => {
  it('refuses a token whose payload, header or signature was changed', async () => {
    const { access_token } = await login();
    const { header, payload, signature } = parts(access_token);
    const [h64, p64] = access_token.split('.') as [string, string];
    const escalations: Record<string, unknown>[] = [
      { ...payload, roles: ['platform-admin'] },
      { ...payload, tid: '00000000-0000-0000-0000-000000000000' },
      { ...payload, sub: '6f1c2e9a-0b1d-4c55-9a7e-2f0d8c1b3a44' },
      { ...payload, mfa: true },
      { ...payload, exp: (payload.exp as number) + 3600 },
    ];
    for (const changed of escalations) {
      await expectRefused('altered', `${h64}.${b64(changed)}.${signature}`, /signature/);
    }
    await expectRefused('altered', `${b64({ ...header, kid: 'made-up' })}.${p64}.${signature}`);
    const flipped = Buffer.from(signature, 'base64url');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    await expectRefused('altered', `${h64}.${p64}.${flipped.toString('base64url')}`);
    await expectRefused('altered', `${h64}.${p64}.${signature.slice(0, 20)}`);
    // The signature of another valid token does not fit this one.
    const other = await login('bo@acme.test');
    await expectRefused('altered', `${h64}.${p64}.${parts(other.access_token).signature}`);
  });

  it('refuses tokens signed by another key, even under a real kid', async () => {
    const { access_token } = await login();
    const { header, payload } = parts(access_token);
    const kid = header.kid as string;
    const forger = generateKeyPairSync('ed25519').privateKey;
    await expectRefused('forged', await signWith(forger, 'EdDSA', payload, kid));
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    await expectRefused('forged', await signWith(ec, 'ES256', payload, kid), /algorithm/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    await expectRefused('forged', await signWith(rsa, 'RS256', payload, kid), /algorithm/);
  });
});

describe('algorithm tricks', () => {
  it('refuses alg none and HMAC keyed with the public key', async () => {
    const { access_token } = await login();
    const { header, payload } = parts(access_token);
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      const body = `${b64({ ...header, alg })}.${b64(payload)}`;
      await expectRefused('algorithm', `${body}.`);
      await expectRefused('algorithm', `${body}.AAAA`);
    }
    // The public key is public: HS256 keyed with its PEM or JWK must not verify.
    const { keys } = await h.identity.signingKeys.jwks();
    const jwk = keys.find((k) => k.kid === header.kid);
    const publicKeyPem = (
      await h.db.knex('signing_keys').where({ kid: header.kid }).first<{ public_key: string }>()
    ).public_key;
    for (const secret of [publicKeyPem, JSON.stringify(jwk), String(jwk?.x)]) {
      for (const alg of ['HS256', 'HS512']) {
        const body = `${b64({ ...header, alg })}.${b64(payload)}`;
        const mac = createHmac(alg === 'HS256' ? 'sha256' : 'sha512', secret)
          .update(body)
          .digest('base64url');
        await expectRefused('algorithm', `${body}.${mac}`);
      }
    }
  });
});

describe('claims', () => {
  it('refuses expired tokens, other audiences and issuers, other types and missing claims', async () => {
    const { access_token } = await login();
    const { payload } = parts(access_token);
    const now = Math.floor(h.clock.now / 1000);
    const cases: [Record<string, unknown>, Record<string, unknown>, RegExp?][] = [
      [{ ...payload, aud: 'another-service' }, {}, /claim "aud"/],
      [{ ...payload, aud: ['another-service'] }, {}],
      [{ ...payload, iss: 'https://evil.test' }, {}, /claim "iss"/],
      [{ ...payload, exp: now - 60 }, {}, /expired/],
      [{ ...payload, iat: now - 7200, exp: now + 60 }, {}],
      [{ ...payload, nbf: now + 3600 }, {}],
      [{ ...payload, sid: undefined }, {}],
      [{ ...payload, exp: undefined }, {}],
      [{ ...payload, sub: undefined }, {}],
      [{ ...payload, roles: ['superuser'] }, {}, /claims are incomplete/],
      [{ ...payload, roles: [] }, {}],
      [{ ...payload, roles: 'platform-admin' }, {}],
      [{ ...payload, tid: 42 }, {}],
      [{ ...payload, mfa: 'yes' }, {}],
      [{ ...payload, sid: '6f1c2e9a-0b1d-4c55-9a7e-2f0d8c1b3a44' }, {}, /session/],
      [payload, { typ: 'JWT' }],
      [payload, { typ: 'refresh+jwt' }],
      [payload, { kid: undefined }],
    ];
    for (const [claims, header, detail] of cases) {
      await expectRefused('claims', await signWithRealKey(claims, header), detail);
    }
  });

  it('refuses a token past its expiry with the real clock moved on', async () => {
    const { access_token } = await login();
    await h.identity.verify(access_token);
    h.clock.advance(600_000 + 6_000);
    await expectRefused('expired', access_token, /expired/);
  });
});

describe('ended sessions', () => {
  it('refuses tokens of a logged-out session, a reused refresh family and a disabled user', async () => {
    const loggedOut = await login();
    await request(h.app)
      .post('/v1/auth/logout')
      .set({ Authorization: `Bearer ${loggedOut.access_token}` })
      .expect(204);
    await expectRefused('session', loggedOut.access_token, /session/);

    const stolen = await login();
    const rotated = (
      await request(h.app)
        .post('/v1/auth/refresh')
        .send({ refresh_token: stolen.refresh_token })
        .expect(200)
    ).body as Tokens;
    await request(h.app)
      .post('/v1/auth/refresh')
      .send({ refresh_token: stolen.refresh_token })
      .expect(401);
    await expectRefused('session', stolen.access_token, /session/);
    await expectRefused('session', rotated.access_token, /session/);
    await request(h.app)
      .post('/v1/auth/refresh')
      .send({ refresh_token: rotated.refresh_token })
      .expect(401);
    counts.set('refresh reuse', (counts.get('refresh reuse') ?? 0) + 2);

    const gone = await login('gone@acme.test');
    const users = (await request(h.app).get('/v1/tenants/acme/users').set(adminHeader).expect(200))
      .body as { users: { id: string; email: string }[] };
    const goneId = users.users.find((u) => u.email === 'gone@acme.test')?.id as string;
    await request(h.app).delete(`/v1/tenants/acme/users/${goneId}`).set(adminHeader).expect(200);
    await expectRefused('session', gone.access_token, /session/);
    await request(h.app)
      .post('/v1/auth/refresh')
      .send({ refresh_token: gone.refresh_token })
      .expect(401);
  });
});

describe('skipping the second factor', () => {
  it('gives no token before the second factor and refuses every way around it', async () => {
    const first = await login('mfa@acme.test');
    const enrol = await request(h.app)
      .post('/v1/users/me/mfa')
      .set({ Authorization: `Bearer ${first.access_token}` })
      .expect(201);
    const secret = base32Decode((enrol.body as { secret: string }).secret) as Buffer;
    await request(h.app)
      .post('/v1/users/me/mfa/confirm')
      .set({ Authorization: `Bearer ${first.access_token}` })
      .send({ code: hotp(secret, totpStep(h.clock.now)) })
      .expect(200);

    const step = (
      await request(h.app)
        .post('/v1/auth/login')
        .send({ tenant: 'acme', email: 'mfa@acme.test', password })
        .expect(200)
    ).body as Record<string, unknown>;
    expect(Object.keys(step).sort()).toEqual(['expires_in', 'mfa_required', 'mfa_token']);
    const mfaToken = step.mfa_token as string;
    let tried = 0;
    // The MFA token is not an access token, nor a refresh token.
    await expectRefused('mfa skipped', mfaToken);
    tried += 1;
    await request(h.app).post('/v1/auth/refresh').send({ refresh_token: mfaToken }).expect(401);
    tried += 1;
    // No factor, both factors, junk codes.
    await request(h.app).post('/v1/auth/mfa').send({ mfa_token: mfaToken }).expect(400);
    for (const code of ['', '12345', '1234567', 'abcdef', '000000 ', '１２３４５６']) {
      const res = await request(h.app).post('/v1/auth/mfa').send({ mfa_token: mfaToken, code });
      expect(res.status).toBe(400);
      tried += 1;
    }
    // Wrong codes spend the token's attempts and count toward the account's lockout.
    const current = hotp(secret, totpStep(h.clock.now));
    const wrong = current === '000001' ? '000002' : '000001';
    for (let i = 0; i < 4; i += 1) {
      await request(h.app)
        .post('/v1/auth/mfa')
        .send({ mfa_token: mfaToken, code: wrong })
        .expect(401);
      tried += 1;
    }
    // The fifth failure locks the account; meanwhile even the right code is refused.
    await request(h.app)
      .post('/v1/auth/mfa')
      .send({ mfa_token: mfaToken, code: wrong })
      .expect(401);
    // The token's attempts are spent, and the account is locked: even the password waits.
    await request(h.app)
      .post('/v1/auth/mfa')
      .send({ mfa_token: mfaToken, code: current })
      .expect(401);
    await request(h.app)
      .post('/v1/auth/login')
      .send({ tenant: 'acme', email: 'mfa@acme.test', password })
      .expect(429);
    // An MFA token of another purpose or made up is refused.
    await request(h.app)
      .post('/v1/auth/mfa')
      .send({ mfa_token: `vmt_${'A'.repeat(43)}`, code: current })
      .expect(401);
    tried += 3;
    counts.set('mfa skipped', (counts.get('mfa skipped') ?? 0) + tried);
  });
});

describe('junk credentials', () => {
  it('refuses whatever is not a token', async () => {
    const junk = [
      'a.b.c',
      'eyJ.eyJ.',
      '..',
      'x'.repeat(10_000),
      `${b64({ alg: 'EdDSA' })}.${b64([1, 2])}.AAAA`,
      `${b64('string')}.${b64({})}.AAAA`,
      `${b64({ alg: 'EdDSA', kid: '../../etc/passwd' })}.${b64({})}.AAAA`,
      `${b64({ alg: 'EdDSA', kid: "' or 1=1 --" })}.${b64({})}.AAAA`,
      `${b64({ alg: 'EdDSA', crit: ['b64'], b64: false })}.${b64({})}.AAAA`,
      `${b64({ alg: 'EdDSA', jwk: { kty: 'OKP' } })}.${b64({})}.AAAA`,
    ];
    for (const token of junk) await expectRefused('junk', token);
    for (const header of ['Bearer', 'Basic YWRtaW46YWRtaW4=', 'Bearer  ', 'bearer x y']) {
      const res = await request(h.app).get('/v1/users/me').set({ Authorization: header });
      expect(res.status).toBe(401);
      counts.set('junk', (counts.get('junk') ?? 0) + 1);
    }
  });
});
