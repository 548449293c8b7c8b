import { BUILTINS, lookupBuiltin } from '../../../../../policies/rego/builtins';
import type { TypeSpec } from '../../../../../policies/rego/builtins/types';

function wellFormed(t: TypeSpec): boolean {
  switch (t.kind) {
    case 'array':
    case 'set':
      return wellFormed(t.of);
    case 'object':
      return wellFormed(t.key) && wellFormed(t.value);
    case 'anyOf':
      return t.of.length > 0 && t.of.every(wellFormed);
    default:
      return true;
  }
}

describe('the builtins catalogue', () => {
  it('finds builtins by their Rego name', () => {
    expect(lookupBuiltin('count')?.name).toBe('count');
    expect(lookupBuiltin('internal.member_2')?.args).toHaveLength(2);
    expect(lookupBuiltin('no.such.builtin')).toBeUndefined();
    expect(lookupBuiltin('print')).toBeUndefined(); // the interpreter's own
    expect(lookupBuiltin('toString')).toBeUndefined();
  });

  it('declares every builtin under its own name with well-formed types', () => {
    for (const [name, def] of BUILTINS) {
      expect(def.name).toBe(name);
      expect(def.args.every(wellFormed)).toBe(true);
      expect(wellFormed(def.result)).toBe(true);
    }
  });

  it('declares OPA signatures', () => {
    expect(lookupBuiltin('count')?.args).toEqual([
      {
        kind: 'anyOf',
        of: [
          { kind: 'string' },
          { kind: 'array', of: { kind: 'any' } },
          { kind: 'object', key: { kind: 'any' }, value: { kind: 'any' } },
          { kind: 'set', of: { kind: 'any' } },
        ],
      },
    ]);
    expect(lookupBuiltin('plus')?.args).toEqual([{ kind: 'number' }, { kind: 'number' }]);
    expect(lookupBuiltin('time.now_ns')?.args).toEqual([]);
    expect(lookupBuiltin('glob.match')?.args[1]).toEqual({
      kind: 'anyOf',
      of: [{ kind: 'null' }, { kind: 'array', of: { kind: 'string' } }],
    });
  });

  it('marks relations and builtins whose answer changes between queries', () => {
    const relations = [...BUILTINS.values()].filter((d) => d.relation).map((d) => d.name);
    expect(relations).toEqual(['walk']);
    for (const name of [
      'time.now_ns',
      'rand.intn',
      'uuid.rfc4122',
      'http.send',
      'io.jwt.decode_verify',
    ]) {
      expect(lookupBuiltin(name)?.nondeterministic).toBe(true);
    }
    expect(lookupBuiltin('count')?.nondeterministic).toBeUndefined();
  });

  it('offers the builtins the conformance corpus calls', () => {
    const called = [
      'abs',
      'array.concat',
      'array.flatten',
      'array.reverse',
      'array.slice',
      'base64.decode',
      'base64.encode',
      'base64url.decode',
      'base64url.encode',
      'base64url.encode_no_pad',
      'bits.and',
      'bits.lsh',
      'bits.negate',
      'bits.or',
      'bits.rsh',
      'bits.xor',
      'concat',
      'contains',
      'count',
      'endswith',
      'floor',
      'format_int',
      'glob.match',
      'glob.quote_meta',
      'graph.reachable',
      'graph.reachable_paths',
      'hex.decode',
      'http.send',
      'indexof',
      'indexof_n',
      'intersection',
      'io.jwt.decode_verify',
      'is_array',
      'is_boolean',
      'is_null',
      'is_object',
      'is_set',
      'is_string',
      'json.filter',
      'json.is_valid',
      'json.marshal',
      'json.match_schema',
      'json.patch',
      'json.remove',
      'lower',
      'max',
      'min',
      'net.cidr_contains',
      'net.cidr_expand',
      'net.cidr_is_valid',
      'numbers.range',
      'numbers.range_step',
      'object.filter',
      'object.get',
      'object.keys',
      'object.remove',
      'object.subset',
      'object.union',
      'object.union_n',
      'opa.runtime',
      'product',
      'rand.intn',
      'regex.find_all_string_submatch_n',
      'regex.find_n',
      'regex.is_valid',
      'regex.match',
      'regex.replace',
      'regex.split',
      'regex.template_match',
      'replace',
      'round',
      'semver.compare',
      'semver.is_valid',
      'sort',
      'split',
      'sprintf',
      'startswith',
      'strings.any_prefix_match',
      'strings.any_suffix_match',
      'strings.count',
      'strings.replace_n',
      'strings.split_n',
      'substring',
      'sum',
      'time.add_date',
      'time.clock',
      'time.date',
      'time.diff',
      'time.format',
      'time.now_ns',
      'time.parse_duration_ns',
      'time.parse_ns',
      'time.parse_rfc3339_ns',
      'time.weekday',
      'to_number',
      'trim',
      'trim_left',
      'trim_prefix',
      'trim_space',
      'trim_suffix',
      'type_name',
      'units.parse',
      'units.parse_bytes',
      'upper',
      'urlquery.decode_object',
      'urlquery.encode',
      'urlquery.encode_object',
      'uuid.parse',
      'uuid.rfc4122',
      'walk',
      'yaml.is_valid',
      'yaml.marshal',
      'yaml.unmarshal',
    ];
    expect(called.filter((name) => lookupBuiltin(name) === undefined)).toEqual([]);
  });
});
