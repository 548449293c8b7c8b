/** `--audit-retention-days` of `verdict tenants create|update`. */
import { parseRetentionDays } from '../../../cli/tenants';

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
