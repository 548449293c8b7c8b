/**
 * What CLI tests share: an IO that records what a command prints, and a temporary folder to
 * write fixtures into (fresh for each test, removed after it).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface CapturedIO {
  readonly out: () => string;
  readonly err: () => string;
  readonly io: { stdout: (t: string) => void; stderr: (t: string) => void };
}

export function capture(): CapturedIO {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: () => out.join(''),
    err: () => err.join(''),
    io: { stdout: (t) => out.push(t), stderr: (t) => err.push(t) },
  };
}

/** A folder per test (`dir()`), and `write(rel, text)` that creates parents as needed. */
export function fixtureFolder(label: string): {
  dir: () => string;
  write: (rel: string, text: string) => string;
} {
  let current = '';
  beforeEach(() => {
    current = fs.mkdtempSync(path.join(os.tmpdir(), `verdict-${label}-`));
  });
  afterEach(() => {
    fs.rmSync(current, { recursive: true, force: true });
  });
  return {
    dir: () => current,
    write: (rel, text) => {
      const file = path.join(current, rel);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
      return file;
    },
  };
}
