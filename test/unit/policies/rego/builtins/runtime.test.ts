import { lookupBuiltin } from '../../../../../policies/rego/builtins';
import { failure, json, show } from './call';

describe('runtime builtins', () => {
  it('trace is always true', () => {
    expect(show('trace', 'a note')).toBe('true');
  });

  it('opa.runtime describes nothing of the deployment', () => {
    expect(show('opa.runtime')).toBe('{}');
    expect(lookupBuiltin('opa.runtime')?.nondeterministic).toBe(true);
  });

  it('http.send is declared (so it can be mocked) but refuses to run', () => {
    expect(lookupBuiltin('http.send')?.args).toHaveLength(1);
    expect(failure('http.send', json('{"method": "GET", "url": "http://example.com"}'))).toMatch(
      /^builtin: http\.send: Verdict policies cannot make HTTP requests/,
    );
    expect(failure('net.lookup_ip_addr', 'example.com')).toMatch(
      /^builtin: net\.lookup_ip_addr: Verdict policies cannot make DNS lookups/,
    );
  });
});
