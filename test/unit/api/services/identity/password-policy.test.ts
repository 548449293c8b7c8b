import {
  maxPasswordLength,
  passwordProblems,
} from '../../../../../api/services/identity/password-policy';

const ann = { email: 'ann.lee@acme-corp.test', displayName: 'Ann Lee' };

describe('passwordProblems', () => {
  it.each([
    'correct horse battery staple',
    'Tr0mbone-velvet-orchid',
    'glacier mints & tuba 42',
    'w9#Kp2!vQz7m',
    '839201746582',
    'zebra crossing at noon',
  ])('accepts %p', (password) => {
    expect(passwordProblems(password, ann)).toEqual([]);
  });

  it('refuses passwords shorter than 12 or longer than 1024 characters', () => {
    expect(passwordProblems('Sh0rt!pass')).toEqual([
      expect.stringMatching(/at least 12 characters/),
    ]);
    expect(passwordProblems('x'.repeat(maxPasswordLength + 1))).toEqual([
      expect.stringMatching(/at most 1024/),
    ]);
    // Length counts characters, not UTF-16 units: 11 emoji are too short.
    expect(passwordProblems('🔑'.repeat(11))[0]).toMatch(/at least 12/);
  });

  it.each([
    ['Password1234!', /"password"/],
    ['P@ssw0rd2024!!', /too easy to guess/],
    ['qwertyuiop12', /too easy to guess/],
    ['1qaz2wsx3edc', /too easy to guess/],
    ['abcdefgh1234', /run like abc/],
    ['Welcome12345', /"welcome"/],
    ['iloveyou2025!', /too easy/],
    ['letmein!letmein', /too easy/],
    ['zxcvbnm987654', /too easy/],
  ])('refuses the common pattern %p', (password, reason) => {
    expect(passwordProblems(password, ann).join(' ')).toMatch(reason);
  });

  it('refuses passwords built from the e-mail address or name', () => {
    expect(passwordProblems('ann.lee@acme-corp', ann).join(' ')).toMatch(/e-mail address or name/);
    expect(passwordProblems('AcmeCorp2024!', ann).join(' ')).toMatch(/e-mail address or name/);
    // The same text is fine for someone else.
    expect(passwordProblems('ann.lee@acme-corp', { email: 'bo@x.test' })).toEqual([]);
  });

  it('refuses a short piece repeated and too few distinct characters', () => {
    expect(passwordProblems('aaaaaaaaaaaa')).toEqual(
      expect.arrayContaining([expect.stringMatching(/one short piece repeated \("a"\)/)]),
    );
    expect(passwordProblems('xkcdxkcdxkcd')[0]).toMatch(/\("xkcd"\)/);
    expect(passwordProblems('abababababababab').join(' ')).toMatch(/5 different characters/);
  });
});
