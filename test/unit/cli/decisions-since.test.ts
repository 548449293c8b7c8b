/** `--since` of `verdict decisions search|export|verify`: a duration back from now as `--from`. */
import { AdminCommandError } from '../../../cli/admin-client';
import { sinceTime, withSinceResolved } from '../../../cli/decisions';

const now = new Date('2026-11-27T12:00:00.000Z');

describe('sinceTime', () => {
  it.each([
    ['30m', '2026-11-27T11:30:00.000Z'],
    ['24h', '2026-11-26T12:00:00.000Z'],
    ['7d', '2026-11-20T12:00:00.000Z'],
    ['90s', '2026-11-27T11:58:30.000Z'],
  ])('%s before now is %s', (since, from) => {
    expect(sinceTime(since, now)).toBe(from);
  });

  it.each(['', '24', 'h', '0h', '1w', '1.5h', ' 24h', '-1d', '24H'])(
    'refuses %j, naming the forms it takes',
    (since) => {
      expect(() => sinceTime(since, now)).toThrow(
        new AdminCommandError(
          `--since must be a duration like 30m, 24h or 7d (got ${JSON.stringify(since)})`,
        ),
      );
    },
  );

  it('counts back from the clock when no time is given', () => {
    const before = Date.now();
    const from = Date.parse(sinceTime('1h'));
    expect(from).toBeGreaterThanOrEqual(before - 3_600_000);
    expect(from).toBeLessThanOrEqual(Date.now() - 3_600_000);
  });
});

describe('withSinceResolved', () => {
  it('turns --since into --from and keeps every other option', () => {
    expect(withSinceResolved({ tenant: 'acme', since: '2h', to: 'x', path: 'p' }, now)).toEqual({
      tenant: 'acme',
      from: '2026-11-27T10:00:00.000Z',
      to: 'x',
      path: 'p',
    });
  });

  it('leaves options without --since as they are', () => {
    const options = { tenant: 'acme', from: '2026-11-01T00:00:00Z' };
    expect(withSinceResolved(options, now)).toBe(options);
  });

  it('refuses --since with --from', () => {
    expect(() => withSinceResolved({ since: '1h', from: '2026-11-01T00:00:00Z' }, now)).toThrow(
      'give either --since or --from, not both',
    );
  });
});
