import { RE2JS } from 're2js';
import { fieldsPattern } from '../../../../policies/casl/fields';

function matches(fields: string[], field: string): boolean {
  const pattern = fieldsPattern(fields);
  if (pattern === undefined) return fields.includes(field);
  return RE2JS.compile(pattern).matcher(field).find();
}

describe('CASL field patterns', () => {
  it('leaves lists without wildcards to exact membership', () => {
    expect(fieldsPattern(['title', 'meta.a'])).toBeUndefined();
  });

  it.each([
    [['meta.*'], 'meta', true],
    [['meta.*'], 'meta.a', true],
    [['meta.*'], 'meta.a.b', false],
    [['meta.**'], 'meta.a.b', true],
    [['*'], 'title', true],
    [['*'], 'meta.a', false],
    [['**'], 'meta.a', true],
    [['meta.*.b'], 'meta.a.b', true],
    [['meta.*.b'], 'meta..b', false],
    [['me*'], 'meta', true],
    [['me*'], 'me', true],
    [['title', 'a.*'], 'title', true],
    [['a+b.*'], 'a+b.c', true],
    [['a+b.*'], 'aab.c', false],
  ])('%j matches %s: %s', (fields, field, want) => {
    expect(matches(fields, field)).toBe(want);
  });
});
