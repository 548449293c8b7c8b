import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseCaseFile } from './corpus';
import { runIsolated } from './isolated-runner';

/**
 * A stand-in for case-worker.js: never answers case #1 (a loop no step budget stops), dies on
 * case #2, and passes the others.
 */
const FAKE_WORKER = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (id) => {
  const index = id.split('#')[1];
  if (index === '1') for (;;) {}
  if (index === '2') throw new Error('worker fell over');
  parentPort.postMessage({ id, folder: 'demo', file: 'demo.yaml', note: 'n', status: 'passed' });
});
`;

const CASES = parseCaseFile(
  'demo',
  'demo.yaml',
  `cases:
  - {note: demo/pass, query: "true", want_defined: true}
  - {note: demo/hang, query: "true", want_defined: true}
  - {note: demo/die, query: "true", want_defined: true}
  - {note: demo/pass again, query: "true", want_defined: true}
`,
);

describe('runIsolated', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-isolated-'));
    fs.writeFileSync(path.join(dir, 'worker.js'), FAKE_WORKER);
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('fails a case that never answers or kills the worker, and goes on with a new worker', async () => {
    // Only the hanging case waits for the guard; the others answer at once.
    const results = await runIsolated(CASES, {
      workerFile: path.join(dir, 'worker.js'),
      settings: { stepBudget: 1 },
      timeoutMs: 300,
    });
    expect(results.map((r) => [r.note, r.status])).toEqual([
      ['n', 'passed'],
      ['demo/hang', 'failed'],
      ['demo/die', 'failed'],
      ['n', 'passed'],
    ]);
    expect(results[1]?.reason).toMatch(/^timeout: no answer within 300 ms/);
    expect(results[2]?.reason).toBe('crash: worker fell over');
  });
});
