/** `--audit-retention-days` and `--default-decision` of `verdict tenants create|update`. */
import { parseDefaultDecision, parseRetentionDays } from '../../../cli/tenants';

describe('parseRetentionDays', () => {
  it('reads a number of days, or forever as no limit', () => {
    expect(parseRetentionDays('1')).toBe(1);
    expect(parseRetentionDays('400')).toBe(400);
    expect(parseRetentionDays('36500')).toBe(36_500);
    expect(parseRetentionDays('forever')).toBeNull();
  });

  it.each(['0', '36501', '-5', '1.5', '30d', '', 'never', '1000000'])('refuses %j', (text) => {
    expect(() => parseRetentionDays(text)).toThrow(
      `--audit-retention-days must be a whole number of days from 1 to 36500, or forever (got ${JSON.stringify(text)})`,
    );
  });
});

describe('parseDefaultDecision', () => {
  it("reads a rule path, in OPA's spellings too", () => {
    expect(parseDefaultDecision('system/main')).toBe('system/main');
    expect(parseDefaultDecision('/system/main')).toBe('system/main');
    expect(parseDefaultDecision('data.authz.allow')).toBe('authz/allow');
    expect(parseDefaultDecision('http-api/v2_rules/allow')).toBe('http-api/v2_rules/allow');
  });

  it.each(['', '/', 'a//b', 'a/b/', 'has space', 'data.', 'x'.repeat(256)])(
    'refuses %j',
    (text) => {
      expect(() => parseDefaultDecision(text)).toThrow(
        `--default-decision must be a rule path like system/main or authz/allow (got ${JSON.stringify(text)})`,
      );
    },
  );
});
