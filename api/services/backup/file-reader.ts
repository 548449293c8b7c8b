/**
 * Reads a backup file back as its header, then its sections and rows, checking on the way what
 * can be checked line by line (each row fits its section, sections are tables a backup holds,
 * in restore order) and at the end what needs the whole file (the SHA-256 of the content and
 * the row counts the header announced). A file that fails any check ends the reading with a
 * BackupError that says what is wrong; nothing is trusted before the end is reached.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { asRow, asSection, BackupError, parseHeader, type BackupHeader } from './format';
import { backedUpTables } from './tables';

export type BackupEntry =
  | { kind: 'section'; table: string; columns: string[]; types: string[] }
  | { kind: 'row'; table: string; values: (string | null)[]; bytes: number };

/** Longer lines are refused: no row of a real backup comes near (bundles are at most MiBs). */
const maxLineBytes = 256 * 1024 * 1024;

const tableOrder = new Map(backedUpTables.map((table, index) => [table.name, index]));

function readError(file: string, err: unknown): BackupError {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (code === 'ENOENT') return new BackupError(`cannot read ${file}: no such file`);
  if (code === 'EISDIR') return new BackupError(`cannot read ${file}: it is a folder`);
  if (code === 'Z_BUF_ERROR') {
    return new BackupError(`${file} is truncated: it ends in the middle of its compressed data`);
  }
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return new BackupError(
      `${file} is not a Verdict backup, or is corrupt (gzip: ${String(message)})`,
    );
  }
  return new BackupError(`cannot read ${file}: ${String(message ?? err)}`);
}

/** The file's uncompressed lines, as buffers without their newline. */
async function* lines(file: string): AsyncGenerator<Buffer> {
  const { size } = await fs.promises.stat(file).catch((err: unknown) => {
    throw readError(file, err);
  });
  if (size === 0) throw new BackupError(`${file} is empty: not a Verdict backup`);
  const source = fs.createReadStream(file);
  const gunzip = zlib.createGunzip();
  source.on('error', (err) => gunzip.destroy(err));
  const stream: Readable = source.pipe(gunzip);
  let parts: Buffer[] = [];
  let partBytes = 0;
  try {
    for await (const chunk of stream) {
      const data = chunk as Buffer;
      let start = 0;
      for (let end = data.indexOf(10); end !== -1; end = data.indexOf(10, start)) {
        parts.push(data.subarray(start, end));
        yield parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
        parts = [];
        partBytes = 0;
        start = end + 1;
      }
      if (start < data.length) {
        parts.push(data.subarray(start));
        partBytes += data.length - start;
        if (partBytes > maxLineBytes) {
          throw new BackupError(`${file} has a line longer than 256 MiB: not a Verdict backup`);
        }
      }
    }
  } catch (err) {
    if (err instanceof BackupError) throw err;
    throw readError(file, err);
  } finally {
    source.destroy();
  }
  if (partBytes > 0) throw new BackupError(`${file} is truncated: its last line is cut off`);
}

/** The header of `file` alone (the rest is not read). */
export async function readBackupHeader(file: string): Promise<BackupHeader> {
  for await (const line of lines(file)) return parseHeader(line.toString('utf8'), file);
  throw new BackupError(`${file} is empty: not a Verdict backup`);
}

function parseLine(line: Buffer, file: string, number: number): unknown {
  try {
    return JSON.parse(line.toString('utf8')) as unknown;
  } catch {
    throw new BackupError(`${file} is corrupt: line ${String(number)} is not JSON`);
  }
}

/**
 * Reads `file` through: `onHeader` gets the header first, then the entries come in file order.
 * Throws a BackupError at the first problem, or at the end when the checksum or a count
 * differs from the header's.
 */
export async function* readBackup(
  file: string,
  onHeader: (header: BackupHeader) => void | Promise<void> = () => undefined,
): AsyncGenerator<BackupEntry> {
  const hash = createHash('sha256');
  const counts = new Map<string, number>();
  let header: BackupHeader | undefined;
  let section: { table: string; columns: string[]; order: number } | undefined;
  let number = 0;
  for await (const line of lines(file)) {
    number += 1;
    if (header === undefined) {
      header = parseHeader(line.toString('utf8'), file);
      await onHeader(header);
      continue;
    }
    hash.update(line);
    hash.update('\n');
    const value = parseLine(line, file, number);
    const row = asRow(value);
    if (row !== undefined) {
      if (section?.columns.length !== row.length) {
        throw new BackupError(
          `${file} is corrupt: line ${String(number)} is a row that fits no table section`,
        );
      }
      const table = (section as { table: string }).table;
      counts.set(table, (counts.get(table) ?? 0) + 1);
      yield { kind: 'row', table, values: row, bytes: line.length };
      continue;
    }
    const next = asSection(value);
    if (next === undefined) {
      throw new BackupError(
        `${file} is corrupt: line ${String(number)} is neither a row nor a table section`,
      );
    }
    const order = tableOrder.get(next.table);
    if (order === undefined) {
      throw new BackupError(
        `${file} holds a table this Verdict does not restore (${next.table}): it was made by another version`,
      );
    }
    if (counts.has(next.table) || (section !== undefined && order <= section.order)) {
      throw new BackupError(`${file} is corrupt: the ${next.table} section is out of order`);
    }
    if (next.types.length !== next.columns.length) {
      throw new BackupError(`${file} is corrupt: the ${next.table} section's types do not fit`);
    }
    section = { table: next.table, columns: next.columns, order };
    counts.set(next.table, 0);
    yield { kind: 'section', table: next.table, columns: next.columns, types: next.types };
  }
  if (header === undefined) throw new BackupError(`${file} is empty: not a Verdict backup`);
  if (hash.digest('hex') !== header.content_sha256) {
    throw new BackupError(
      `${file} is corrupt or was altered: its content does not match the SHA-256 in its header`,
    );
  }
  const announced = Object.entries(header.tables);
  const differs = announced.some(([table, rows]) => counts.get(table) !== rows);
  if (differs || counts.size !== announced.length) {
    throw new BackupError(`${file} is corrupt: its tables do not hold the rows its header names`);
  }
}

/** Reads the whole file to check it; returns its header when every check passes. */
export async function checkBackup(file: string): Promise<BackupHeader> {
  let header: BackupHeader | undefined;
  const entries = readBackup(file, (read) => {
    header = read;
  });
  while (!(await entries.next()).done) {
    // Each entry is checked as it is read; nothing else to do with it here.
  }
  return header as BackupHeader;
}
