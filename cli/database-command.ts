/**
 * Commands that work on the database directly (`verdict migrate`, `verdict keys rotate-*`):
 * the configuration from the environment, logs on stderr, result lines on stdout (or to
 * `write`), and the database opened for the work and closed after it, whatever happens.
 */
import pino from 'pino';
import { loadConfig, type Config } from '../api/config';
import { openDatabase, type Database } from '../api/db/database';
import { createLogger, type Logger } from '../api/logger';

export interface DatabaseCommandOptions {
  env?: NodeJS.ProcessEnv;
  /** Where result lines go; stdout unless given. */
  write?: (line: string) => void;
  /** Where logs go; JSON lines on stderr unless given (tests read them back). */
  logger?: Logger;
}

export interface DatabaseCommandContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly db: Database;
  /** Prints one result line. */
  readonly print: (line: string) => void;
}

/** Runs `work` against the configured database; returns the lines it printed. */
export async function runAgainstDatabase(
  options: DatabaseCommandOptions,
  work: (context: DatabaseCommandContext) => Promise<void>,
): Promise<string[]> {
  const lines: string[] = [];
  const print = (line: string): void => {
    lines.push(line);
    (options.write ?? ((l: string) => process.stdout.write(`${l}\n`)))(line);
  };
  const config = loadConfig(options.env);
  const logger =
    options.logger ??
    createLogger({ level: config.logLevel, destination: pino.destination({ fd: 2, sync: true }) });
  const db = await openDatabase(config, logger);
  try {
    await work({ config, logger, db, print });
  } finally {
    await db.close();
  }
  return lines;
}
