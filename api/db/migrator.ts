/**
 * Runs the knex migrations listed in migrations/index.ts: up (all pending), down (the last
 * batch, or all), status, and unlock for a lock left behind by a crashed run.
 *
 * Instances that start together must not race: on a fresh database knex's own bookkeeping
 * (creating its tables, seeding its lock row) is not safe to run concurrently. So up and
 * down first take a Postgres advisory lock on a connection of their own; a second instance
 * waits there, then finds nothing left to do. The lock ends with that connection, so a
 * crashed process cannot leave it behind.
 */
import type { Knex } from 'knex';
import pg from 'pg';
import { migrations, type MigrationModule } from '../../migrations';
import { VerdictError, messageOf } from '../errors';
import type { Database } from './database';

/** What the migrator needs of a database. */
export type MigrationTarget = Pick<Database, 'knex' | 'connectionString'>;

/** Identifies Verdict's migration runs among advisory locks (any fixed 64-bit number). */
const advisoryLockKey = '7402913370544112601';

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

async function exclusively<T>(target: MigrationTarget, work: () => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: target.connectionString });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1::bigint)', [advisoryLockKey]);
    try {
      return await work();
    } finally {
      await client.query('select pg_advisory_unlock($1::bigint)', [advisoryLockKey]);
    }
  } finally {
    await client.end();
  }
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
export async function migrateUp(target: MigrationTarget): Promise<string[]> {
  try {
    return await exclusively(target, async () => {
      const [, log] = (await target.knex.migrate.latest(migratorConfig)) as [number, unknown];
      return namesOf(log);
    });
  } catch (err) {
    throw failure('up', err);
  }
}

/**
 * Applies pending migrations up to and including `name` and no further (a restore brings an
 * empty database to its backup's level); returns the names applied, in order.
 */
export async function migrateTo(target: MigrationTarget, name: string): Promise<string[]> {
  const last = migrations.findIndex((migration) => migration.name === name);
  if (last === -1) {
    throw new VerdictError('migration_failed', `Migration up failed: no migration ${name}.`);
  }
  try {
    return await exclusively(target, async () => {
      const [completed] = (await target.knex.migrate.list(migratorConfig)) as [unknown, unknown];
      const done = new Set(namesOf(completed));
      const applied: string[] = [];
      for (const migration of migrations.slice(0, last + 1)) {
        if (done.has(migration.name)) continue;
        await target.knex.migrate.up({ ...migratorConfig, name: migration.name });
        applied.push(migration.name);
      }
      return applied;
    });
  } catch (err) {
    throw failure('up', err);
  }
}

/** Reverts the last batch (or every batch with `all`); returns the names reverted. */
export async function migrateDown(
  target: MigrationTarget,
  options: { all?: boolean } = {},
): Promise<string[]> {
  try {
    return await exclusively(target, async () => {
      const [, log] = (await target.knex.migrate.rollback(
        migratorConfig,
        options.all ?? false,
      )) as [number, unknown];
      return namesOf(log);
    });
  } catch (err) {
    throw failure('down', err);
  }
}

/** Every known migration, in order, with whether it is applied. */
export async function migrationStatus(target: MigrationTarget): Promise<MigrationState[]> {
  try {
    const [completed] = (await target.knex.migrate.list(migratorConfig)) as [unknown, unknown];
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
export async function releaseMigrationLock(target: MigrationTarget): Promise<void> {
  await target.knex.migrate.forceFreeMigrationsLock(migratorConfig);
}
