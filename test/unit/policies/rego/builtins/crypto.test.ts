import { failure, show } from './call';

describe('digests and HMACs', () => {
  it('hash the UTF-8 bytes of a string to lowercase hex', () => {
    expect(show('crypto.md5', 'abc')).toBe('"900150983cd24fb0d6963f7d28e17f72"');
    expect(show('crypto.sha1', 'abc')).toBe('"a9993e364706816aba3e25717850c26c9cd0d89d"');
    expect(show('crypto.sha256', 'abc')).toBe(
      '"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"',
    );
  });

  it('compute HMACs (RFC 4231 test case 2) and compare them', () => {
    expect(show('crypto.hmac.sha256', 'what do ya want for nothing?', 'Jefe')).toBe(
      '"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"',
    );
    expect(show('crypto.hmac.sha512', 'what do ya want for nothing?', 'Jefe')).toMatch(
      /^"164b7a7bfcf819e2/,
    );
    expect(show('crypto.hmac.md5', 'what do ya want for nothing?', 'Jefe')).toBe(
      '"750c783e6ab0b503eaa86e310a5db738"',
    );
    expect(show('crypto.hmac.equal', 'abc', 'abc')).toBe('true');
    expect(show('crypto.hmac.equal', 'abc', 'abd')).toBe('false');
    expect(show('crypto.hmac.equal', 'abc', 'ab')).toBe('false');
    expect(failure('crypto.sha256', 1)).toBe(
      'type: crypto.sha256: operand 1 must be string but got number',
    );
  });
});
