import { SIGNATURES_FILE } from '../../../../policies/bundle/sign';
import type { TarEntry } from '../../../../policies/bundle/tar';
import { BundleContentError, unpackBundle } from '../../../../policies/bundle/unpack';

const text = (path: string, content: string): TarEntry => ({
  path,
  data: new TextEncoder().encode(content),
});

function problemsOf(entries: TarEntry[]): readonly string[] {
  try {
    unpackBundle(entries);
  } catch (err) {
    if (err instanceof BundleContentError) return err.problems;
    throw err;
  }
  throw new Error('expected a BundleContentError');
}

describe('unpackBundle', () => {
  it('sorts a bundle into manifest, wasm, data, modules and rule set', () => {
    const wasm = new Uint8Array([0, 97, 115, 109]);
    const unpacked = unpackBundle([
      text('.manifest', '{"name": "x"}'),
      { path: 'policy.wasm', data: wasm },
      text('data.json', '{"top": 1}'),
      text('a/b/data.yml', 'deep: true\n'),
      text('empty/data.yaml', ''),
      text('p/policy.rego', 'package p\n'),
      text('rules.json', '[]'),
      text('notes/other.json', 'ignored, not a data file'),
      text(SIGNATURES_FILE, '{}'),
    ]);
    expect(unpacked.manifest).toEqual({ name: 'x' });
    expect(unpacked.wasm).toBe(wasm);
    expect(unpacked.data).toEqual({ top: 1, a: { b: { deep: true } }, empty: {} });
    expect(unpacked.modules).toEqual([{ file: 'p/policy.rego', text: 'package p\n' }]);
    expect(unpacked.ruleSet).toEqual({ file: 'rules.json', text: '[]' });
    expect(unpacked.signed).toBe(true);
  });

  it('takes the wasm module the manifest names', () => {
    const unpacked = unpackBundle([
      text('.manifest', '{"wasm": [{"entrypoint": "a/b", "module": "/x/compiled.wasm"}]}'),
      text('x/compiled.wasm', 'bytes'),
    ]);
    expect(new TextDecoder().decode(unpacked.wasm)).toBe('bytes');
    expect(unpacked.signed).toBe(false);
    expect(unpackBundle([]).manifest).toBeUndefined();
  });

  it('keeps a data key named __proto__ as plain data', () => {
    const unpacked = unpackBundle([
      text('data.json', '{"__proto__": {"polluted": true}}'),
      text('x/data.json', '{"y": 1}'),
    ]);
    expect(Object.getPrototypeOf(unpacked.data)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(unpacked.data)).toEqual(['__proto__', 'x']);
  });

  it.each<[string, TarEntry[], RegExp]>([
    ['a file twice', [text('a.rego', 'x'), text('a.rego', 'y')], /^a\.rego: appears twice/],
    ['a manifest that is not JSON', [text('.manifest', '{')], /^\.manifest: not JSON/],
    [
      'a manifest that is not UTF-8',
      [{ path: '.manifest', data: new Uint8Array([0xff, 0xfe]) }],
      /^\.manifest: not UTF-8 text/,
    ],
    [
      'several wasm modules',
      [text('.manifest', '{"wasm": [{"module": "/a.wasm"}, {"module": "/b.wasm"}]}')],
      /lists 2 wasm modules/,
    ],
    [
      'a named module that is missing',
      [text('.manifest', '{"wasm": [{"module": "/gone.wasm"}]}')],
      /names the wasm module \/gone\.wasm, which is not in the bundle/,
    ],
    ['bad JSON data', [text('data.json', '{"a": }')], /^data\.json: not valid data: /],
    ['bad YAML data', [text('data.yaml', 'a: [1,')], /^data\.yaml: not valid data: /],
    ['data that is not an object', [text('data.json', '[1]')], /must hold an object/],
    [
      'data defined twice',
      [text('data.json', '{"a": {"b": 1}}'), text('a/data.json', '{"b": 2}')],
      /^a\/data\.json: data\.a\.b is defined by another data file too/,
    ],
    [
      'a Rego file that is not UTF-8',
      [{ path: 'p.rego', data: new Uint8Array([0xc3]) }],
      /^p\.rego: not UTF-8 text/,
    ],
    [
      'two rule sets',
      [text('rules.json', '[]'), text('rules.yaml', '[]')],
      /rules\.json and rules\.yaml: a CASL bundle has one rule set file/,
    ],
  ])('refuses %s', (_label, entries, expected) => {
    expect(problemsOf(entries).join('\n')).toMatch(expected);
  });
});
