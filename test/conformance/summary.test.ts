import type { CaseResult } from './run-case';
import { formatMarkdown, formatTable, headline, summarize } from './summary';

const result = (
  folder: string,
  status: CaseResult['status'],
  extra: Partial<CaseResult> = {},
): CaseResult => ({
  id: `${folder}/f.yaml#0`,
  folder,
  file: 'f.yaml',
  note: `${folder}/note`,
  status,
  ...extra,
});

const RESULTS: CaseResult[] = [
  result('b', 'passed'),
  result('a', 'failed', { reason: 'expected [1] got [2]' }),
  result('a', 'passed'),
  result('b', 'skipped', { reason: 'needs builtin http.send (…)', missingBuiltins: ['http.send'] }),
  result('b', 'skipped', {
    reason: 'needs …',
    missingBuiltins: ['http.send', 'net.lookup_ip_addr'],
  }),
  result('a', 'skipped', { reason: 'skipped by the corpus' }),
];

describe('summarize', () => {
  const s = summarize(RESULTS);

  it('counts per folder, in folder order, and in total', () => {
    expect(s.folders).toEqual([
      { folder: 'a', passed: 1, failed: 1, skipped: 1, total: 3 },
      { folder: 'b', passed: 1, failed: 0, skipped: 2, total: 3 },
    ]);
    expect(s.total).toEqual({ passed: 2, failed: 1, skipped: 3, total: 6 });
    expect(headline(s.total)).toBe('passed 2 / 6 (failed 1, skipped 3)');
  });

  it('lists missing builtins by the cases they keep from running', () => {
    expect(s.skippedBuiltins.map((b) => [b.builtin, b.cases])).toEqual([
      ['http.send', 2],
      ['net.lookup_ip_addr', 1],
    ]);
    expect(s.skippedByCorpus).toBe(1);
  });

  it('prints a table with a total row and the skip list', () => {
    const table = formatTable(s);
    expect(table).toContain('folder  passed  failed  skipped  total');
    expect(table).toMatch(/^total\s+2\s+1\s+3\s+6$/m);
    expect(table).toMatch(/http\.send {2}2/);
    expect(table).toContain('skipped by the corpus: 1');
  });

  it('writes the failures into the Markdown page', () => {
    const md = formatMarkdown(s, RESULTS, {
      command: 'npm run conformance -- --write-docs',
      stepBudget: 10,
    });
    expect(md).toContain('| a | 1 | 1 | 1 | 3 |');
    expect(md).toContain('| `http.send` | 2 |');
    expect(md).toContain('a/note  [a/f.yaml#0]\n    expected [1] got [2]');
  });
});
