// The scratch state of one bench run: a Postgres database created for it and dropped after,
// a Redis key prefix whose keys are removed after, and a temporary folder.
import { createRequire } from 'node:module';
import console from 'node:console';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { URL } from 'node:url';

const require = createRequire(import.meta.url);
const pg = require('pg');
const Redis = require('ioredis');

export const adminDatabaseUrl =
  process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** One SQL statement on the admin database (DATABASE_URL's server). */
export async function adminSql(sql) {
  const client = new pg.Client({ connectionString: adminDatabaseUrl });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

async function removeRedisKeys(prefix) {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = nextCursor;
    } while (cursor !== '0');
  } catch (error) {
    console.error('could not remove Redis keys under', prefix, error.message);
  } finally {
    redis.disconnect();
  }
}

/**
 * Names the run's database (`verdict_bench_<label>_<pid>`), Redis prefix and folder.
 * `createDatabase()` makes the database; `cleanUp()` drops it (if made), removes the keys and
 * the folder, and may be called more than once.
 */
export function scratch(label) {
  const dbName = `verdict_bench_${label}_${process.pid}`;
  const databaseUrl = new URL(adminDatabaseUrl);
  databaseUrl.pathname = `/${dbName}`;
  const redisPrefix = `verdict-bench-${label}-${process.pid}-${randomBytes(4).toString('hex')}:`;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `verdict-bench-${label}-`));
  let created = false;
  return {
    dbName,
    databaseUrl,
    redisPrefix,
    work,
    async createDatabase() {
      await adminSql(`create database "${dbName}"`);
      created = true;
    },
    async cleanUp() {
      if (created) {
        await adminSql(`drop database if exists "${dbName}" with (force)`).catch((error) =>
          console.error('could not drop', dbName, error.message),
        );
        created = false;
      }
      await removeRedisKeys(redisPrefix);
      fs.rmSync(work, { recursive: true, force: true });
    },
  };
}

/**
 * The environment of a `verdict serve` on the run's database and Redis prefix, answering on
 * loopback, with its data folder under the run's folder; rate limits off (the bench measures
 * the service, not its limits) and log level `warn` (no line per request). `extra` adds or
 * overrides settings.
 */
export function verdictEnv(run, adminToken, extra = {}) {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    DATABASE_URL: run.databaseUrl.toString(),
    REDIS_URL: redisUrl,
    VERDICT_REDIS_PREFIX: run.redisPrefix,
    VERDICT_ADMIN_TOKEN: adminToken,
    VERDICT_HOST: '127.0.0.1',
    VERDICT_DATA_DIR: path.join(run.work, 'verdict-data'),
    VERDICT_RATE_LIMIT_IP: 'off',
    VERDICT_RATE_LIMIT_DECISIONS: 'off',
    LOG_LEVEL: 'warn',
    ...extra,
  };
}
