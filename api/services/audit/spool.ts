/**
 * The spool: an append-only file of pending audit rows (one JSON object per line) that holds
 * them while Postgres cannot take them, in the order they were recorded. A row gets its place
 * in its chain only when it is inserted, so lines carry no `seq` or links (lines written by
 * earlier versions do; those fields are ignored). Appends are synchronous and fsynced, so a
 * row is durable when `append` returns and two appends never interleave. Reads go by byte
 * offset and only ever return whole lines, so a read racing an append stops before the line
 * being written.
 */
import fs from 'node:fs';
import { promisify } from 'node:util';
import type { JsonValue } from './canonical';
import { isUuid } from '../../uuid';
import { isTraceId, type CacheOutcome, type PendingRow, type RolloutMark } from './chain';

const readAt = promisify(fs.read);

/** Bytes read at a time; a longer line makes the read grow until the line fits. */
const readChunkBytes = 1 << 20;

interface SpooledRow {
  decisionId: string;
  tenantId: string;
  ts: string;
  path: string;
  bundleName: string | null;
  bundleVersion: string | null;
  bundleRevision: string | null;
  input?: JsonValue;
  result?: JsonValue;
  allowed: boolean | null;
  caller: string | null;
  cache: CacheOutcome;
  durationUs: number;
  rollout?: RolloutMark;
  traceId?: string;
}

export function spoolLine(row: PendingRow): string {
  const spooled: SpooledRow = { ...row, ts: row.ts.toISOString() };
  return `${JSON.stringify(spooled)}\n`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A spooled rollout mark; undefined when absent, null when present but malformed. */
function spooledRollout(value: unknown): RolloutMark | undefined | null {
  if (value === undefined) return undefined;
  if (!isRecord(value)) return null;
  const { rolloutId, arm, comparedWith, agrees } = value;
  if (typeof rolloutId !== 'string') return null;
  if (arm !== 'stable' && arm !== 'canary' && arm !== 'shadow') return null;
  if (comparedWith !== undefined && typeof comparedWith !== 'string') return null;
  if (agrees !== undefined && typeof agrees !== 'boolean') return null;
  return {
    rolloutId,
    arm,
    ...(comparedWith === undefined ? {} : { comparedWith }),
    ...(agrees === undefined ? {} : { agrees }),
  };
}

function isTextOrNull(value: unknown): value is string | null {
  return value === null || typeof value === 'string';
}

/** The row a spool line holds, or undefined when the line is not one. */
export function parseSpoolLine(line: string): PendingRow | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isRecord(value)) return undefined;
  const v = value;
  const ts = typeof v.ts === 'string' ? new Date(v.ts) : undefined;
  const rollout = spooledRollout(v.rollout);
  if (
    rollout === null ||
    (v.traceId !== undefined && !isTraceId(v.traceId)) ||
    typeof v.decisionId !== 'string' ||
    !isUuid(v.decisionId) ||
    typeof v.tenantId !== 'string' ||
    !isUuid(v.tenantId) ||
    ts === undefined ||
    Number.isNaN(ts.getTime()) ||
    typeof v.path !== 'string' ||
    !isTextOrNull(v.bundleName) ||
    !isTextOrNull(v.bundleVersion) ||
    !isTextOrNull(v.bundleRevision) ||
    !(v.allowed === null || typeof v.allowed === 'boolean') ||
    !isTextOrNull(v.caller) ||
    (v.cache !== 'hit' && v.cache !== 'miss' && v.cache !== 'bypass') ||
    typeof v.durationUs !== 'number'
  ) {
    return undefined;
  }
  return {
    decisionId: v.decisionId,
    tenantId: v.tenantId,
    ts,
    path: v.path,
    bundleName: v.bundleName,
    bundleVersion: v.bundleVersion,
    bundleRevision: v.bundleRevision,
    input: v.input as JsonValue | undefined,
    result: v.result as JsonValue | undefined,
    allowed: v.allowed,
    caller: v.caller,
    cache: v.cache,
    durationUs: v.durationUs,
    ...(rollout === undefined ? {} : { rollout }),
    ...(v.traceId === undefined ? {} : { traceId: v.traceId }),
  };
}

export interface SpoolRead {
  rows: PendingRow[];
  /** Lines that held no row (a write torn by a crash); skipped. */
  corrupt: number;
  /** Where the next read starts: just after the last whole line returned. */
  nextOffset: number;
}

export class Spool {
  private fd: number | undefined;

  /** Opens (creating) the file; ends a line torn by a crash so later appends start clean. */
  constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'a+', 0o600);
    const size = this.size();
    if (size > 0) {
      const last = Buffer.alloc(1);
      fs.readSync(this.openFd(), last, 0, 1, size - 1);
      if (last[0] !== 0x0a) this.append('\n');
    }
  }

  private openFd(): number {
    if (this.fd === undefined) throw new Error(`the audit spool ${this.file} is closed`);
    return this.fd;
  }

  size(): number {
    return fs.fstatSync(this.openFd()).size;
  }

  private append(text: string): void {
    const fd = this.openFd();
    fs.writeSync(fd, text);
    fs.fdatasyncSync(fd);
  }

  /** Appends the rows and flushes them to disk before returning. */
  appendRows(rows: readonly PendingRow[]): void {
    if (rows.length > 0) this.append(rows.map(spoolLine).join(''));
  }

  /** Up to `maxRows` rows from `offset`, whole lines only. */
  async read(offset: number, maxRows: number): Promise<SpoolRead> {
    const fd = this.openFd();
    // Only what was appended before this read: never past the size seen now.
    const end = this.size();
    const rows: PendingRow[] = [];
    let corrupt = 0;
    let position = offset;
    let chunkBytes = readChunkBytes;
    while (rows.length < maxRows && position < end) {
      const length = Math.min(chunkBytes, end - position);
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await readAt(fd, buffer, 0, length, position);
      const text = buffer.subarray(0, bytesRead);
      let lineStart = 0;
      let newline = text.indexOf(0x0a, lineStart);
      if (newline === -1) {
        // No whole line here: the last line is still being written, or is longer than a chunk.
        if (bytesRead < chunkBytes) break;
        chunkBytes *= 2;
        continue;
      }
      while (newline !== -1 && rows.length < maxRows) {
        const line = text.subarray(lineStart, newline).toString('utf8');
        if (line.trim() !== '') {
          const row = parseSpoolLine(line);
          if (row === undefined) corrupt++;
          else rows.push(row);
        }
        lineStart = newline + 1;
        newline = text.indexOf(0x0a, lineStart);
      }
      position += lineStart;
    }
    return { rows, corrupt, nextOffset: position };
  }

  /** Empties the file (every row in it is in the table). */
  truncate(): void {
    fs.ftruncateSync(this.openFd(), 0);
  }

  close(): void {
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
