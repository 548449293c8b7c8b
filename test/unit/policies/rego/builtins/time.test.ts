import { call, context, failure, show } from './call';

const SECOND = 1_000_000_000;

describe('time.now_ns', () => {
  it('is the query time from the context', () => {
    expect(call('time.now_ns', [], context(1_700_000_000_123_456_789n))).toBe(
      1_700_000_000_123_456_789n,
    );
  });
});

describe('time.parse_rfc3339_ns and time.parse_ns', () => {
  it('read RFC 3339 with offsets and fractions', () => {
    expect(show('time.parse_rfc3339_ns', '2017-06-02T19:00:00-07:00')).toBe('1496455200000000000');
    expect(show('time.parse_rfc3339_ns', '1970-01-01T00:00:00-00:00')).toBe('0');
    expect(show('time.parse_rfc3339_ns', '1677-09-21T00:12:43.145224192-00:00')).toBe(
      '-9223372036854775808',
    );
    expect(show('time.parse_rfc3339_ns', '2262-04-11T23:47:16.854775807Z')).toBe(
      '9223372036854775807',
    );
    expect(failure('time.parse_rfc3339_ns', '2262-04-11T23:47:16.854775808Z')).toBe(
      'builtin: time.parse_rfc3339_ns: time outside of valid range',
    );
  });

  it('read Go layouts and their names', () => {
    expect(show('time.parse_ns', '2006-01-02', '2020-02-02')).toBe('1580601600000000000');
    expect(show('time.parse_ns', 'RFC822Z', '02 Jan 06 15:04 +0100')).toBe('1136210640000000000');
    expect(show('time.parse_ns', 'Mon Jan _2 15:04:05 2006', 'Tue Feb  3 04:05:06 2009')).toBe(
      '1233633906000000000',
    );
    expect(show('time.parse_ns', '3:04PM Jan 2 2006', '1:30AM Mar 7 2021')).toBe(
      '1615080600000000000',
    );
    expect(show('time.parse_ns', '2006-01-02 15:04:05.000', '2021-03-07 01:30:00.250')).toBe(
      '1615080600250000000',
    );
    expect(show('time.parse_ns', '2006-01-02 15:04:05', '2021-03-07 01:30:00.5')).toBe(
      '1615080600500000000',
    );
    expect(show('time.parse_ns', '02 Jan 06 15:04 MST', '07 Mar 21 01:30 UTC')).toBe(
      '1615080600000000000',
    );
  });

  it('say what did not parse', () => {
    expect(failure('time.parse_ns', '2006-01-02', 'x')).toBe(
      'builtin: time.parse_ns: parsing time "x" as "2006-01-02": cannot parse "x" as "2006"',
    );
    expect(failure('time.parse_ns', '2006-01-02', '2020-13-01')).toBe(
      'builtin: time.parse_ns: parsing time "2020-13-01": month out of range',
    );
    expect(failure('time.parse_ns', '2006-01-02', '2021-02-29')).toBe(
      'builtin: time.parse_ns: parsing time "2021-02-29": day out of range',
    );
    expect(failure('time.parse_ns', '2006-01-02', '2021-02-03x')).toBe(
      'builtin: time.parse_ns: parsing time "2021-02-03x": extra text: "x"',
    );
  });
});

describe('time.parse_duration_ns', () => {
  it('reads Go durations', () => {
    expect(show('time.parse_duration_ns', '100ms')).toBe('100000000');
    expect(show('time.parse_duration_ns', '1h2m3.5s')).toBe('3723500000000');
    expect(show('time.parse_duration_ns', '-1.5h')).toBe('-5400000000000');
    expect(show('time.parse_duration_ns', '1µs')).toBe('1000');
    expect(show('time.parse_duration_ns', '0')).toBe('0');
  });

  it('rejects malformed durations with Go messages', () => {
    expect(failure('time.parse_duration_ns', '1')).toBe(
      'builtin: time.parse_duration_ns: time: missing unit in duration "1"',
    );
    expect(failure('time.parse_duration_ns', '1x')).toBe(
      'builtin: time.parse_duration_ns: time: unknown unit "x" in duration "1x"',
    );
    expect(failure('time.parse_duration_ns', '')).toBe(
      'builtin: time.parse_duration_ns: time: invalid duration ""',
    );
    expect(failure('time.parse_duration_ns', '9999999999h')).toBe(
      'builtin: time.parse_duration_ns: time: invalid duration "9999999999h"',
    );
  });
});

