/**
 * The `verdict` executable as an operator runs it: `serve` on the embedded defaults (no
 * Postgres or Redis configured) until SIGTERM, `migrate` against a real Postgres, and a
 * bad configuration rejected with one line per setting. Runs the compiled CLI in dist/,
 * which `npm test` builds first.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { buildProgram } from '../../cli/main';
import { runMigrate } from '../../cli/migrate';
import { serve } from '../../cli/serve';
import { migrations } from '../../migrations';
import { createTestDatabase, tempDir, type TestDatabase } from './helpers/services';

// Creating an embedded database takes several seconds, more on a busy machine.
jest.setTimeout(120_000);

const repoRoot = path.resolve(__dirname, '..', '..');
const bin = path.join(repoRoot, 'bin', 'verdict.js');

beforeAll(() => {
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'cli', 'main.js'))) {
    throw new Error('dist/ is missing: run `npm run build` (npm test does it first)');
  }
});

/** The environment of a fresh shell: no database or Redis configured. */
function bareEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const configured = /^(DATABASE_URL|REDIS_URL|PORT|LOG_LEVEL|VERDICT_.*)$/;
  const inherited = Object.entries(process.env).filter(([name]) => !configured.test(name));
  return { ...Object.fromEntries(inherited), ...extra };
}

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env, cwd: repoRoot });
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

/** JSON log lines of a running server, and a promise for the first line matching `msg`. */
function watchLog(child: ChildProcessWithoutNullStreams): {
  lines: Record<string, unknown>[];
  waitFor: (msg: string) => Promise<Record<string, unknown>>;
} {
  const lines: Record<string, unknown>[] = [];
  const waiters: { msg: string; resolve: (line: Record<string, unknown>) => void }[] = [];
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      const line = JSON.parse(buffer.slice(0, newline)) as Record<string, unknown>;
      buffer = buffer.slice(newline + 1);
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.msg === line.msg)) waiter.resolve(line);
      newline = buffer.indexOf('\n');
    }
  });
  return {
    lines,
    waitFor: (msg) => {
      const seen = lines.find((line) => line.msg === msg);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ msg, resolve });
        child.once('exit', (code) => {
          reject(new Error(`verdict exited with ${String(code)} before logging "${msg}"`));
        });
      });
    },
  };
}

describe('verdict serve on the embedded defaults', () => {
  const dataDir = tempDir('cli-serve');
  afterAll(() => {
    dataDir.remove();
  });

  it('serves /health/ready, refuses a second server on the same data, and stops on SIGTERM', async () => {
    const env = bareEnv({ PORT: '0', VERDICT_DATA_DIR: dataDir.path });
    const child = spawn(process.execPath, [bin, 'serve'], { env, cwd: repoRoot });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const log = watchLog(child);
    try {
      const listening = await log.waitFor('verdict listening');
      expect(listening).toMatchObject({ database: 'embedded', cache: 'memory' });
      const url = String(listening.url);
      const ready = await request(url).get('/health/ready').expect(200);
      expect(ready.body).toEqual({
        status: 'ready',
        checks: { database: { status: 'ok', breaker: 'closed' } },
      });

      const second = await run(['serve'], env);
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(
        new RegExp(
          `^verdict: The embedded database in .* is in use by another Verdict process \\(pid ${String(child.pid)}\\)`,
        ),
      );

      child.kill('SIGTERM');
      expect(await exit).toBe(0);
      expect(log.lines.map((line) => line.msg)).toEqual(
        expect.arrayContaining(['signal received', 'verdict stopped']),
      );
      expect(stderr).toBe('');
      // The lock is released: the data folder is free for the next start.
      expect(fs.existsSync(path.join(dataDir.path, 'pgdata.lock'))).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('verdict migrate on the real Postgres', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('cli_migrate');
  });
  afterAll(async () => {
    await database.drop();
  });

  const names = migrations.map((m) => m.name);

  it('lists, applies and reverts migrations', async () => {
    const env = bareEnv({ DATABASE_URL: database.url, LOG_LEVEL: 'warn' });

    const pending = await run(['migrate', 'status'], env);
    expect(pending).toMatchObject({ code: 0, stderr: '' });
    expect(pending.stdout).toBe(names.map((n) => `pending  ${n}\n`).join(''));

    const up = await run(['migrate', 'up'], env);
    expect(up.code).toBe(0);
    expect(up.stdout).toBe(names.map((n) => `applied  ${n}\n`).join(''));
    expect((await run(['migrate', 'up'], env)).stdout).toBe(
      'nothing to apply: the database is up to date\n',
    );
    expect((await run(['migrate', 'status'], env)).stdout).toBe(
      names.map((n) => `applied  ${n}\n`).join(''),
    );

    const down = await run(['migrate', 'down'], env);
    expect(down.code).toBe(0);
    expect(down.stdout).toBe(
      [...names]
        .reverse()
        .map((n) => `reverted ${n}\n`)
        .join(''),
    );
    expect((await run(['migrate', 'down', '--all'], env)).stdout).toBe(
      'nothing to revert: no migration is applied\n',
    );
  });

  it('fails with a clear line when the database cannot be reached', async () => {
    const url = new URL(database.url);
    url.pathname = '/verdict_no_such_database';
    const result = await run(['migrate', 'status'], bareEnv({ DATABASE_URL: url.toString() }));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^verdict: Cannot reach Postgres at postgres:\/\/.*verdict_no_such_database: .*does not exist/m,
    );
  });
});

describe('verdict with a bad configuration', () => {
  it('exits 1 with one line per bad setting before opening anything', async () => {
    const result = await run(
      ['serve'],
      bareEnv({ PORT: 'eighty', LOG_LEVEL: 'loud', REDIS_URL: 'localhost:6379' }),
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      'verdict: invalid configuration (3 bad settings):',
      '  PORT="eighty": expected an integer from 0 to 65535 (the HTTP port; default 8181)',
      '  REDIS_URL="localhost:6379": expected a redis:// or rediss:// URL, e.g. redis://cache:6379/0 (unset: cache, rate limits and pub/sub in-process)',
      '  LOG_LEVEL="loud": expected one of fatal, error, warn, info, debug, trace, silent (default info)',
    ]);
  });
});

