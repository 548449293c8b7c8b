import {
  decoyHash,
  defaultScryptParams,
  hashPassword,
  needsRehash,
  verifyPassword,
} from '../../../../../api/services/identity/passwords';

// Cheap parameters keep most tests fast; one test uses the defaults.
const cheap = { logN: 10, r: 8, p: 1 };

describe('hashPassword / verifyPassword', () => {
  it('stores scrypt parameters, a 32-byte salt and a 32-byte hash with the value', async () => {
    const stored = await hashPassword('correct horse battery staple');
    const match = /^\$scrypt\$ln=15,r=8,p=1\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(stored);
    expect(match).not.toBeNull();
    expect(Buffer.from(match?.[1] ?? '', 'base64url')).toHaveLength(32);
    expect(Buffer.from(match?.[2] ?? '', 'base64url')).toHaveLength(32);
    expect(await verifyPassword('correct horse battery staple', stored)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', stored)).toBe(false);
  });

  it('salts every hash: the same password hashes differently', async () => {
    const [a, b] = await Promise.all([
      hashPassword('same password twice', cheap),
      hashPassword('same password twice', cheap),
    ]);
    expect(a).not.toBe(b);
    expect(await verifyPassword('same password twice', a)).toBe(true);
    expect(await verifyPassword('same password twice', b)).toBe(true);
  });

  it('normalizes Unicode, so composed and decomposed forms match', async () => {
    const composed = 'caf\u00e9 au lait tous les jours';
    const decomposed = 'cafe\u0301 au lait tous les jours';
    const stored = await hashPassword(composed, cheap);
    expect(await verifyPassword(decomposed, stored)).toBe(true);
  });

  it('verifies hashes made with older parameters and says they need a rehash', async () => {
    const old = await hashPassword('an older account password', cheap);
    expect(await verifyPassword('an older account password', old)).toBe(true);
    expect(needsRehash(old)).toBe(true);
    expect(needsRehash(old, cheap)).toBe(false);
    expect(needsRehash(await hashPassword('x', defaultScryptParams))).toBe(false);
    expect(needsRehash('$2b$10$bcrypt')).toBe(true);
  });

  it('answers false, never throws, for hashes it cannot read', async () => {
    for (const stored of [
      '',
      'plain',
      '$scrypt$ln=99,r=8,p=1$AAAA$AAAA',
      '$scrypt$ln=10,r=8,p=1$AAAA$',
    ]) {
      expect(await verifyPassword('whatever password', stored)).toBe(false);
    }
  });

  it('makes decoys that match no password anyone types', async () => {
    const decoy = await decoyHash(cheap);
    expect(await verifyPassword('', decoy)).toBe(false);
    expect(await verifyPassword('password', decoy)).toBe(false);
  });
});
