import { maxDurationSeconds, parseDuration } from '../../../../api/schemas/duration';

describe('parseDuration', () => {
  it.each([
    ['90s', 90],
    ['15m', 900],
    ['12h', 43_200],
    ['30d', 2_592_000],
    ['3650d', maxDurationSeconds],
  ])('reads %s as %d seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', '0d', '30', 'd', '1.5h', '-1d', '30 d', '30D', '1w', '1234567d'])(
    'refuses %j',
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );
});
