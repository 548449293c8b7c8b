import { checkManifest, parseManifest } from '../../../../policies/bundle/manifest';

describe('bundle manifest', () => {
  it('accepts decision-log masks and the cache switch', () => {
    expect(
      checkManifest({ name: 'rbac', version: '1.0.0', mask: ['/input/password'], cache: 'off' }),
    ).toEqual({
      manifest: { name: 'rbac', version: '1.0.0', mask: ['/input/password'], cache: 'off' },
      problems: [],
    });
  });

  it('says what is wrong, one line per field', () => {
    expect(
      checkManifest({ version: 'v1', mask: ['/result/x'], cache: 'sometimes', engine: 'opa' })
        .problems,
    ).toEqual([
      'version: not a semantic version (like 1.2.3 or 2.0.0-rc.1)',
      'engine: must be "rego" or "casl"',
      'mask.0: a mask is a JSON pointer into the input, like /input/password',
      'cache: must be "auto", "on" or "off"',
    ]);
    expect(parseManifest('{').problems[0]).toMatch(/^not JSON: /);
  });
});
