import fc from 'fast-check';
import {
  isValidJSON,
  JSONParseError,
  MAX_JSON_DEPTH,
  parseJSONValue,
} from '../../../../policies/ir/json';
import { ObjectValue, toJSONText } from '../../../../policies/ir/value';
import { valueToRego } from '../../../../policies/ir/value-text';

const show = (text: string): string => valueToRego(parseJSONValue(text));

function errorOf(text: string): JSONParseError {
  try {
    parseJSONValue(text);
  } catch (e) {
    if (e instanceof JSONParseError) return e;
    throw e;
  }
  throw new Error(`parsed: ${text}`);
}

describe('parseJSONValue', () => {
  it('decodes every JSON type into Rego values', () => {
    expect(show('{"a": [1, 2.5, true, null, "x"], "b": {}}')).toBe(
      '{"a": [1, 2.5, true, null, "x"], "b": {}}',
    );
    expect(parseJSONValue('{"a": 1}')).toBeInstanceOf(ObjectValue);
    expect(show(' [ ] ')).toBe('[]');
    expect(show('"\\u00e9\\ud83d\\ude00\\n\\/"')).toBe('"é😀\\n/"');
  });

  it('keeps big integers exact and integral exponents integral', () => {
    expect(parseJSONValue('123456789012345678901234567890')).toBe(123456789012345678901234567890n);
    expect(parseJSONValue('9007199254740993')).toBe(9007199254740993n);
    expect(parseJSONValue('1e30')).toBe(10n ** 30n);
    expect(parseJSONValue('-0')).toBe(0);
    expect(parseJSONValue('2.5e-3')).toBe(0.0025);
    expect(parseJSONValue('1.0')).toBe(1);
  });

  it('keeps the last value of a repeated key, as Go does', () => {
    expect(show('{"a": 1, "a": 2}')).toBe('{"a": 2}');
  });

  it('turns lone surrogates into U+FFFD', () => {
    expect(parseJSONValue('"a\\ud800b"')).toBe('a\ufffdb');
  });

  it('says what is wrong and where', () => {
    expect(errorOf('[1,]').message).toBe(
      'invalid JSON: unexpected character "]", expected a value at line 1, column 4',
    );
    expect(errorOf('{"a" 1}').message).toBe(
      "invalid JSON: expected ':' after an object key at line 1, column 6",
    );
    expect(errorOf('{\n  "a": 01\n}').message).toBe(
      'invalid JSON: invalid number at line 2, column 8',
    );
    expect(errorOf('"abc').message).toBe('invalid JSON: unterminated string at line 1, column 1');
    expect(errorOf('[1 2]').message).toBe("invalid JSON: expected ',' or ']' at line 1, column 4");
    expect(errorOf('tru').message).toBe(
      'invalid JSON: unexpected character "t", expected a value at line 1, column 1',
    );
    expect(errorOf('').message).toBe(
      'invalid JSON: unexpected end of input, expected a value at line 1, column 1',
    );
    expect(errorOf('1 2').message).toBe(
      'invalid JSON: unexpected data after the JSON value at line 1, column 3',
    );
    expect(errorOf('"\t"').message).toBe(
      'invalid JSON: control character in string (escape it) at line 1, column 2',
    );
    expect(errorOf('"\\x"').message).toBe(
      'invalid JSON: invalid escape "\\\\x" at line 1, column 2',
    );
    expect(errorOf('{1: 2}').message).toBe(
      'invalid JSON: expected a string object key at line 1, column 2',
    );
    const e = errorOf('\n\n  x');
    expect([e.line, e.column, e.offset]).toEqual([3, 3, 4]);
  });

  it('refuses nesting deeper than the limit instead of overflowing the stack', () => {
    const deep = '['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1);
    expect(errorOf(deep).message).toMatch(/nesting deeper than 1000 levels/);
    const ok = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH);
    expect(isValidJSON(ok)).toBe(true);
  });

  it('agrees with JSON.parse on what is valid, and on the data', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        expect(toJSONText(parseJSONValue(text))).toBe(
          toJSONText(parseJSONValue(JSON.stringify(JSON.parse(text)))),
        );
        expect(isValidJSON(text)).toBe(true);
      }),
      { seed: 7, numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.string(), (text) => {
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        expect(isValidJSON(text)).toBe(valid);
      }),
      { seed: 8, numRuns: 500 },
    );
  });
});
