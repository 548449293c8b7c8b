/**
 * `verdict migrate up|down|status|unlock`: database migrations against the configured
 * database (DATABASE_URL, or the embedded one in VERDICT_DATA_DIR). Results go to stdout,
 * one line per migration; logs go to stderr.
 */
import type { Command } from 'commander';
import pino from 'pino';
import { loadConfig } from '../api/config';
import { openDatabase } from '../api/db/database';
import { migrateDown, migrateUp, migrationStatus, releaseMigrationLock } from '../api/db/migrator';
import { createLogger } from '../api/logger';

export type MigrateAction = 'up' | 'down' | 'status' | 'unlock';

export interface MigrateOptions {
  all?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Where result lines go; stdout unless given. */
  write?: (line: string) => void;
}

/** Runs one migration action and returns the lines it printed. */
export async function runMigrate(
  action: MigrateAction,
  options: MigrateOptions = {},
): Promise<string[]> {
  const lines: string[] = [];
  const print = (line: string): void => {
    lines.push(line);
    (options.write ?? ((l: string) => process.stdout.write(`${l}\n`)))(line);
  };
  const config = loadConfig(options.env);
  const logger = createLogger({
    level: config.logLevel,
    destination: pino.destination({ fd: 2, sync: true }),
  });
  const db = await openDatabase(config, logger);
  try {
    switch (action) {
      case 'up': {
        const applied = await migrateUp(db);
        if (applied.length === 0) print('nothing to apply: the database is up to date');
        for (const name of applied) print(`applied  ${name}`);
        break;
      }
      case 'down': {
        const reverted = await migrateDown(db, { all: options.all ?? false });
        if (reverted.length === 0) print('nothing to revert: no migration is applied');
        for (const name of reverted) print(`reverted ${name}`);
        break;
      }
      case 'status': {
        for (const { name, applied } of await migrationStatus(db)) {
          print(`${applied ? 'applied' : 'pending'}  ${name}`);
        }
        break;
      }
      case 'unlock': {
        await releaseMigrationLock(db);
        print('migration lock released');
        break;
      }
    }
  } finally {
    await db.close();
  }
  return lines;
}

export function register(program: Command): void {
  const migrate = program
    .command('migrate')
    .description(
      'apply, revert or list database migrations (DATABASE_URL or the embedded database)',
    )
    .addHelpText('after', '\nExamples:\n  $ verdict migrate status\n  $ verdict migrate up\n');
  migrate
    .command('up')
    .description('apply every pending migration')
    .addHelpText('after', '\nExample:\n  $ verdict migrate up\n')
    .action(async () => {
      await runMigrate('up');
    });
  migrate
    .command('down')
    .description('revert the last batch of migrations')
    .option('--all', 'revert every applied migration')
    .addHelpText(
      'after',
      '\nExamples:\n  $ verdict migrate down          # the last batch\n  $ verdict migrate down --all\n',
    )
    .action(async (opts: { all?: boolean }) => {
      await runMigrate('down', { all: opts.all === true });
    });
  migrate
    .command('status')
    .description('list every migration as applied or pending')
    .addHelpText('after', '\nExample:\n  $ verdict migrate status\n')
    .action(async () => {
      await runMigrate('status');
    });
  migrate
    .command('unlock')
    .description('release a migration lock left behind by a process that died')
    .addHelpText(
      'after',
      '\nExample:\n  $ verdict migrate unlock        # after a migrating process was killed\n',
    )
    .action(async () => {
      await runMigrate('unlock');
    });
}
