import { call, context, failure } from './call';

describe('rand.intn', () => {
  it('stays in [0, |n|) and answers the same for the same key and n within a query', () => {
    const ctx = context();
    const first = call('rand.intn', ['key', 100], ctx);
    expect(typeof first).toBe('number');
    expect(first as number).toBeGreaterThanOrEqual(0);
    expect(first as number).toBeLessThan(100);
    for (let i = 0; i < 20; i++) expect(call('rand.intn', ['key', 100], ctx)).toBe(first);
    const negative = call('rand.intn', ['neg', -5], ctx) as number;
    expect(negative).toBeGreaterThanOrEqual(0);
    expect(negative).toBeLessThan(5);
    expect(call('rand.intn', ['key', 0], ctx)).toBe(0);
  });

  it('spreads over the range across queries', () => {
    const seen = new Set<unknown>();
    for (let i = 0; i < 200; i++) seen.add(call('rand.intn', ['key', 4], context()));
    expect([...seen].sort()).toEqual([0, 1, 2, 3]);
  });

  it('wants an integer bound', () => {
    expect(failure('rand.intn', 'k', 1.5)).toBe(
      'type: rand.intn: operand 2 must be integer number but got floating-point number',
    );
  });
});
