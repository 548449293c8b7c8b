import { failure, json, show } from './call';

const schema = json('{"properties": {"id": {"type": "integer"}}, "required": ["id"]}');

describe('json.match_schema', () => {
  it('accepts matching documents given as values or JSON text', () => {
    expect(show('json.match_schema', json('{"id": 5}'), schema)).toBe('[true, []]');
    expect(show('json.match_schema', '{"id": 5}', schema)).toBe('[true, []]');
    expect(show('json.match_schema', json('{"id": 5}'), '{"required": ["id"]}')).toBe('[true, []]');
  });

  it('describes each violation as OPA does', () => {
    expect(show('json.match_schema', json('{"id": "foo"}'), schema)).toBe(
      '[false, [{"desc": "Invalid type. Expected: integer, given: string", "error": "id: Invalid type. Expected: integer, given: string", "field": "id", "type": "invalid_type"}]]',
    );
    expect(show('json.match_schema', json('{}'), schema)).toBe(
      '[false, [{"desc": "id is required", "error": "(root): id is required", "field": "(root)", "type": "required"}]]',
    );
    expect(
      show(
        'json.match_schema',
        json('{"a": [1, 2]}'),
        json('{"properties": {"a": {"maxItems": 1}}}'),
      ),
    ).toBe(
      '[false, [{"desc": "Array must have at most 1 items", "error": "a: Array must have at most 1 items", "field": "a", "type": "array_max_items"}]]',
    );
  });

  it('rejects everything under an empty enum', () => {
    expect(show('json.match_schema', json('{"value": "allow"}'), json('{"enum": []}'))).toMatch(
      /^\[false, /,
    );
  });

  it('checks `pattern` with RE2', () => {
    const s = json('{"properties": {"n": {"pattern": "^a+$"}}}');
    expect(show('json.match_schema', json('{"n": "aaa"}'), s)).toBe('[true, []]');
    expect(show('json.match_schema', json('{"n": "b"}'), s)).toMatch(
      /Does not match pattern '\^a\+\$'/,
    );
  });

  it('fails on invalid schemas and inputs', () => {
    expect(
      failure(
        'json.match_schema',
        json('{"id": 1}'),
        json('{"properties": {"id": {"type": "unknown"}}}'),
      ),
    ).toBe(
      'builtin: json.match_schema: has a primitive type that is NOT VALID -- given: /unknown/ Expected valid values are:[array boolean integer number null object string]',
    );
    expect(failure('json.match_schema', '{', schema)).toBe(
      'builtin: json.match_schema: invalid JSON string',
    );
    expect(failure('json.match_schema', 5, schema)).toBe(
      'builtin: json.match_schema: wrong type, expected string or object',
    );
  });
});

describe('json.verify_schema', () => {
  it('answers [true, null] or [false, reason]', () => {
    expect(show('json.verify_schema', schema)).toBe('[true, null]');
    expect(show('json.verify_schema', json('{"type": "nope"}'))).toBe(
      '[false, "jsonschema: has a primitive type that is NOT VALID -- given: /nope/ Expected valid values are:[array boolean integer number null object string]"]',
    );
    expect(show('json.verify_schema', 5)).toBe(
      '[false, "jsonschema: wrong type, expected string or object"]',
    );
  });
});
