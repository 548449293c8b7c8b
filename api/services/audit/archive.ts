/**
 * Exporting one tenant's rows of one month before they are pruned: NDJSON in the decision
 * export's line format, in seq order, each row's link checked on the way (a chain that does
 * not verify is not archived, so a prune can never hide tampering behind an anchor). The
 * file is written under a temporary name, fsynced, then renamed into place, so a file with
 * the final name is always whole.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Knex } from 'knex';
import { VerdictError } from '../../errors';
import type { AuditRow } from './chain';
import { monthLabel } from './partitions';
import { readChainPage } from './store';
import { linkProblem, type Link } from './verify';
import { ndjsonLine } from './views';

export interface ArchiveRequest {
  tenantId: string;
  /** The month's first instant and the next month's (UTC). */
  month: Date;
  end: Date;
  /** What the month's first row must link to: the chain's anchor, or the genesis. */
  start: Link;
  /** The seq range the rows are expected to cover; it names the file. */
  firstSeq: number;
  lastSeq: number;
  exportDir: string;
  pageSize?: number;
}

export interface Archive {
  kind: 'archived';
  file: string;
  sha256: string;
  rows: number;
  lastSeq: number;
  lastHash: string;
  lastTs: Date;
}

/** A row of the month that does not follow the one before it. */
export interface BrokenLink {
  kind: 'broken';
  seq: number;
  problem: string;
}

/** The month no longer holds the rows expected (rows written or removed meanwhile). */
export interface ChangedMonth {
  kind: 'changed';
}

/** Where a tenant's month goes: `<dir>/<tenant id>/decisions-2026-05-seq1-120.ndjson`. */
export function archivePath(
  exportDir: string,
  tenantId: string,
  month: Date,
  firstSeq: number,
  lastSeq: number,
): string {
  const name = `decisions-${monthLabel(month)}-seq${String(firstSeq)}-${String(lastSeq)}.ndjson`;
  return path.join(path.resolve(exportDir), tenantId, name);
}

async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

/** Makes a finished file's name and content durable. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes the rows to the archive file, checking every link. A file of the same name holding
 * the same bytes (a run that stopped before removing the rows) is kept; one holding other
 * bytes is never overwritten.
 */
export async function archiveMonth(
  knex: Knex,
  request: ArchiveRequest,
): Promise<Archive | BrokenLink | ChangedMonth> {
  const file = archivePath(
    request.exportDir,
    request.tenantId,
    request.month,
    request.firstSeq,
    request.lastSeq,
  );
  await fs.mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await fs.open(temporary, 'wx');
  const hash = createHash('sha256');
  let previous = request.start;
  let last: AuditRow | undefined;
  let rows = 0;
  let broken: BrokenLink | undefined;
  try {
    const pageSize = request.pageSize ?? 1000;
    for (;;) {
      const page = await readChainPage(knex, {
        tenantId: request.tenantId,
        after: last === undefined ? undefined : { seq: last.seq, ts: last.ts },
        from: request.month,
        to: request.end,
        limit: pageSize,
      });
      let text = '';
      for (const row of page) {
        const problem = linkProblem(row, previous);
        if (problem !== undefined) {
          broken = { kind: 'broken', seq: row.seq, problem };
          break;
        }
        text += ndjsonLine(row);
        previous = { seq: row.seq, hash: row.hash };
        last = row;
        rows++;
      }
      if (broken !== undefined) break;
      hash.update(text);
      await handle.write(text);
      if (page.length < pageSize) break;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (broken !== undefined || last?.seq !== request.lastSeq) {
    await fs.rm(temporary, { force: true });
    return broken ?? { kind: 'changed' };
  }
  const sha256 = hash.digest('hex');
  if (await exists(file)) {
    await fs.rm(temporary, { force: true });
    if ((await fileSha256(file)) !== sha256) {
      throw new VerdictError(
        'conflict',
        `${file} exists with other content: move it away (it may be an earlier export worth keeping) and run the prune again.`,
      );
    }
  } else {
    await fs.rename(temporary, file);
  }
  await syncDirectory(path.dirname(file));
  return {
    kind: 'archived',
    file,
    sha256,
    rows,
    lastSeq: last.seq,
    lastHash: last.hash,
    lastTs: last.ts,
  };
}
