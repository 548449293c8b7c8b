/**
 * An exclusive lock on a data folder: a file holding the owner's pid, created atomically.
 * PGlite has no postmaster to refuse a second process, and two processes writing the same
 * files would corrupt the database, so Verdict refuses to start instead. A lock left behind
 * by a process that died is taken over.
 */
import fs from 'node:fs';
import path from 'node:path';
import { VerdictError } from '../errors';

/** Locks held by this process; a pid file naming us but absent here is stale. */
const heldByThisProcess = new Set<string>();

export interface DataDirLock {
  readonly file: string;
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ownerOf(file: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isStale(file: string): boolean {
  const owner = ownerOf(file);
  if (owner === undefined) return true;
  if (owner === process.pid) return !heldByThisProcess.has(file);
  return !isAlive(owner);
}

export function lockDataDir(dir: string, name: string): DataDirLock {
  const file = path.join(dir, `${name}.lock`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      heldByThisProcess.add(file);
      let released = false;
      return {
        file,
        release: () => {
          if (released) return;
          released = true;
          heldByThisProcess.delete(file);
          fs.rmSync(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (!isStale(file)) break;
      fs.rmSync(file, { force: true });
    }
  }
  const owner = ownerOf(file);
  throw new VerdictError(
    'embedded_database_locked',
    `The embedded database in ${dir} is in use by another Verdict process` +
      (owner === undefined ? '' : ` (pid ${owner})`) +
      '; stop that process, or set VERDICT_DATA_DIR to another folder, or set DATABASE_URL.',
  );
}
