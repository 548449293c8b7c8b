import fs from 'node:fs';
import path from 'node:path';
import { migrateTo, type MigrationTarget } from '../../../../api/db/migrator';
import { migrations } from '../../../../migrations';

const migrationsDir = path.resolve(__dirname, '..', '..', '..', '..', 'migrations');

describe('the migration list', () => {
  it('lists every migration file in the folder, in name order, each once', () => {
    const files = fs
      .readdirSync(migrationsDir)
      .filter((file) => /^\d{14}_[a-z0-9_]+\.ts$/.test(file))
      .map((file) => file.replace(/\.ts$/, ''))
      .sort();
    const names = migrations.map((m) => m.name);
    expect(names).toEqual(files);
    expect(new Set(names).size).toBe(names.length);
  });

  it('has up and down for every migration', () => {
    for (const migration of migrations) {
      expect(typeof migration.up).toBe('function');
      expect(typeof migration.down).toBe('function');
    }
  });
});

describe('migrateTo', () => {
  it('refuses a migration it does not know before touching the database', async () => {
    const untouched = {
      get knex(): never {
        throw new Error('the database was touched');
      },
      connectionString: 'postgres://nowhere.invalid/none',
    } as MigrationTarget;
    await expect(migrateTo(untouched, '20991231000000_unknown')).rejects.toThrow(
      'Migration up failed: no migration 20991231000000_unknown.',
    );
  });
});
