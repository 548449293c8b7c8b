import { createHmac, generateKeyPairSync } from 'node:crypto';
import { call, context, failure, json, show } from './call';

const HS_KEY = JSON.stringify({ kty: 'oct', k: Buffer.from('secret').toString('base64url') });

function b64(text: string): string {
  return Buffer.from(text).toString('base64url');
}

function hsToken(payload: string, header = '{"alg":"HS256","typ":"JWT"}'): string {
  return call('io.jwt.encode_sign_raw', [header, payload, HS_KEY]) as string;
}

describe('io.jwt.encode_sign_raw and io.jwt.decode', () => {
  it('sign a token whose parts decode back', () => {
    const token = hsToken('{"sub":"alice"}');
    const input = `${b64('{"alg":"HS256","typ":"JWT"}')}.${b64('{"sub":"alice"}')}`;
    const mac = createHmac('sha256', 'secret').update(input).digest();
    expect(token).toBe(`${input}.${mac.toString('base64url')}`);
    expect(show('io.jwt.decode', token)).toBe(
      `[{"alg": "HS256", "typ": "JWT"}, {"sub": "alice"}, "${mac.toString('hex')}"]`,
    );
  });

  it('encode_sign takes objects', () => {
    const token = call('io.jwt.encode_sign', [
      json('{"alg": "HS256"}'),
      json('{"a": 1}'),
      json(HS_KEY),
    ]) as string;
    expect(show('io.jwt.verify_hs256', token, 'secret')).toBe('true');
  });

  it('report malformed tokens', () => {
    expect(failure('io.jwt.decode', 'abc')).toBe(
      'builtin: io.jwt.decode: encoded JWT had no period separators',
    );
    expect(failure('io.jwt.decode', 'a.b')).toBe(
      'builtin: io.jwt.decode: encoded JWT must have 3 sections, found 2',
    );
    expect(failure('io.jwt.decode', '!.e30.')).toBe(
      'builtin: io.jwt.decode: JWT header had invalid encoding: illegal base64url data',
    );
    expect(failure('io.jwt.encode_sign_raw', '{"alg":"none"}', '{}', HS_KEY)).toBe(
      'builtin: io.jwt.encode_sign_raw: unknown JWS algorithm: none',
    );
  });
});

describe('io.jwt.verify_*', () => {
  it('verifies HMAC tokens with the secret', () => {
    const token = hsToken('{"a":1}');
    expect(show('io.jwt.verify_hs256', token, 'secret')).toBe('true');
    expect(show('io.jwt.verify_hs256', token, 'wrong')).toBe('false');
    expect(show('io.jwt.verify_hs512', token, 'secret')).toBe('false');
  });

  const families = [
    ['rsa', 'RS256', { modulusLength: 2048 }],
    ['rsa', 'PS384', { modulusLength: 2048 }],
    ['ec', 'ES256', { namedCurve: 'P-256' }],
    ['ed25519', 'EdDSA', {}],
  ] as const;

  it.each(families)('verifies %s (%s) tokens with a PEM key or a JWK set', (type, alg, options) => {
    const { publicKey, privateKey } = generateKeyPairSync(
      type as 'rsa',
      options as { modulusLength: number },
    );
    const jwk = JSON.stringify(privateKey.export({ format: 'jwk' }));
    const token = call('io.jwt.encode_sign_raw', [
      JSON.stringify({ alg }),
      '{"a":1}',
      jwk,
    ]) as string;
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const jwks = JSON.stringify({ keys: [publicKey.export({ format: 'jwk' })] });
    const verify = `io.jwt.verify_${alg.toLowerCase()}`;
    expect(show(verify, token, pem)).toBe('true');
    expect(show(verify, token, jwks)).toBe('true');
    const other = generateKeyPairSync(
      type as 'rsa',
      options as { modulusLength: number },
    ).publicKey;
    expect(show(verify, token, other.export({ type: 'spki', format: 'pem' }).toString())).toBe(
      'false',
    );
    const tampered = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect(show(verify, tampered, pem)).toBe('false');
  });

  it('reports unusable keys', () => {
    expect(failure('io.jwt.verify_rs256', hsToken('{}'), 'not a key')).toMatch(
      /^builtin: io\.jwt\.verify_rs256: failed to parse a JWK key \(set\)/,
    );
  });
});

describe('io.jwt.decode_verify', () => {
  const now = 1_700_000_000_000_000_000n;
  const verify = (token: string, constraints: string): string => {
    const out = call('io.jwt.decode_verify', [token, json(constraints)], context(now));
    return JSON.stringify(out === undefined ? null : (out as unknown[])[0]);
  };

  it('checks signature, algorithm, issuer, audience and validity window', () => {
    const token = hsToken('{"iss":"me","aud":["api"],"exp":1800000000,"nbf":1600000000}');
    expect(show('io.jwt.decode_verify', token, json('{"secret": "secret", "aud": "api"}'))).toBe(
      '[true, {"alg": "HS256", "typ": "JWT"}, {"aud": ["api"], "exp": 1800000000, "iss": "me", "nbf": 1600000000}]',
    );
    expect(verify(token, '{"secret": "secret", "aud": "api", "iss": "me"}')).toBe('true');
    expect(verify(token, '{"secret": "wrong", "aud": "api"}')).toBe('false');
    expect(verify(token, '{"secret": "secret", "aud": "api", "alg": "RS256"}')).toBe('false');
    expect(verify(token, '{"secret": "secret", "aud": "api", "iss": "you"}')).toBe('false');
    expect(verify(token, '{"secret": "secret"}')).toBe('false'); // token has an audience
    expect(verify(token, '{"secret": "secret", "aud": "api", "time": 1900000000000000000}')).toBe(
      'false',
    );
    expect(verify(token, '{"secret": "secret", "aud": "api", "time": 1500000000000000000}')).toBe(
      'false',
    );
    expect(show('io.jwt.decode_verify', token, json('{"secret": "wrong"}'))).toBe(
      '[false, {}, {}]',
    );
  });

  it('rejects malformed constraints', () => {
    const token = hsToken('{}');
    expect(failure('io.jwt.decode_verify', token, json('{}'))).toBe(
      'builtin: io.jwt.decode_verify: no key constraint',
    );
    expect(
      failure(
        'io.jwt.decode_verify',
        token,
        json('{"secret": "a", "cert": "{\\"kty\\": \\"oct\\", \\"k\\": \\"YQ\\"}"}'),
      ),
    ).toBe('builtin: io.jwt.decode_verify: duplicate key constraints');
    expect(failure('io.jwt.decode_verify', token, json('{"secret": "a", "color": "red"}'))).toBe(
      'builtin: io.jwt.decode_verify: unknown token validation constraint: color',
    );
  });
});
