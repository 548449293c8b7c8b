import { exceedsDepth } from '../../../../../api/services/decisions/input';

function nest(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { k: value } : [value];
  return value;
}

describe('exceedsDepth', () => {
  it('counts objects and arrays; scalars have depth 0', () => {
    expect(exceedsDepth(1, 0)).toBe(false);
    expect(exceedsDepth(null, 0)).toBe(false);
    expect(exceedsDepth({}, 0)).toBe(true);
    expect(exceedsDepth({ a: 1 }, 1)).toBe(false);
    expect(exceedsDepth({ a: [1] }, 1)).toBe(true);
    expect(exceedsDepth(nest(64), 64)).toBe(false);
    expect(exceedsDepth(nest(65), 64)).toBe(true);
  });

  it('finds a deep branch beside shallow ones, and copes with very deep values', () => {
    expect(exceedsDepth({ a: 1, b: [2], c: nest(10) }, 10)).toBe(true);
    expect(exceedsDepth(nest(100_000), 64)).toBe(true);
  });
});