describe('reading a time: date, clock, weekday', () => {
  it('in UTC or in a named zone', () => {
    expect(show('time.date', 1517814000 * SECOND)).toBe('[2018, 2, 5]');
    expect(show('time.clock', 1582977600 * SECOND)).toBe('[12, 0, 0]');
    expect(show('time.clock', [1517832000 * SECOND, 'America/New_York'])).toBe('[7, 0, 0]');
    expect(show('time.weekday', 1518177600000000000n)).toBe('"Friday"');
    expect(show('time.date', [0, 'Asia/Tokyo'])).toBe('[1970, 1, 1]');
    expect(show('time.date', -1)).toBe('[1969, 12, 31]');
  });

  it('reject timestamps beyond 64 bits or with fractions, and unknown zones', () => {
    expect(failure('time.date', 1582977600000000000000n)).toBe(
      'builtin: time.date: timestamp too big',
    );
    expect(failure('time.weekday', 1.5)).toBe('builtin: time.weekday: timestamp too big');
    expect(failure('time.date', [0, 'Nowhere/City'])).toBe(
      'builtin: time.date: unknown time zone Nowhere/City',
    );
    expect(failure('time.date', 'x')).toBe(
      'type: time.date: operand 1 must be either number (ns) or [number (ns), string (tz)] but got string',
    );
    expect(failure('time.date', [])).toBe(
      'type: time.date: operand 1 must be either number (ns) or [number (ns), string (tz)] but got array',
    );
  });
});

describe('time.add_date', () => {
  it('adds years, months and days, normalizing like Go', () => {
    expect(show('time.add_date', 1585852421593912000n, 3, 9, 12)).toBe('1705257221593912000');
    // Oct 31 + 1 month = Dec 1.
    expect(show('time.add_date', 1604102400 * SECOND, 0, 1, 0)).toBe(String(1606780800 * SECOND));
    expect(failure('time.add_date', 0, 2262, 1, 1)).toBe(
      'builtin: time.add_date: time outside of valid range',
    );
  });
});

describe('time.diff', () => {
  it('gives years, months, days, hours, minutes, seconds between two times', () => {
    const day = 86400 * SECOND;
    expect(show('time.diff', 61 * SECOND, 0)).toBe('[0, 0, 0, 0, 1, 1]');
    expect(show('time.diff', 1580601600 * SECOND, 1580601600 * SECOND + 28 * day)).toBe(
      '[0, 0, 28, 0, 0, 0]',
    );
    expect(show('time.diff', 1612224000 * SECOND, 1614556800 * SECOND)).toBe('[0, 0, 27, 0, 0, 0]');
    expect(show('time.diff', 1078012800 * SECOND, 1109635200 * SECOND)).toBe('[1, 0, 1, 0, 0, 0]');
    expect(show('time.diff', [3600 * SECOND, 'UTC'], [0, 'Asia/Shanghai'])).toBe(
      '[0, 0, 0, 1, 0, 0]',
    );
  });
});

describe('time.format', () => {
  const ns = 1670006453141828752n;

  it('defaults to RFC 3339 with nanoseconds in UTC', () => {
    expect(show('time.format', 1670006453141828752n)).toBe('"2022-12-02T18:40:53.141828752Z"');
    expect(show('time.format', 0)).toBe('"1970-01-01T00:00:00Z"');
  });

  it('uses a zone and a layout or layout name', () => {
    expect(show('time.format', [1670006453141828752n, 'Asia/Kolkata'])).toBe(
      '"2022-12-03T00:10:53.141828752+05:30"',
    );
    expect(
      show('time.format', [1670006453141828752n, 'Asia/Kolkata', 'Mon Jan 02 15:04:05 -0700 2006']),
    ).toBe('"Sat Dec 03 00:10:53 +0530 2022"');
    expect(show('time.format', [1670006453141828752n, 'Asia/Kolkata', 'RFC1123Z'])).toBe(
      '"Sat, 03 Dec 2022 00:10:53 +0530"',
    );
    expect(show('time.format', [ns, 'UTC', 'Monday, January 2 2006 3:04:05.000 PM MST'])).toBe(
      '"Friday, December 2 2022 6:40:53.141 PM UTC"',
    );
    expect(show('time.format', [0, 'UTC', '002 __2 _2 06 .999 ,000'])).toBe(
      '"001   1  1 70  ,000"',
    );
  });

  it('refuses timestamps that do not fit 64 bits', () => {
    expect(failure('time.format', 1582977600 * 10e12)).toBe(
      'builtin: time.format: timestamp too big',
    );
  });
});
