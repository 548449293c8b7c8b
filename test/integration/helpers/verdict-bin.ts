/**
 * Runs the built `verdict` executable as an operator does, with none of this process's
 * Verdict settings (VERDICT_*, DATABASE_URL, REDIS_URL, PORT) leaking in: only `env` sets them.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');
export const verdictBin = path.join(repoRoot, 'bin', 'verdict.js');

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runVerdict(args: readonly string[], env: NodeJS.ProcessEnv): Promise<Finished> {
  const inherited = Object.entries(process.env).filter(
    ([name]) => !/^(VERDICT_.*|DATABASE_URL|REDIS_URL|PORT)$/.test(name),
  );
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [verdictBin, ...args], {
      env: { ...Object.fromEntries(inherited), ...env },
      cwd: repoRoot,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => {
      resolve({ code, stdout, stderr });
    });
  });
}
