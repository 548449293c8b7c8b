/**
 * How a decision-log row leaves the service: the JSON record the API answers with (the same
 * object on each NDJSON export line), and the CSV form. CSV fields follow RFC 4180: a field
 * holding a comma, a quote, CR or LF is quoted, quotes doubled; input and result are JSON
 * text in their cells. Text a caller chose (path, caller, bundle fields) that a spreadsheet
 * would run as a formula — starting with `=`, `+`, `-`, `@`, tab or CR — gets a leading `'`
 * (OWASP's CSV injection advice); NDJSON keeps every value exactly as logged.
 */
import type { JsonValue } from './canonical';
import type { AuditRow } from './chain';

export interface DecisionView {
  decision_id: string;
  seq: number;
  ts: string;
  path: string;
  bundle_name: string | null;
  bundle_version: string | null;
  bundle_revision: string | null;
  /** Absent when the request had no input (or it was masked whole). */
  input?: JsonValue;
  /** Absent when the decision was undefined. */
  result?: JsonValue;
  allowed: boolean | null;
  caller: string | null;
  cache: string;
  duration_us: number;
  /** `shadow`: a version evaluated beside the served decision under a rollout, never returned. */
  kind: 'decision' | 'shadow';
  /** Present when the decision was made under a rollout. */
  rollout?: {
    id: string;
    arm: string;
    compared_with?: string;
    agrees?: boolean;
  };
  /** W3C trace id of the request that made the decision; absent when it had none. */
  trace_id?: string;
  prev_hash: string;
  hash: string;
}

export function decisionView(row: AuditRow): DecisionView {
  const view: DecisionView = {
    decision_id: row.decisionId,
    seq: row.seq,
    ts: row.ts.toISOString(),
    path: row.path,
    bundle_name: row.bundleName,
    bundle_version: row.bundleVersion,
    bundle_revision: row.bundleRevision,
    allowed: row.allowed,
    caller: row.caller,
    cache: row.cache,
    duration_us: row.durationUs,
    kind: row.rollout?.comparedWith === undefined ? 'decision' : 'shadow',
    prev_hash: row.prevHash,
    hash: row.hash,
  };
  if (row.rollout !== undefined) {
    const { rolloutId, arm, comparedWith, agrees } = row.rollout;
    view.rollout = {
      id: rolloutId,
      arm,
      ...(comparedWith === undefined ? {} : { compared_with: comparedWith }),
      ...(agrees === undefined ? {} : { agrees }),
    };
  }
  if (row.traceId !== undefined) view.trace_id = row.traceId;
  if (row.input !== undefined) view.input = row.input;
  if (row.result !== undefined) view.result = row.result;
  return view;
}

export const csvColumns = [
  'decision_id',
  'seq',
  'ts',
  'path',
  'bundle_name',
  'bundle_version',
  'bundle_revision',
  'allowed',
  'caller',
  'cache',
  'duration_us',
  'kind',
  'rollout',
  'input',
  'result',
  'prev_hash',
  'hash',
  // Last: columns added later go at the end, so readers by position keep working.
  'trace_id',
] as const;

export function csvField(text: string): string {
  return /[",\r\n]/u.test(text) ? `"${text.replace(/"/gu, '""')}"` : text;
}

/** Columns whose text comes from callers or bundle authors. */
const callerText: ReadonlySet<string> = new Set([
  'path',
  'caller',
  'bundle_name',
  'bundle_version',
  'bundle_revision',
]);

/** `text` as a spreadsheet shows it and never evaluates it. */
export function spreadsheetSafe(text: string): string {
  return /^[=+\-@\t\r]/u.test(text) ? `'${text}` : text;
}

function cell(view: DecisionView, column: (typeof csvColumns)[number]): string {
  const value = view[column];
  // A JSON null input stays `null`; only an absent one is an empty cell.
  if (column === 'input' || column === 'result') {
    return value === undefined ? '' : JSON.stringify(value);
  }
  if (value === undefined || value === null) return '';
  if (typeof value === 'string' && callerText.has(column)) return spreadsheetSafe(value);
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export function csvHeader(): string {
  return `${csvColumns.join(',')}\r\n`;
}

export function csvLine(row: AuditRow): string {
  const view = decisionView(row);
  return `${csvColumns.map((column) => csvField(cell(view, column))).join(',')}\r\n`;
}

export function ndjsonLine(row: AuditRow): string {
  return `${JSON.stringify(decisionView(row))}\n`;
}