describe('the serve and migrate commands in-process', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('cli_inprocess');
  });
  afterAll(async () => {
    await database.drop();
  });

  it('runMigrate reports what it did, line by line', async () => {
    const env = { DATABASE_URL: database.url, LOG_LEVEL: 'silent' };
    const written: string[] = [];
    const write = (line: string): void => {
      written.push(line);
    };
    const names = migrations.map((m) => m.name);
    expect(await runMigrate('up', { env, write })).toEqual(names.map((n) => `applied  ${n}`));
    expect(await runMigrate('unlock', { env, write })).toEqual(['migration lock released']);
    expect(await runMigrate('down', { env, write, all: true })).toEqual(
      [...names].reverse().map((n) => `reverted ${n}`),
    );
    expect(written).toHaveLength(names.length * 2 + 1);
  });

  it('runMigrate lists each migration as applied or pending, and says when there is nothing to do', async () => {
    const env = { DATABASE_URL: database.url, LOG_LEVEL: 'silent' };
    const write = (): void => undefined;
    const names = migrations.map((m) => m.name);
    expect(await runMigrate('down', { env, write })).toEqual([
      'nothing to revert: no migration is applied',
    ]);
    expect(await runMigrate('up', { env, write })).toHaveLength(names.length);
    expect(await runMigrate('up', { env, write })).toEqual([
      'nothing to apply: the database is up to date',
    ]);
    // `down` reverts the last batch only; here that is every migration, newest first.
    expect(await runMigrate('down', { env, write })).toEqual(
      [...names].reverse().map((n) => `reverted ${n}`),
    );
    expect(await runMigrate('status', { env, write })).toEqual(names.map((n) => `pending  ${n}`));
  });

  it('`verdict migrate status` prints one line per migration on stdout', async () => {
    const saved = { url: process.env.DATABASE_URL, level: process.env.LOG_LEVEL };
    process.env.DATABASE_URL = database.url;
    process.env.LOG_LEVEL = 'silent';
    const printed: string[] = [];
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      printed.push(String(chunk));
      return true;
    });
    try {
      await buildProgram().parseAsync(['migrate', 'status'], { from: 'user' });
    } finally {
      stdout.mockRestore();
      if (saved.url === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved.url;
      if (saved.level === undefined) delete process.env.LOG_LEVEL;
      else process.env.LOG_LEVEL = saved.level;
    }
    expect(printed.join('')).toBe(migrations.map((m) => `pending  ${m.name}\n`).join(''));
  });

  it('serve starts with --port overriding PORT and stops cleanly, signal handlers removed', async () => {
    const before = process.listenerCount('SIGTERM');
    const server = await serve(
      { port: '0' },
      { PORT: '1', VERDICT_HOST: '127.0.0.1', DATABASE_URL: database.url, LOG_LEVEL: 'silent' },
    );
    try {
      expect(server.port).toBeGreaterThan(1);
      expect(process.listenerCount('SIGTERM')).toBe(before + 1);
      await request(server.url).get('/health/ready').expect(200);
    } finally {
      await server.stop();
    }
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });
});
