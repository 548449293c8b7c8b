import { VerdictError } from '../../../../../api/errors';
import { maskInput, maskPathProblem } from '../../../../../api/services/audit/mask';

describe('maskInput', () => {
  const input = {
    user: { name: 'ann', ssn: '123', 'a/b': 1, 'c~d': 2 },
    password: 'secret',
    cards: [{ number: '4111', brand: 'visa' }, { number: '5500' }, { number: '3400' }],
  };

  it('removes named members and leaves the caller’s value alone', () => {
    const before = structuredClone(input);
    const masked = maskInput(input, ['/input/password', '/input/user/ssn']);
    expect(masked).toEqual({
      user: { name: 'ann', 'a/b': 1, 'c~d': 2 },
      cards: input.cards,
    });
    expect(input).toEqual(before);
    // Parts no path touches are shared, not copied.
    expect((masked as typeof input).cards).toBe(input.cards);
  });

  it('decodes ~1 and ~0 in member names', () => {
    expect(maskInput(input, ['/input/user/a~1b', '/input/user/c~0d'])).toMatchObject({
      user: { name: 'ann', ssn: '123' },
    });
    expect((maskInput(input, ['/input/user/a~1b']) as typeof input).user).not.toHaveProperty('a/b');
  });

  it('reaches into array elements and removes elements by index, whatever the path order', () => {
    expect(maskInput(input, ['/input/cards/0/number'])).toMatchObject({
      cards: [{ brand: 'visa' }, { number: '5500' }, { number: '3400' }],
    });
    expect(
      (
        maskInput(input, [
          '/input/cards/0',
          '/input/cards/2',
          '/input/cards/1/number',
        ]) as typeof input
      ).cards,
    ).toEqual([{}]);
  });

  it('ignores paths that name nothing in this input', () => {
    expect(
      maskInput(input, [
        '/input/nothing',
        '/input/user/name/deeper',
        '/input/cards/9',
        '/input/cards/x',
      ]),
    ).toEqual(input);
    expect(maskInput('text', ['/input/a'])).toBe('text');
    expect(maskInput(input, [])).toBe(input);
  });

  it('leaves the whole input out for /input', () => {
    expect(maskInput(input, ['/input/password', '/input'])).toBeUndefined();
  });

  it('refuses paths that are not mask paths', () => {
    expect(maskPathProblem('/input/a')).toBeUndefined();
    expect(maskPathProblem('/result/a')).toMatch(/must start with \/input/);
    expect(maskPathProblem('/inputs')).toMatch(/must start with \/input/);
    expect(maskPathProblem('/input/a~2')).toMatch(/~ not followed by 0 or 1/);
    expect(() => maskInput(input, ['password'])).toThrow(VerdictError);
  });
});
