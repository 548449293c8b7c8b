import { failure, show } from './call';

describe('semver', () => {
  it('validates SemVer 2.0.0', () => {
    for (const ok of ['0.0.0', '1.2.3-0', '1.2.3-0a', '1.2.3+01', '1.2.3-alpha.1+build.5']) {
      expect(show('semver.is_valid', ok)).toBe('true');
    }
    for (const bad of [
      '1',
      '01.2.3',
      '1.02.3',
      '1.2.03',
      '1.2.3-01',
      '1.2.3-',
      '1.2.3+',
      'v1.2.3',
    ]) {
      expect(show('semver.is_valid', bad)).toBe('false');
    }
    expect(show('semver.is_valid', 1)).toBe('false');
  });

  it('compares by precedence, ignoring build metadata', () => {
    expect(show('semver.compare', '1.0.0', '2.0.0')).toBe('-1');
    expect(show('semver.compare', '2.0.0', '1.0.0')).toBe('1');
    expect(show('semver.compare', '1.2.3+01', '1.2.3+2')).toBe('0');
    expect(show('semver.compare', '1.0.0-alpha', '1.0.0')).toBe('-1');
    expect(show('semver.compare', '1.0.0-alpha.1', '1.0.0-alpha.beta')).toBe('-1');
    expect(show('semver.compare', '1.0.0-beta.11', '1.0.0-beta.2')).toBe('1');
    expect(show('semver.compare', '1.0.0-rc.1', '1.0.0-rc.1.1')).toBe('-1');
    expect(show('semver.compare', '99999999999999999999.0.0', '99999999999999999998.0.0')).toBe(
      '1',
    );
  });

  it('names the operand that is not a version', () => {
    expect(failure('semver.compare', '1', '1.0.0')).toBe(
      'builtin: semver.compare: operand 1: string "1" is not a valid SemVer',
    );
    expect(failure('semver.compare', '1.2.3', '1.2.3-01')).toBe(
      'builtin: semver.compare: operand 2: string "1.2.3-01" is not a valid SemVer',
    );
  });
});
