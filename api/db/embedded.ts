/**
 * The embedded Postgres used when no DATABASE_URL is set: PGlite (Postgres compiled to
 * WASM) persisted in `<dataDir>/pgdata`, served on a loopback port by pglite-socket so
 * that the ordinary `pg` driver, knex and Objection run unchanged. PGlite executes one
 * query at a time; the socket server queues queries from all connections and keeps a
 * connection's transaction together.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { VerdictError, messageOf } from '../errors';
import type { Logger } from '../logger';
import { lockDataDir } from './data-dir-lock';

export interface EmbeddedPostgresOptions {
  dataDir: string;
  /** Loopback port to serve on; 0 picks a free one. */
  port: number;
  /** Must exceed the knex pool size, or pool connections beyond it are refused. */
  maxConnections: number;
  logger: Logger;
}

export interface EmbeddedPostgres {
  readonly connectionString: string;
  readonly pgDataDir: string;
  /** Closes the socket server and the database; safe to call twice. */
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgres> {
  const pgDataDir = path.join(options.dataDir, 'pgdata');
  fs.mkdirSync(options.dataDir, { recursive: true });
  const lock = lockDataDir(options.dataDir, 'pgdata');
  const firstStart = !fs.existsSync(path.join(pgDataDir, 'PG_VERSION'));
  options.logger.info(
    { pgDataDir },
    firstStart
      ? 'creating the embedded database (first start takes a few seconds)'
      : 'opening the embedded database',
  );

  let db: PGlite | undefined;
  let server: PGLiteSocketServer | undefined;
  try {
    db = await PGlite.create({ dataDir: pgDataDir });
    server = new PGLiteSocketServer({
      db,
      host: '127.0.0.1',
      port: options.port,
      maxConnections: options.maxConnections,
    });
    await server.start();
  } catch (err) {
    await db?.close().catch(() => undefined);
    lock.release();
    throw new VerdictError(
      'database_unavailable',
      `Cannot start the embedded database in ${pgDataDir}: ${messageOf(err)}. ` +
        'Check that the folder is writable and the port is free, or set DATABASE_URL.',
      { cause: err },
    );
  }

  const connectionString = `postgres://postgres@${server.getServerConn()}/postgres`;
  options.logger.info({ address: server.getServerConn() }, 'embedded database ready');

  const openDb = db;
  const openServer = server;
  let stopping: Promise<void> | undefined;
  return {
    connectionString,
    pgDataDir,
    stop: () => {
      stopping ??= (async () => {
        try {
          await openServer.stop();
          await openDb.close();
        } finally {
          lock.release();
        }
      })();
      return stopping;
    },
  };
}
