/**
 * `verdict migrate up|down|status|unlock`: database migrations against the configured
 * database (DATABASE_URL, or the embedded one in VERDICT_DATA_DIR). Results go to stdout,
 * one line per migration; logs go to stderr.
 */
import type { Command } from 'commander';
import { migrateDown, migrateUp, migrationStatus, releaseMigrationLock } from '../api/db/migrator';
import { runAgainstDatabase, type DatabaseCommandOptions } from './database-command';

export type MigrateAction = 'up' | 'down' | 'status' | 'unlock';

export interface MigrateOptions extends DatabaseCommandOptions {
  all?: boolean;
}

/** Runs one migration action and returns the lines it printed. */
export function runMigrate(action: MigrateAction, options: MigrateOptions = {}): Promise<string[]> {
  return runAgainstDatabase(options, async ({ db, print }) => {
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
  });
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
