import { json, set, show } from './call';

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
