import { ObjectValue } from '../../policies/ir/value';
import { corpusAvailable, corpusRoot, CorpusError, loadCorpus, parseCaseFile } from './corpus';

const FILE = `
---
cases:
  - note: demo/first
    query: data.test.p = x
    modules:
      - |
        package test
        p := 1
      - |
        package other
    data:
      big: 123456789012345678901234567890
      small: 7
    input: null
    want_result:
      - x: 1
    sort_bindings: true
  - note: demo/second
    query: data.test.q = x
    input_term: '{"a": {"b"}}'
    want_error_code: eval_type_error
    want_error: "boom"
    strict_error: true
    traces: true
`;

describe('parseCaseFile', () => {
  const [first, second] = parseCaseFile('demo', 'test-demo.yaml', FILE);

  it('gives every case a unique id and its modules synthesized names', () => {
    expect(first?.id).toBe('demo/test-demo.yaml#0');
    expect(second?.id).toBe('demo/test-demo.yaml#1');
    expect(first?.modules.map((m) => [m.file, m.opaFile])).toEqual([
      ['demo/test-demo.yaml#0.rego', 'test-0.rego'],
      ['demo/test-demo.yaml#1.rego', 'test-1.rego'],
    ]);
    expect(first?.modules[0]?.text).toBe('package test\np := 1\n');
  });

  it('keeps big integers exact and narrows small ones to numbers', () => {
    const data = first?.data as ObjectValue;
    expect(data.get('big')).toBe(123456789012345678901234567890n);
    expect(data.get('small')).toBe(7);
  });

  it('reads expectations and flags', () => {
    expect(first?.wantResult).toEqual([new Map([['x', 1]])]);
    expect(first?.sortBindings).toBe(true);
    expect(first?.strictError).toBe(false);
    expect(first?.input).toBeUndefined();
    expect(second?.inputTerm).toBe('{"a": {"b"}}');
    expect(second?.wantErrorCode).toBe('eval_type_error');
    expect(second?.wantError).toBe('boom');
    expect(second?.strictError).toBe(true);
    expect(second?.wantResult).toBeUndefined();
    expect(second?.modules).toEqual([]);
  });

  it('refuses unknown fields and badly typed ones', () => {
    const unknown = 'cases:\n  - note: n\n    query: q\n    capabilities: {}\n';
    expect(() => parseCaseFile('f', 'x.yaml', unknown)).toThrow(CorpusError);
    expect(() => parseCaseFile('f', 'x.yaml', unknown)).toThrow(/unknown field "capabilities"/);
    const badFlag = 'cases:\n  - note: n\n    query: q\n    strict_error: "yes"\n';
    expect(() => parseCaseFile('f', 'x.yaml', badFlag)).toThrow(
      /strict_error: expected true or false/,
    );
    expect(() => parseCaseFile('f', 'x.yaml', 'cases:\n  - query: q\n')).toThrow(/missing "note"/);
  });
});

const withCorpus = corpusAvailable() ? describe : describe.skip;

withCorpus('the corpus on disk', () => {
  it('loads every case of every folder', () => {
    const cases = loadCorpus();
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
    expect(new Set(cases.map((c) => c.folder)).size).toBeGreaterThanOrEqual(100);
    expect(cases.length).toBeGreaterThanOrEqual(1000);
  });

  it('loads one folder on request and names a missing one', () => {
    const cases = loadCorpus({ folder: 'aggregates' });
    expect(cases.length).toBeGreaterThan(0);
    expect(cases.every((c) => c.folder === 'aggregates')).toBe(true);
    expect(() => loadCorpus({ folder: 'no-such-folder' })).toThrow(/no folder "no-such-folder"/);
  });
});

if (!corpusAvailable()) {
  test.skip(`corpus not found at ${corpusRoot()}: on-disk checks skipped`, () => undefined);
}
