/**
 * Opens the database the configuration asks for: the external Postgres at DATABASE_URL, or
 * the embedded one in the data folder. Either way the rest of the service sees one knex
 * instance over the `pg` driver, bound to Objection's models.
 */
import knex, { type Knex } from 'knex';
import { Model } from 'objection';
import { maskUrl, type Config } from '../config';
import { VerdictError, messageOf } from '../errors';
import type { Logger } from '../logger';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded';

export type DatabaseMode = 'embedded' | 'external';

export interface Database {
  readonly knex: Knex;
  /** Where the pool connects; contains credentials, so never log it. */
  readonly connectionString: string;
  readonly mode: DatabaseMode;
  /** Present in embedded mode. */
  readonly embedded: EmbeddedPostgres | undefined;
  /** Resolves when a round trip succeeds; rejects with the driver's reason otherwise. */
  ping(): Promise<void>;
  /** Closes the pool (and stops the embedded database); safe to call twice. */
  close(): Promise<void>;
}

/** Extra embedded-server connections beyond the pool, for `psql` and the migration lock. */
const embeddedConnectionHeadroom = 5;

export function createKnex(connectionString: string, poolMax: number, logger: Logger): Knex {
  const log = (level: 'debug' | 'warn' | 'error') => (message: unknown) => {
    logger[level]({ knex: messageOf(message) }, 'knex');
  };
  return knex({
    client: 'pg',
    // Knex writes to the console by default; keep its messages in the JSON log instead.
    log: { debug: log('debug'), warn: log('warn'), error: log('error'), deprecate: log('warn') },
    connection: { connectionString },
    pool: { min: 0, max: poolMax },
    // A pool that cannot get a connection fails the request instead of queueing it forever.
    acquireConnectionTimeout: 10_000,
  });
}

export async function openDatabase(config: Config, logger: Logger): Promise<Database> {
  let embedded: EmbeddedPostgres | undefined;
  let connectionString = config.databaseUrl;
  if (connectionString === undefined) {
    embedded = await startEmbeddedPostgres({
      dataDir: config.dataDir,
      port: config.embeddedPgPort,
      maxConnections: config.databasePoolMax + embeddedConnectionHeadroom,
      logger,
    });
    connectionString = embedded.connectionString;
  }
  const db = createKnex(connectionString, config.databasePoolMax, logger);
  const ping = async (): Promise<void> => {
    await db.raw('select 1');
  };
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      try {
        await db.destroy();
      } finally {
        await embedded?.stop();
      }
    })();
    return closing;
  };

  try {
    await ping();
  } catch (err) {
    await close().catch(() => undefined);
    const where = embedded === undefined ? maskUrl(connectionString) : 'the embedded database';
    throw new VerdictError(
      'database_unavailable',
      `Cannot reach Postgres at ${where}: ${messageOf(err)}. ` +
        (embedded === undefined
          ? 'Check DATABASE_URL and that the server is running, or unset it to use the embedded database.'
          : `Check the data folder ${config.dataDir}.`),
      { cause: err },
    );
  }
  Model.knex(db);
  logger.info({ mode: embedded === undefined ? 'external' : 'embedded' }, 'database connected');
  return {
    knex: db,
    connectionString,
    mode: embedded === undefined ? 'external' : 'embedded',
    embedded,
    ping,
    close,
  };
}
