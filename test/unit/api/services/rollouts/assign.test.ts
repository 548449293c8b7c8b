import {
  bucketOf,
  inCanary,
  stickyKey,
  stickyKeys,
  stickyPathProblem,
  valueAt,
} from '../../../../../api/services/rollouts/assign';

const rolloutId = '5e000000-0000-4000-8000-00000000005e';

describe('sticky paths', () => {
  it.each(['input.user', 'input.user.id', 'input.a.0.b', 'input.ключ'])('accepts %s', (path) => {
    expect(stickyPathProblem(path)).toBeUndefined();
  });

  it.each(['input', 'user.id', 'input.', 'input..id', 'input.user id', `input${'.k'.repeat(17)}`])(
    'refuses %j',
    (path) => {
      expect(stickyPathProblem(path)).toMatch(/input path|at most 16 keys/);
    },
  );

  it('reads the value below input through objects and array indexes', () => {
    const input = { user: { id: 'ann', groups: ['a', 'b'] } };
    expect(valueAt(input, stickyKeys('input.user.id'))).toBe('ann');
    expect(valueAt(input, stickyKeys('input.user.groups.1'))).toBe('b');
    expect(valueAt(input, stickyKeys('input.user.groups.x'))).toBeUndefined();
    expect(valueAt(input, stickyKeys('input.user.id.length'))).toBeUndefined();
    expect(valueAt(input, ['toString'])).toBeUndefined();
  });
});

describe('the sticky key', () => {
  it('is the value as canonical JSON, so key order does not matter', () => {
    expect(stickyKey(['org'], { org: { b: 1, a: 2 } }, 'k1')).toBe(
      stickyKey(['org'], { org: { a: 2, b: 1 } }, 'k2'),
    );
  });

  it('falls back to the caller when there is no path, no value, or null', () => {
    expect(stickyKey(undefined, { user: 'ann' }, 'k1')).toBe('c:k1');
    expect(stickyKey(['user'], {}, 'k1')).toBe('c:k1');
    expect(stickyKey(['user'], { user: null }, 'k1')).toBe('c:k1');
    expect(stickyKey(['user'], undefined, 'k1')).toBe('c:k1');
    // A value that looks like a caller id never collides with one.
    expect(stickyKey(['user'], { user: 'k1' }, 'k1')).not.toBe('c:k1');
  });
});

describe('buckets', () => {
  it('spreads keys evenly over [0, 100) and keeps each key in its bucket', () => {
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 20_000; i++) {
      const bucket = bucketOf(rolloutId, `v:"user-${i}"`);
      expect(bucket).toBeGreaterThanOrEqual(0);
      expect(bucket).toBeLessThan(100);
      const decile = Math.floor(bucket / 10);
      counts[decile] = (counts[decile] ?? 0) + 1;
    }
    // Each decile expects 2,000 (sd about 42): 250 is about six of them.
    for (const count of counts) expect(Math.abs(count - 2000)).toBeLessThan(250);
    expect(bucketOf(rolloutId, 'v:"ann"')).toBe(bucketOf(rolloutId, 'v:"ann"'));
  });

  it('keeps everyone on the canary there when the percentage grows', () => {
    for (let i = 0; i < 2000; i++) {
      const key = `c:key-${i}`;
      if (inCanary(rolloutId, 10, key)) expect(inCanary(rolloutId, 50, key)).toBe(true);
    }
  });

  it('draws other cohorts for other rollouts', () => {
    const other = '6f000000-0000-4000-8000-00000000006f';
    let same = 0;
    for (let i = 0; i < 1000; i++) {
      const key = `c:key-${i}`;
      if (inCanary(rolloutId, 50, key) === inCanary(other, 50, key)) same++;
    }
    expect(same).toBeGreaterThan(400);
    expect(same).toBeLessThan(600);
  });
});
