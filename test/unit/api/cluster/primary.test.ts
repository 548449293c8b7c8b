import os from 'node:os';
import { isPrimaryMessage, isWorkerMessage } from '../../../../api/cluster/messages';
import { workerCount } from '../../../../api/cluster/primary';
import { clusterConfigVariable, readClusterConfig } from '../../../../api/cluster/worker-config';
import { loadConfig } from '../../../../api/config';

const external = {
  DATABASE_URL: 'postgres://db/verdict',
  REDIS_URL: 'redis://cache:6379',
};

describe('how many workers verdict serve runs', () => {
  it('runs one per core with an external database and Redis', () => {
    expect(workerCount(loadConfig(external))).toBe(os.availableParallelism());
  });

  it('runs one on the embedded defaults, or without Redis', () => {
    expect(workerCount(loadConfig({}))).toBe(1);
    expect(workerCount(loadConfig({ DATABASE_URL: external.DATABASE_URL }))).toBe(1);
  });

  it('runs the number asked for', () => {
    expect(workerCount(loadConfig({ ...external, VERDICT_WORKERS: '3' }))).toBe(3);
    expect(workerCount(loadConfig({ VERDICT_WORKERS: '1' }))).toBe(1);
  });

  it('refuses several workers without shared state, saying what to set', () => {
    expect(() => workerCount(loadConfig({ VERDICT_WORKERS: '2' }))).toThrow(
      /VERDICT_WORKERS=2 needs DATABASE_URL and REDIS_URL/,
    );
  });

  it('refuses a count that is not auto or 1 to 64', () => {
    for (const value of ['0', '65', 'many', '-1']) {
      expect(() => loadConfig({ VERDICT_WORKERS: value })).toThrow(/VERDICT_WORKERS/);
    }
  });
});

describe('the configuration a worker receives', () => {
  it('is the primary configuration, whole', () => {
    const config = loadConfig({ ...external, VERDICT_WORKERS: '3', PORT: '9001' });
    const env = { [clusterConfigVariable]: JSON.stringify(config) };
    expect(readClusterConfig(env)).toEqual(JSON.parse(JSON.stringify(config)));
  });

  it('is refused when absent or not a configuration', () => {
    expect(() => readClusterConfig({})).toThrow(/not a Verdict worker/);
    expect(() => readClusterConfig({ [clusterConfigVariable]: '[1]' })).toThrow(
      /does not hold a configuration/,
    );
  });
});

describe('messages between primary and workers', () => {
  it('are told apart by kind', () => {
    expect(isWorkerMessage({ kind: 'verdict:audit', entries: [], strict: [] })).toBe(true);
    expect(isWorkerMessage({ kind: 'verdict:audit-flush', id: 1 })).toBe(true);
    expect(isWorkerMessage({ kind: 'verdict:audit-done', id: 1 })).toBe(false);
    expect(isPrimaryMessage({ kind: 'verdict:audit-failed', id: 1, detail: 'x' })).toBe(true);
    expect(isPrimaryMessage('verdict:audit-done')).toBe(false);
    expect(isPrimaryMessage(null)).toBe(false);
  });
});
