/**
 * Worker thread of isolated-runner.ts: loads the corpus once, then answers each case id it is
 * sent with that case's result.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadCorpus } from './corpus';
import type { WorkerSettings } from './isolated-runner';
import { runCase } from './run-case';

const settings = workerData as WorkerSettings;
const port = parentPort;
if (port === null) throw new Error('case-worker.js runs as a worker thread of report.js');

const cases = new Map(
  loadCorpus(settings.folder === undefined ? {} : { folder: settings.folder }).map((c) => [
    c.id,
    c,
  ]),
);

port.on('message', (id: unknown) => {
  const c = typeof id === 'string' ? cases.get(id) : undefined;
  if (c === undefined) throw new Error(`no case ${String(id)}`);
  port.postMessage(runCase(c, { stepBudget: settings.stepBudget }));
});
