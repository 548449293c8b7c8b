/** UTC months of the decision log's partitions. */
import {
  addMonths,
  monthLabel,
  monthStart,
  partitionMonth,
} from '../../../../../api/services/audit/partitions';

describe('months', () => {
  it('starts a month at its first UTC instant, whatever the time of day', () => {
    expect(monthStart(new Date('2026-05-31T23:59:59.999Z')).toISOString()).toBe(
      '2026-05-01T00:00:00.000Z',
    );
    expect(monthStart(new Date('2026-06-01T00:00:00.000Z')).toISOString()).toBe(
      '2026-06-01T00:00:00.000Z',
    );
  });

  it('adds months across a year', () => {
    const november = new Date('2026-11-01T00:00:00Z');
    expect(addMonths(november, 2).toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(addMonths(november, -11).toISOString()).toBe('2025-12-01T00:00:00.000Z');
    expect(monthLabel(november)).toBe('2026-11');
  });

  it('reads the month of a monthly partition from its name, and nothing else', () => {
    expect(partitionMonth('decisions_p2026_05')?.toISOString()).toBe('2026-05-01T00:00:00.000Z');
    expect(partitionMonth('decisions_p1999_12')?.toISOString()).toBe('1999-12-01T00:00:00.000Z');
    for (const name of [
      'decisions_default',
      'decisions_p2026_13',
      'decisions_p2026_00',
      'decisions_p2026_5',
      'x_decisions_p2026_05',
    ]) {
      expect(partitionMonth(name)).toBeUndefined();
    }
  });
});
