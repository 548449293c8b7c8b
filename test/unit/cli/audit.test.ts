/** How `verdict audit prune` words its report, for every kind of month and kept row. */
import type { PruneReport } from '../../../api/services/audit/retention';
import { formatPruneReport } from '../../../cli/audit';

const acme = { tenantId: 'a1', slug: 'acme', rows: 3, firstSeq: 1, lastSeq: 3 };
const ghost = { tenantId: '0b0b', slug: null, rows: 1, firstSeq: 4, lastSeq: 4 };
const now = new Date('2026-10-15T00:00:00Z');

describe('formatPruneReport', () => {
  it('says when there is nothing to prune, and that a dry run changes nothing', () => {
    expect(formatPruneReport({ now, dryRun: false, months: [], problems: 0 })).toEqual([
      "nothing to prune: no month is past a tenant's retention",
    ]);
    expect(formatPruneReport({ now, dryRun: true, months: [], problems: 0 })).toEqual([
      'dry run: nothing is exported or removed',
      "nothing to prune: no month is past a tenant's retention",
    ]);
  });

  it('prints each month, what was exported where, and why rows stay', () => {
    const report: PruneReport = {
      now,
      dryRun: false,
      problems: 2,
      months: [
        {
          month: '2026-04',
          table: 'decisions_default',
          action: 'delete',
          pruned: [{ ...acme, file: '/x/a1/decisions-2026-04-seq1-3.ndjson', sha256: 'ab12' }],
          kept: [
            { ...ghost, reason: 'unknown_tenant' },
            { ...acme, slug: 'globex', rows: 1, reason: 'within_retention', detail: '90 days' },
          ],
        },
        {
          month: '2026-05',
          table: 'decisions_p2026_05',
          action: 'drop',
          pruned: [{ ...acme, firstSeq: 4, lastSeq: 6, file: '/x/f', sha256: 'cd34' }],
          kept: [],
        },
        { month: '2026-06', table: 'decisions_p2026_06', action: 'drop', pruned: [], kept: [] },
        {
          month: '2026-07',
          table: 'decisions_p2026_07',
          action: 'none',
          pruned: [],
          kept: [
            { ...acme, reason: 'chain_broken', detail: 'seq 2: the row was altered' },
            { ...acme, slug: 'b', reason: 'changed' },
            { ...acme, slug: 'c', reason: 'earlier_month_kept' },
            { ...acme, slug: 'd', reason: 'kept_forever' },
            { ...acme, slug: 'e', reason: 'newest_month' },
          ],
        },
      ],
    };
    expect(formatPruneReport(report)).toEqual([
      '2026-04 (decisions_default): deleted the rows of 1 tenant',
      '  exported acme 3 rows (seq 1-3) to /x/a1/decisions-2026-04-seq1-3.ndjson, sha256 ab12',
      '  kept tenant 0b0b (no longer exists) 1 row (seq 4-4): no retention is known for it',
      '  kept globex 1 row (seq 1-3): within its retention (90 days)',
      '2026-05 (decisions_p2026_05): dropped the partition',
      '  exported acme 3 rows (seq 4-6) to /x/f, sha256 cd34',
      '2026-06 (decisions_p2026_06): dropped the empty partition',
      '2026-07 (decisions_p2026_07): nothing removed',
      '  kept acme 3 rows (seq 1-3): its chain does not verify (seq 2: the row was altered): nothing of it is removed; see `verdict decisions verify`',
      '  kept b 3 rows (seq 1-3): rows were written or removed while it was exported: run the prune again',
      '  kept c 3 rows (seq 1-3): an earlier month of the tenant was kept',
      '  kept d 3 rows (seq 1-3): the tenant keeps its decisions forever',
      "  kept e 3 rows (seq 1-3): the tenant's newest decisions are in this month (its chain continues from them)",
      '2 tenant months were not pruned (see above)',
    ]);
  });

  it('says what a dry run would do', () => {
    const report: PruneReport = {
      now,
      dryRun: true,
      problems: 0,
      months: [
        {
          month: '2026-05',
          table: 'decisions_p2026_05',
          action: 'drop',
          pruned: [{ ...acme, file: '/x/f' }],
          kept: [],
        },
        {
          month: '2026-06',
          table: 'decisions_p2026_06',
          action: 'delete',
          pruned: [acme, { ...acme, slug: 'b' }],
          kept: [],
        },
      ],
    };
    expect(formatPruneReport(report)).toEqual([
      'dry run: nothing is exported or removed',
      '2026-05 (decisions_p2026_05): would drop the partition',
      '  would export acme 3 rows (seq 1-3) to /x/f',
      '2026-06 (decisions_p2026_06): would delete the rows of 2 tenants',
      '  would export acme 3 rows (seq 1-3)',
      '  would export b 3 rows (seq 1-3)',
    ]);
  });

  it('counts one problem in the singular', () => {
    const lines = formatPruneReport({
      now,
      dryRun: false,
      problems: 1,
      months: [
        {
          month: '2026-05',
          table: 'decisions_p2026_05',
          action: 'none',
          pruned: [],
          kept: [{ ...acme, reason: 'changed' }],
        },
      ],
    });
    expect(lines[lines.length - 1]).toBe('1 tenant month was not pruned (see above)');
  });
});
