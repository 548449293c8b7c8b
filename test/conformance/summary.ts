/**
 * Counts case results per folder and in total, with the skip list (builtin → cases), and
 * prints them as a console table or as the Markdown of docs/conformance.md.
 */
import type { CaseResult } from './run-case';
import { missingBuiltinReason, SKIPPED_BY_CORPUS } from './skips';

export interface Counts {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly total: number;
}

export interface FolderCounts extends Counts {
  readonly folder: string;
}

export interface SkippedBuiltin {
  readonly builtin: string;
  readonly cases: number;
  readonly reason: string;
}

export interface Summary {
  readonly folders: readonly FolderCounts[];
  readonly total: Counts;
  /** Builtins Verdict lacks, with how many cases each one keeps from running. */
  readonly skippedBuiltins: readonly SkippedBuiltin[];
  /** Cases the corpus itself marks as skipped. */
  readonly skippedByCorpus: number;
}

export function summarize(results: readonly CaseResult[]): Summary {
  const byFolder = new Map<string, { passed: number; failed: number; skipped: number }>();
  const builtins = new Map<string, number>();
  let skippedByCorpus = 0;
  for (const r of results) {
    let counts = byFolder.get(r.folder);
    if (counts === undefined) {
      counts = { passed: 0, failed: 0, skipped: 0 };
      byFolder.set(r.folder, counts);
    }
    counts[r.status]++;
    for (const b of r.missingBuiltins ?? []) builtins.set(b, (builtins.get(b) ?? 0) + 1);
    if (r.reason === SKIPPED_BY_CORPUS) skippedByCorpus++;
  }
  const folders = [...byFolder.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([folder, c]) => ({ folder, ...c, total: c.passed + c.failed + c.skipped }));
  const total = folders.reduce(
    (t, f) => ({
      passed: t.passed + f.passed,
      failed: t.failed + f.failed,
      skipped: t.skipped + f.skipped,
      total: t.total + f.total,
    }),
    { passed: 0, failed: 0, skipped: 0, total: 0 },
  );
  const skippedBuiltins = [...builtins.entries()]
    .map(([builtin, cases]) => ({ builtin, cases, reason: missingBuiltinReason(builtin) }))
    .sort((a, b) => b.cases - a.cases || (a.builtin < b.builtin ? -1 : 1));
  return { folders, total, skippedBuiltins, skippedByCorpus };
}

/** `passed 812 / 1052 (failed 200, skipped 40)` — the one-line figure. */
export function headline(total: Counts): string {
  return `passed ${total.passed} / ${total.total} (failed ${total.failed}, skipped ${total.skipped})`;
}

const COLUMNS = ['passed', 'failed', 'skipped', 'total'] as const;

/** The console table: one row per folder, then the total, then the skip list. */
export function formatTable(summary: Summary): string {
  const rows: (readonly string[])[] = [
    ['folder', ...COLUMNS],
    ...summary.folders.map((f) => [f.folder, ...COLUMNS.map((k) => String(f[k]))]),
    ['total', ...COLUMNS.map((k) => String(summary.total[k]))],
  ];
  const width = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const line = (r: readonly string[]): string =>
    r
      .map((cell, i) => (i === 0 ? cell.padEnd(width[i] ?? 0) : cell.padStart(width[i] ?? 0)))
      .join('  ');
  const out = rows.map(line);
  out.splice(rows.length - 1, 0, '-'.repeat(line(rows[0] ?? []).length));
  out.push('', skipListText(summary));
  return out.join('\n');
}

function skipListText(summary: Summary): string {
  const lines = [`skip list (builtin → cases):`];
  if (summary.skippedBuiltins.length === 0) lines.push('  (none)');
  for (const s of summary.skippedBuiltins) lines.push(`  ${s.builtin}  ${s.cases}  (${s.reason})`);
  if (summary.skippedByCorpus > 0) {
    lines.push(`  ${SKIPPED_BY_CORPUS}: ${summary.skippedByCorpus}`);
  }
  return lines.join('\n');
}

export interface MarkdownContext {
  /** The command that produced the figures. */
  readonly command: string;
  readonly stepBudget: number;
}

/** docs/conformance.md: how to run, the table, the skip list, and every failure with its reason. */
export function formatMarkdown(
  summary: Summary,
  results: readonly CaseResult[],
  context: MarkdownContext,
): string {
  const out: string[] = [
    '# Rego conformance',
    '',
    "Verdict's Rego compiler is measured against the test cases of OPA's own Rego test suite",
    '(`../shared/conformance/opa/v1/`, read in place and never copied into this repository).',
    `This page is written by \`${context.command}\`; do not edit it by hand.`,
    '',
    'Each case runs through `evalQuery` (policies/query.ts) with a budget of',
    `${context.stepBudget} evaluation steps and is judged by the rules of OPA's own runner (see`,
    'test/conformance/run-case.ts). A case that calls a builtin Verdict does not offer is skipped,',
    'by the name of that builtin (test/conformance/skips.ts).',
    '',
    '- Results compare as a set of binding rows after a JSON round trip (sets become sorted arrays),',
    '  so neither order nor repeats matter; `sort_bindings` also sorts each bound array.',
    "- Expected error texts are matched against OPA's error form",
    "  `test-<i>.rego:<line>: <code>: <message>`, naming modules as OPA's runner does.",
    '- `input_term` inputs (Rego terms, possibly with sets) are evaluated by the same evaluator, as',
    '  the query `input_term_value := <term>` (test/conformance/input-term.ts).',
    '- One case expects both the results OPA produced before an error and the error; `evalQuery`',
    '  answers one or the other, so there only the error is judged.',
    '- Run `npm run conformance -- --verbose` for every failure and skip with its reason,',
    '  `--folder <name>` for one folder, `--json <file>` for machine-readable results.',
    '',
    `**${headline(summary.total)}**`,
    '',
    '| folder | passed | failed | skipped | total |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...summary.folders.map((f) => `| ${f.folder} | ${COLUMNS.map((k) => f[k]).join(' | ')} |`),
    `| **total** | ${COLUMNS.map((k) => `**${summary.total[k]}**`).join(' | ')} |`,
    '',
    '## Skip list',
    '',
  ];
  if (summary.skippedBuiltins.length === 0 && summary.skippedByCorpus === 0) {
    out.push('No case is skipped.', '');
  } else {
    out.push('| builtin | cases | reason |', '| --- | ---: | --- |');
    for (const s of summary.skippedBuiltins) {
      out.push(`| \`${s.builtin}\` | ${s.cases} | ${s.reason} |`);
    }
    if (summary.skippedByCorpus > 0) {
      out.push(`| (${SKIPPED_BY_CORPUS}) | ${summary.skippedByCorpus} | |`);
    }
    out.push('');
  }
  out.push('## Failures', '');
  const failed = results.filter((r) => r.status === 'failed');
  if (failed.length === 0) out.push('No case fails.', '');
  const folders = [...new Set(failed.map((r) => r.folder))];
  for (const folder of folders) {
    out.push(`### ${folder}`, '', '```text');
    for (const r of failed.filter((x) => x.folder === folder)) {
      out.push(`${r.note}  [${r.id}]`, `    ${r.reason ?? ''}`);
    }
    out.push('```', '');
  }
  return out.join('\n');
}
