/**
 * The real services integration tests run against: the Postgres and Redis at DATABASE_URL
 * and REDIS_URL (as .ci/run sets them), or the machine's local ones by default. Each test
 * gets its own database and its own Redis key prefix, so test files can run in parallel
 * and never see each other's data.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { loadConfig, type Config } from '../../../api/config';
import { createLogger, type Logger } from '../../../api/logger';

export const postgresUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A name no other test run uses: lower-case letters, digits and underscores. */
export function uniqueName(label: string): string {
  return `verdict_${label}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

async function adminQuery(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: postgresUrl });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `Postgres is not reachable at ${postgresUrl} (${String(err)}); integration tests need it: ` +
        'start it (see .ci/run) or set DATABASE_URL to a server where this user may create databases.',
    );
  }
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

/**
 * Makes a test database refuse (or accept again) new connections, ending the open ones: what
 * the service sees when Postgres goes down and comes back.
 */
export async function setDatabaseReachable(name: string, reachable: boolean): Promise<void> {
  await adminQuery(`alter database "${name}" with allow_connections ${String(reachable)}`);
  if (!reachable) {
    await adminQuery(
      'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
      [name],
    );
  }
}

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** How many sessions are connected to the database now. */
  sessions(): Promise<number>;
  /** Drops the database, ending any connection still open to it. */
  drop(): Promise<void>;
}

export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = uniqueName(label);
  await adminQuery(`create database "${name}"`);
  const url = new URL(postgresUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    sessions: async () => {
      const result = await adminQuery(
        'select count(*)::int as n from pg_stat_activity where datname = $1',
        [name],
      );
      return (result.rows[0] as { n: number }).n;
    },
    drop: async () => {
      await adminQuery(`drop database if exists "${name}" with (force)`);
    },
  };
}

/** A fresh temporary folder, removed by the returned function. */
export function tempDir(label: string): { path: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `verdict-${label}-`));
  return {
    path: dir,
    remove: () => {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Data folders made by testConfig, under one folder removed when the process exits. */
let dataDirRoot: string | undefined;

function freshDataDir(): string {
  if (dataDirRoot === undefined) {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'verdict-data-'));
    dataDirRoot = root;
    process.once('exit', () => {
      fs.rmSync(root, { recursive: true, force: true });
    });
  }
  return fs.mkdtempSync(path.join(dataDirRoot, 'd-'));
}

/**
 * Configuration for a test: loopback, a free port, silent logs, a data folder of its own
 * (the audit spool takes a lock there), plus the given settings.
 */
export function testConfig(env: Record<string, string | undefined>): Config {
  return loadConfig({
    PORT: '0',
    VERDICT_HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    ...(Object.hasOwn(env, 'VERDICT_DATA_DIR') ? {} : { VERDICT_DATA_DIR: freshDataDir() }),
    ...env,
  });
}

/** A logger whose JSON lines are kept in memory, for asserting on what was logged. */
export function capturingLogger(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  return {
    logger: createLogger({ level: 'debug', destination }),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

export const silentLogger: Logger = createLogger({ level: 'silent' });
