import { failure, json, set, show } from './call';

describe('type tests and type_name', () => {
  const samples: [string, Parameters<typeof show>[1]][] = [
    ['null', null],
    ['boolean', true],
    ['number', 2n ** 70n],
    ['string', 'x'],
    ['array', [1]],
    ['object', json('{}')],
    ['set', set()],
  ];

  it.each(samples)('knows a %s', (type, value) => {
    expect(show('type_name', value)).toBe(`"${type}"`);
    for (const [other] of samples) {
      expect(show(`is_${other}`, value)).toBe(String(other === type));
    }
  });
});

describe('deprecated casts', () => {
  it('pass values of the right type through, converting between arrays and sets', () => {
    expect(show('cast_array', set(2, 1))).toBe('[1, 2]');
    expect(show('cast_set', [1, 1, 2])).toBe('{1, 2}');
    expect(show('cast_string', 'x')).toBe('"x"');
    expect(show('cast_boolean', false)).toBe('false');
    expect(show('cast_null', null)).toBe('null');
    expect(show('cast_object', json('{"a": 1}'))).toBe('{"a": 1}');
  });

  it('reject other types', () => {
    expect(failure('cast_string', 1)).toBe(
      'type: cast_string: operand 1 must be string but got number',
    );
    expect(failure('cast_array', 'x')).toBe(
      'type: cast_array: operand 1 must be one of {array, set} but got string',
    );
  });
});
