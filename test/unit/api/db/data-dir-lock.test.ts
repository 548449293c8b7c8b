import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lockDataDir } from '../../../../api/db/data-dir-lock';
import { VerdictError } from '../../../../api/errors';

describe('lockDataDir', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-lock-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes our pid, refuses a second holder, and frees the folder on release', () => {
    const lock = lockDataDir(dir, 'pgdata');
    expect(fs.readFileSync(lock.file, 'utf8')).toBe(`${process.pid}\n`);
    expect(() => lockDataDir(dir, 'pgdata')).toThrow(VerdictError);
    expect(() => lockDataDir(dir, 'pgdata')).toThrow(
      `The embedded database in ${dir} is in use by another Verdict process (pid ${process.pid}); stop that process, or set VERDICT_DATA_DIR to another folder, or set DATABASE_URL.`,
    );
    lock.release();
    lock.release();
    expect(fs.existsSync(lock.file)).toBe(false);
    lockDataDir(dir, 'pgdata').release();
  });

  it('locks different names in one folder independently', () => {
    const a = lockDataDir(dir, 'a');
    const b = lockDataDir(dir, 'b');
    a.release();
    b.release();
  });

  it('takes over a lock whose owner has died', () => {
    // The pid of a process that has certainly exited.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const deadPid = Number(dead.stdout.toString());
    fs.writeFileSync(path.join(dir, 'pgdata.lock'), `${deadPid}\n`);
    const lock = lockDataDir(dir, 'pgdata');
    expect(fs.readFileSync(lock.file, 'utf8')).toBe(`${process.pid}\n`);
    lock.release();
  });

  it('takes over a lock file with garbage in it', () => {
    fs.writeFileSync(path.join(dir, 'pgdata.lock'), 'not a pid');
    lockDataDir(dir, 'pgdata').release();
  });

  it('refuses while another live process holds the lock', () => {
    // pid 1 is always alive (and not ours).
    fs.writeFileSync(path.join(dir, 'pgdata.lock'), '1\n');
    expect(() => lockDataDir(dir, 'pgdata')).toThrow(/in use by another Verdict process \(pid 1\)/);
  });
});
