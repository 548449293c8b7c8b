/**
 * CSV as RFC 4180 writes it: comma-separated fields, CRLF line ends, and a field quoted (with
 * its quotes doubled) when it holds a comma, a quote, a CR or an LF. Fields that a spreadsheet
 * would run as a formula (starting with =, +, - or @) are written as they are: the reports
 * hold ids, names and counts, and altering values would make the file disagree with the log.
 */

export type CsvValue = string | number | boolean | null | undefined;

const needsQuotes = /[",\r\n]/u;

export function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return needsQuotes.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The header line and one line per row, each ended by CRLF. */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  return [header, ...rows].map((row) => `${row.map(csvField).join(',')}\r\n`).join('');
}
