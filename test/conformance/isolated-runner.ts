/**
 * Runs cases in a worker thread so that an evaluator stuck in a loop that its step budget does
 * not catch cannot hang the whole run: a case with no answer within the time limit fails with
 * reason "timeout", the worker is replaced, and the run goes on. Used by report.ts when it runs
 * compiled (the worker is dist/test/conformance/case-worker.js).
 */
import { Worker } from 'node:worker_threads';
import type { ConformanceCase } from './corpus';
import type { CaseResult } from './run-case';

/** What the worker needs to find and run cases (it loads the corpus itself). */
export interface WorkerSettings {
  readonly folder?: string;
  readonly stepBudget: number;
}

export interface IsolatedRun {
  readonly workerFile: string;
  readonly settings: WorkerSettings;
  /** Wall-clock limit per case: a last-resort guard, far above what any case needs. */
  readonly timeoutMs: number;
}

export async function runIsolated(
  cases: readonly ConformanceCase[],
  run: IsolatedRun,
): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  let worker: Worker | undefined;
  for (const c of cases) {
    worker ??= startWorker(run);
    const { result, replace } = await runOne(worker, c, run.timeoutMs);
    results.push(result);
    if (replace) {
      await worker.terminate();
      worker = undefined;
    }
  }
  await worker?.terminate();
  return results;
}

function startWorker(run: IsolatedRun): Worker {
  const worker = new Worker(run.workerFile, { workerData: run.settings });
  // Errors while idle are reported by the next case's listeners; never let one go unhandled.
  worker.on('error', () => undefined);
  return worker;
}

function runOne(
  worker: Worker,
  c: ConformanceCase,
  timeoutMs: number,
): Promise<{ result: CaseResult; replace: boolean }> {
  return new Promise((resolve) => {
    const fail = (reason: string): void => {
      finish(
        { id: c.id, folder: c.folder, file: c.file, note: c.note, status: 'failed', reason },
        true,
      );
    };
    const onMessage = (message: unknown): void => {
      if (isCaseResult(message) && message.id === c.id) finish(message, false);
      else fail(`crash: the worker answered something other than this case's result`);
    };
    const onError = (err: Error): void => {
      fail(`crash: ${err.message}`);
    };
    const onExit = (code: number): void => {
      fail(`crash: the worker exited with code ${code}`);
    };
    const timer = setTimeout(() => {
      fail(`timeout: no answer within ${timeoutMs} ms (a loop the step budget does not catch?)`);
    }, timeoutMs);
    function finish(result: CaseResult, replace: boolean): void {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      resolve({ result, replace });
    }
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage(c.id);
  });
}

function isCaseResult(x: unknown): x is CaseResult {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as Partial<Record<keyof CaseResult, unknown>>;
  return (
    typeof r.id === 'string' &&
    typeof r.folder === 'string' &&
    typeof r.note === 'string' &&
    (r.status === 'passed' || r.status === 'failed' || r.status === 'skipped')
  );
}
