import { failure, json, set, show } from './call';

describe('base64 and base64url', () => {
  it('encode and decode UTF-8 text', () => {
    expect(show('base64.encode', 'subjects?_d')).toBe('"c3ViamVjdHM/X2Q="');
    expect(show('base64.decode', 'c3ViamVjdHM/X2Q=')).toBe('"subjects?_d"');
    expect(show('base64.decode', 'aGVs\nbG8=')).toBe('"hello"');
    expect(show('base64url.encode', 'subjects?_d')).toBe('"c3ViamVjdHM_X2Q="');
    expect(show('base64url.encode_no_pad', 'hello')).toBe('"aGVsbG8"');
    expect(show('base64url.decode', 'aGVsbG8')).toBe('"hello"');
    expect(show('base64url.decode', 'aGVsbG8=')).toBe('"hello"');
    expect(show('base64.encode', 'é')).toBe('"w6k="');
  });

  it('reject malformed input', () => {
    expect(failure('base64.decode', 'aGVsbG8')).toBe(
      'builtin: base64.decode: illegal base64 data at input byte 4',
    );
    expect(failure('base64.decode', 'a$==')).toBe(
      'builtin: base64.decode: illegal base64 data at input byte 1',
    );
    expect(failure('base64url.decode', 'a')).toBe(
      'builtin: base64url.decode: illegal base64url string: a',
    );
    expect(show('base64.is_valid', 'aGVsbG8=')).toBe('true');
    expect(show('base64.is_valid', 'aGVsbG8')).toBe('false');
    expect(show('base64.is_valid', 1)).toBe('false');
  });
});

describe('hex', () => {
  it('encodes bytes and decodes pairs of hex digits', () => {
    expect(show('hex.encode', 'hi')).toBe('"6869"');
    expect(show('hex.decode', '6869')).toBe('"hi"');
    expect(failure('hex.decode', 'fghijkl')).toBe(
      "builtin: hex.decode: encoding/hex: invalid byte: U+0067 'g'",
    );
    expect(failure('hex.decode', 'abc')).toBe(
      'builtin: hex.decode: encoding/hex: odd length hex string',
    );
  });
});

describe('urlquery', () => {
  it('escapes like Go url.QueryEscape and back', () => {
    expect(show('urlquery.encode', 'a=b+1 é')).toBe('"a%3Db%2B1+%C3%A9"');
    expect(show('urlquery.encode', '')).toBe('""');
    expect(show('urlquery.decode', 'a%3Db%2B1+x')).toBe('"a=b+1 x"');
    expect(failure('urlquery.decode', '%zz')).toBe(
      'builtin: urlquery.decode: invalid URL escape "%zz"',
    );
  });

  it('encodes objects with sorted keys and repeated values', () => {
    expect(show('urlquery.encode_object', json('{"c": "d", "a": "b"}'))).toBe('"a=b&c=d"');
    expect(show('urlquery.encode_object', json('{"a": ["b+1", "c+2"]}'))).toBe('"a=b%2B1&a=c%2B2"');
    expect(show('urlquery.encode_object', json('{"a": []}'))).toBe('""');
    expect(show('urlquery.encode_object', json('{"b": "1"}'))).toBe('"b=1"');
    expect(failure('urlquery.encode_object', json('{"a": 1}'))).toBe(
      'type: urlquery.encode_object: operand 1 values must be string, array[string], or set[string]',
    );
  });

  it('decodes objects into lists of values', () => {
    expect(show('urlquery.decode_object', 'a=value_a1&b=value_b&a=value_a2')).toBe(
      '{"a": ["value_a1", "value_a2"], "b": ["value_b"]}',
    );
    expect(show('urlquery.decode_object', 'a=value_a1&b')).toBe('{"a": ["value_a1"], "b": [""]}');
    expect(show('urlquery.decode_object', '')).toBe('{}');
    expect(failure('urlquery.decode_object', 'a=1;b=2')).toBe(
      'builtin: urlquery.decode_object: invalid semicolon separator in query',
    );
  });
});

describe('json.marshal and friends', () => {
  it('writes compact JSON as Go does: sets as arrays, keys sorted, HTML escaped', () => {
    expect(show('json.marshal', [json('{"foo": [1, 2, 3]}')])).toBe('"[{\\"foo\\":[1,2,3]}]"');
    expect(show('json.marshal', [set(3, 1, 2)])).toBe('"[[1,2,3]]"');
    expect(show('json.marshal', '<a&b>')).toBe('"\\"\\\\u003ca\\\\u0026b\\\\u003e\\""');
    expect(show('json.marshal', 2n ** 70n)).toBe('"1180591620717411303424"');
  });

  it('pretty-prints with options', () => {
    expect(show('json.marshal_with_options', json('{"a": [1]}'), json('{"indent": "  "}'))).toBe(
      '"{\\n  \\"a\\": [\\n    1\\n  ]\\n}"',
    );
    expect(
      show(
        'json.marshal_with_options',
        json('{"a": 1}'),
        json('{"prefix": "> ", "pretty": false}'),
      ),
    ).toBe('"{\\"a\\":1}"');
    expect(failure('json.marshal_with_options', 1, json('{"colour": true}'))).toBe(
      'type: json.marshal_with_options: operand 2 object contained unknown key colour',
    );
  });

  it('parses JSON with exact numbers and validates it', () => {
    expect(show('json.unmarshal', '{"a": 123456789012345678901234567890}')).toBe(
      '{"a": 123456789012345678901234567890}',
    );
    expect(failure('json.unmarshal', '{"a": 1')).toBe(
      "builtin: json.unmarshal: invalid JSON: expected ',' or '}' at line 1, column 8",
    );
    expect(show('json.is_valid', '{"json": "ok"}')).toBe('true');
    expect(show('json.is_valid', '{')).toBe('false');
    expect(show('json.is_valid', 1)).toBe('false');
  });
});

describe('yaml', () => {
  it('round-trips values, sets becoming lists', () => {
    const text = show('yaml.marshal', [json('{"foo": [1, 2]}'), set('x')]);
    expect(text).toBe('"- foo:\\n  - 1\\n  - 2\\n- - x\\n"');
    expect(show('yaml.unmarshal', '- foo:\n  - 1\n  - 2\n- - x\n')).toBe(
      '[{"foo": [1, 2]}, ["x"]]',
    );
  });

  it('reads YAML 1.1 scalars as Go does', () => {
    expect(show('yaml.unmarshal', 'a: yes\nb: 123456789012345678901234\nc: 2001-12-14\nd: ~')).toBe(
      '{"a": true, "b": 123456789012345678901234, "c": "2001-12-14T00:00:00Z", "d": null}',
    );
    expect(show('yaml.marshal', json('{"s": "yes"}'))).toBe('"s: \\"yes\\"\\n"');
    expect(show('yaml.unmarshal', '')).toBe('null');
  });

  it('validates every document of a stream', () => {
    expect(show('yaml.is_valid', 'a: 1\n---\nb: 2\n')).toBe('true');
    expect(show('yaml.is_valid', 'a: 1\n---\n\tb: 2\n')).toBe('false');
    expect(show('yaml.is_valid', '  test:\ntest1: hello\n')).toBe('false');
    expect(show('yaml.is_valid', 1)).toBe('false');
    expect(failure('yaml.unmarshal', 'a: [')).toMatch(/^builtin: yaml.unmarshal: yaml: /);
  });
});
