import {
  base32Decode,
  base32Encode,
  hotp,
  newTotpSecret,
  otpauthUri,
  totp,
  totpStep,
  verifyTotp,
  type OtpAlgorithm,
} from '../../../../../api/services/identity/totp';

const sha1Seed = Buffer.from('12345678901234567890', 'ascii');
const seeds: Record<OtpAlgorithm, Buffer> = {
  sha1: sha1Seed,
  sha256: Buffer.from('12345678901234567890123456789012', 'ascii'),
  sha512: Buffer.from('1234567890123456789012345678901234567890123456789012345678901234', 'ascii'),
};

// RFC 6238 appendix B: time in seconds, then the 8-digit TOTP for SHA-1, SHA-256, SHA-512.
const rfc6238Vectors: [number, string, string, string][] = [
  [59, '94287082', '46119246', '90693936'],
  [1111111109, '07081804', '68084774', '25091201'],
  [1111111111, '14050471', '67062674', '99943326'],
  [1234567890, '89005924', '91819424', '93441116'],
  [2000000000, '69279037', '90698825', '38618901'],
  [20000000000, '65353130', '77737706', '47863826'],
];

// RFC 4226 appendix D: HOTP values for counters 0 to 9.
const rfc4226Values = [
  '755224',
  '287082',
  '359152',
  '969429',
  '338314',
  '254676',
  '287922',
  '162583',
  '399871',
  '520489',
];

describe('HOTP (RFC 4226)', () => {
  it.each(rfc4226Values.map((value, counter) => [counter, value]))(
    'counter %i gives %s',
    (counter, value) => {
      expect(hotp(sha1Seed, counter)).toBe(value);
    },
  );
});

describe('TOTP (RFC 6238 appendix B)', () => {
  it.each(rfc6238Vectors)('time %i', (seconds, sha1, sha256, sha512) => {
    const expected: Record<OtpAlgorithm, string> = { sha1, sha256, sha512 };
    for (const algorithm of ['sha1', 'sha256', 'sha512'] as const) {
      expect(totp(seeds[algorithm], seconds * 1000, { algorithm, digits: 8 })).toBe(
        expected[algorithm],
      );
    }
  });

  it('defaults to SHA-1, 6 digits, 30-second steps', () => {
    expect(totp(sha1Seed, 59_000)).toBe('287082');
    expect(totpStep(59_000)).toBe(1);
    expect(totpStep(60_000)).toBe(2);
  });
});

describe('verifyTotp', () => {
  const now = 1_700_000_000_000;
  const step = totpStep(now);

  it('accepts the current step and one step either side, nothing further', () => {
    for (const offset of [-1, 0, 1]) {
      const code = hotp(sha1Seed, step + offset);
      expect(verifyTotp(sha1Seed, code, now, null)).toBe(step + offset);
    }
    for (const offset of [-2, 2]) {
      expect(verifyTotp(sha1Seed, hotp(sha1Seed, step + offset), now, null)).toBeUndefined();
    }
  });

  it('refuses a code of a step already used, and any earlier step', () => {
    const code = hotp(sha1Seed, step);
    expect(verifyTotp(sha1Seed, code, now, step)).toBeUndefined();
    expect(verifyTotp(sha1Seed, hotp(sha1Seed, step - 1), now, step)).toBeUndefined();
    expect(verifyTotp(sha1Seed, hotp(sha1Seed, step + 1), now, step)).toBe(step + 1);
  });

  it('refuses codes of the wrong shape', () => {
    for (const code of ['', '12345', '1234567', '12345a', ' 123456', '１２３４５６']) {
      expect(verifyTotp(sha1Seed, code, now, null)).toBeUndefined();
    }
  });
});

describe('base32', () => {
  it('round-trips and matches the RFC 4648 test vectors', () => {
    const vectors: [string, string][] = [
      ['', ''],
      ['f', 'MY'],
      ['fo', 'MZXQ'],
      ['foo', 'MZXW6'],
      ['foob', 'MZXW6YQ'],
      ['fooba', 'MZXW6YTB'],
      ['foobar', 'MZXW6YTBOI'],
    ];
    for (const [plain, encoded] of vectors) {
      expect(base32Encode(Buffer.from(plain))).toBe(encoded);
      expect(base32Decode(`${encoded.toLowerCase()}==`)?.toString()).toBe(plain);
    }
    const secret = newTotpSecret();
    expect(secret).toHaveLength(20);
    expect(base32Decode(base32Encode(secret))).toEqual(secret);
    expect(base32Encode(sha1Seed)).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
  });

  it('refuses characters outside the alphabet', () => {
    expect(base32Decode('MZXW1')).toBeUndefined();
  });
});

describe('otpauthUri', () => {
  it('names issuer and account and carries the base32 secret', () => {
    const uri = new URL(otpauthUri(sha1Seed, 'Verdict', 'ann@acme.test'));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Verdict:ann@acme.test');
    expect(Object.fromEntries(uri.searchParams)).toEqual({
      secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ',
      issuer: 'Verdict',
      algorithm: 'SHA1',
      digits: '6',
      period: '30',
    });
  });
});
