import {
  candidateOutcome,
  classifyChange,
  recordedOutcome,
  type ReplayOutcome,
} from '../../../../../api/services/replay/compare';

const defined = (result: unknown): ReplayOutcome => candidateOutcome({ defined: true, result });
const undef: ReplayOutcome = { kind: 'undefined' };
const error: ReplayOutcome = { kind: 'error', code: 'eval_conflict_error', message: 'conflict' };

describe('classifyChange', () => {
  it('sees no change in equal values, whatever the key order', () => {
    expect(classifyChange(recordedOutcome({ a: 1, b: [1, 2] }), defined({ b: [1, 2], a: 1 }))).toBe(
      undefined,
    );
    expect(classifyChange(recordedOutcome(undefined), undef)).toBe(undefined);
    expect(classifyChange(recordedOutcome(null), defined(null))).toBe(undefined);
  });

  it('names allow and deny flips, of booleans and of objects with a boolean allow', () => {
    expect(classifyChange(recordedOutcome(true), defined(false))).toBe('allow_to_deny');
    expect(classifyChange(recordedOutcome(false), defined(true))).toBe('deny_to_allow');
    expect(classifyChange(recordedOutcome({ allow: false }), defined({ allow: true }))).toBe(
      'deny_to_allow',
    );
  });

  it('calls every other difference by its kind', () => {
    expect(
      classifyChange(
        recordedOutcome({ allow: true, why: 'a' }),
        defined({ allow: true, why: 'b' }),
      ),
    ).toBe('other_change');
    expect(classifyChange(recordedOutcome(true), defined('yes'))).toBe('other_change');
    expect(classifyChange(recordedOutcome(undefined), defined(true))).toBe('other_change');
    expect(classifyChange(recordedOutcome(true), undef)).toBe('now_undefined');
    expect(classifyChange(recordedOutcome(undefined), error)).toBe('now_error');
    expect(classifyChange(recordedOutcome(true), error)).toBe('now_error');
  });

  it('compares the candidate as the audit log would have stored it', () => {
    // jsonb keeps no NUL: the recorded text has U+FFFD where the policy said \u0000.
    expect(classifyChange(recordedOutcome('a\uFFFDb'), defined('a\u0000b'))).toBe(undefined);
    expect(candidateOutcome({ defined: false })).toEqual(undef);
    expect(candidateOutcome({ defined: true, result: undefined })).toEqual(undef);
  });
});
