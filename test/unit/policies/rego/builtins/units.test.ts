import { failure, show } from './call';

describe('units.parse', () => {
  it('reads decimal and binary suffixes exactly', () => {
    expect(show('units.parse', '500m')).toBe('0.5');
    expect(show('units.parse', '0.0005K')).toBe('0.5');
    expect(show('units.parse', '10Ki')).toBe('10240');
    expect(show('units.parse', '10KI')).toBe('10240');
    expect(show('units.parse', '1.1Ki')).toBe('1126.4');
    expect(show('units.parse', '200M')).toBe('200000000');
    expect(show('units.parse', '100mi')).toBe('104857600');
    expect(show('units.parse', '10Ei')).toBe('11529215046068469760');
    expect(show('units.parse', '"100TI"')).toBe('109951162777600');
    expect(show('units.parse', '2.5e3K')).toBe('2500000');
    expect(show('units.parse', '1e-2')).toBe('0.01');
    expect(show('units.parse', '-3.5E2m')).toBe('-0.35');
    expect(show('units.parse', '5E')).toBe('5000000000000000000');
    expect(show('units.parse', '.5K')).toBe('500');
  });

  it('explains what is wrong with the amount', () => {
    expect(failure('units.parse', '')).toBe('builtin: units.parse: no amount provided');
    expect(failure('units.parse', 'G')).toBe('builtin: units.parse: no amount provided');
    expect(failure('units.parse', '0.0.0')).toBe(
      'builtin: units.parse: could not parse amount to a number',
    );
    expect(failure('units.parse', '100 k')).toBe(
      'builtin: units.parse: spaces not allowed in resource strings',
    );
    expect(failure('units.parse', '10e10000000Ei')).toBe(
      'builtin: units.parse: exponent too large',
    );
    expect(failure('units.parse', '10Gb')).toBe('builtin: units.parse: unit Gb not recognized');
  });
});

describe('units.parse_bytes', () => {
  it('reads byte sizes, case-insensitively, truncated to whole bytes', () => {
    expect(show('units.parse_bytes', '10KB')).toBe('10000');
    expect(show('units.parse_bytes', '10Kib')).toBe('10240');
    expect(show('units.parse_bytes', '1.1KiB')).toBe('1126');
    expect(show('units.parse_bytes', '200mb')).toBe('200000000');
    expect(show('units.parse_bytes', '10eib')).toBe('11529215046068469760');
    expect(show('units.parse_bytes', '1e-2KB')).toBe('10');
    expect(show('units.parse_bytes', '0')).toBe('0');
    expect(show('units.parse_bytes', '.0')).toBe('0');
  });

  it('explains what is wrong with the amount', () => {
    expect(failure('units.parse_bytes', 'GB')).toBe(
      'builtin: units.parse_bytes: no byte amount provided',
    );
    expect(failure('units.parse_bytes', '.5.2')).toBe(
      'builtin: units.parse_bytes: could not parse byte amount to a number',
    );
    expect(failure('units.parse_bytes', ' 327MiB ')).toBe(
      'builtin: units.parse_bytes: spaces not allowed in resource strings',
    );
    expect(failure('units.parse_bytes', '10xb')).toBe(
      'builtin: units.parse_bytes: byte unit xb not recognized',
    );
  });
});
