import { MAX_EXPANDED_ADDRESSES } from '../../../../../policies/rego/builtins/net';
import { failure, json, set, show } from './call';

describe('net.cidr_contains and net.cidr_intersects', () => {
  it('test addresses and blocks, IPv4 and IPv6', () => {
    expect(show('net.cidr_contains', '10.0.0.0/8', '10.1.2.3')).toBe('true');
    expect(show('net.cidr_contains', '10.0.0.0/8', '10.1.0.0/24')).toBe('true');
    expect(show('net.cidr_contains', '10.0.0.0/24', '10.0.0.0/16')).toBe('false');
    expect(
      show('net.cidr_contains', '2001:4860:4860::8888/32', '2001:4860:4860:1234::8888/40'),
    ).toBe('true');
    expect(show('net.cidr_contains', '10.0.0.0/8', '::1')).toBe('false');
    expect(show('net.cidr_intersects', '192.168.1.0/25', '192.168.1.64/26')).toBe('true');
    expect(show('net.cidr_intersects', '192.168.1.0/26', '192.168.1.64/26')).toBe('false');
  });

  it('report bad CIDRs and addresses', () => {
    expect(failure('net.cidr_contains', 'not-a-cidr', '192.168.1.67')).toBe(
      'builtin: net.cidr_contains: invalid CIDR address: not-a-cidr',
    );
    expect(failure('net.cidr_contains', '192.168.1.0/28', 'not-a-cidr')).toBe(
      'builtin: net.cidr_contains: not a valid textual representation of an IP address or CIDR: not-a-cidr',
    );
    expect(failure('net.cidr_contains', '01.1.1.1/8', '1.1.1.1')).toBe(
      'builtin: net.cidr_contains: invalid CIDR address: 01.1.1.1/8',
    );
  });
});

describe('net.cidr_is_valid and net.cidr_expand', () => {
  it('validates CIDR notation only', () => {
    expect(show('net.cidr_is_valid', '192.168.1.0/24')).toBe('true');
    expect(show('net.cidr_is_valid', '2002::1234:abcd:ffff:c0a8:101/64')).toBe('true');
    expect(show('net.cidr_is_valid', '192.168.1.2')).toBe('false');
    expect(show('net.cidr_is_valid', '')).toBe('false');
    expect(show('net.cidr_is_valid', 7)).toBe('false');
  });

  it('expands a block into its addresses', () => {
    expect(show('net.cidr_expand', '192.168.1.1/30')).toBe(
      '{"192.168.1.0", "192.168.1.1", "192.168.1.2", "192.168.1.3"}',
    );
    expect(show('net.cidr_expand', '2001:db8::/127')).toBe('{"2001:db8::", "2001:db8::1"}');
    expect(failure('net.cidr_expand', '192.168.1.1/33')).toBe(
      'builtin: net.cidr_expand: invalid CIDR address: 192.168.1.1/33',
    );
    expect(failure('net.cidr_expand', '10.0.0.0/8')).toBe(
      `builtin: net.cidr_expand: 10.0.0.0/8 has 16777216 addresses, more than the ${MAX_EXPANDED_ADDRESSES} it expands`,
    );
  });
});

describe('net.cidr_merge', () => {
  it('merges adjacent and overlapping blocks', () => {
    expect(show('net.cidr_merge', ['192.0.128.0/24', '192.0.129.0/24'])).toBe('{"192.0.128.0/23"}');
    expect(show('net.cidr_merge', set('10.0.0.0/8', '10.1.0.0/16'))).toBe('{"10.0.0.0/8"}');
    expect(show('net.cidr_merge', ['10.0.0.0/24', '10.0.2.0/24'])).toBe(
      '{"10.0.0.0/24", "10.0.2.0/24"}',
    );
    expect(show('net.cidr_merge', ['2001:db8::/33', '2001:db8:8000::/33'])).toBe(
      '{"2001:db8::/32"}',
    );
    expect(failure('net.cidr_merge', ['::1'])).toBe(
      'builtin: net.cidr_merge: IPv6 invalid: needs prefix length',
    );
    expect(failure('net.cidr_merge', 'x')).toBe(
      'builtin: net.cidr_merge: operand must be an array',
    );
  });
});

describe('net.cidr_contains_matches', () => {
  it('pairs up the keys of containing and contained entries', () => {
    expect(show('net.cidr_contains_matches', ['1.1.1.0/24', '1.1.2.0/24'], '1.1.1.128')).toBe(
      '{[0, "1.1.1.128"]}',
    );
    expect(
      show(
        'net.cidr_contains_matches',
        json('{"x": "1.1.0.0/16"}'),
        json('{"a": ["1.1.1.1", "note"], "b": "2.2.2.2"}'),
      ),
    ).toBe('{["x", "a"]}');
  });
});
