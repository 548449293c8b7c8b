/**
 * Runs the knex migrations listed in migrations/index.ts: up (all pending), down (the last
 * batch, or all), status, and unlock for a lock left behind by a crashed run. Concurrent
 * starts are safe: knex takes the migration lock inside the migration transaction, so a
 * second instance waits for the first and then finds nothing left to do.
 */
import type { Knex } from 'knex';
import { migrations, type MigrationModule } from '../../migrations';
import { VerdictError, messageOf } from '../errors';

export interface MigrationState {
  name: string;
  applied: boolean;
}

const migrationSource: Knex.MigrationSource<MigrationModule> = {
  getMigrations: () => Promise.resolve([...migrations]),
  getMigrationName: (migration) => migration.name,
  getMigration: (migration) => Promise.resolve(migration),
};

const migratorConfig: Knex.MigratorConfig = { migrationSource };

function failure(action: string, err: unknown): VerdictError {
  const locked = err instanceof Error && err.name === 'MigrationLocked';
  return new VerdictError(
    'migration_failed',
    `Migration ${action} failed: ${messageOf(err)}` +
      (locked
        ? '. Another process holds the migration lock; if none is running, run `verdict migrate unlock`.'
        : '. The failed migration was rolled back; fix the cause and run it again.'),
    { cause: err },
  );
}

/** Names in a knex migration log, which holds either names or `{ name }` records. */
function namesOf(log: unknown): string[] {
  if (!Array.isArray(log)) return [];
  return log.map((entry: unknown) =>
    typeof entry === 'object' && entry !== null && 'name' in entry
      ? String(entry.name)
      : String(entry),
  );
}

/** Applies every pending migration; returns the names applied, in order. */
export async function migrateUp(knex: Knex): Promise<string[]> {
  try {
    const [, log] = (await knex.migrate.latest(migratorConfig)) as [number, unknown];
    return namesOf(log);
  } catch (err) {
    throw failure('up', err);
  }
}

/** Reverts the last batch (or every batch with `all`); returns the names reverted. */
export async function migrateDown(knex: Knex, options: { all?: boolean } = {}): Promise<string[]> {
  try {
    const [, log] = (await knex.migrate.rollback(migratorConfig, options.all ?? false)) as [
      number,
      unknown,
    ];
    return namesOf(log);
  } catch (err) {
    throw failure('down', err);
  }
}

/** Every known migration, in order, with whether it is applied. */
export async function migrationStatus(knex: Knex): Promise<MigrationState[]> {
  try {
    const [completed] = (await knex.migrate.list(migratorConfig)) as [unknown, unknown];
    const applied = new Set(namesOf(completed));
    return migrations.map((migration) => ({
      name: migration.name,
      applied: applied.has(migration.name),
    }));
  } catch (err) {
    throw failure('status', err);
  }
}

/** Clears the migration lock; only for a lock left behind by a process that died. */
export async function releaseMigrationLock(knex: Knex): Promise<void> {
  await knex.migrate.forceFreeMigrationsLock(migratorConfig);
}
