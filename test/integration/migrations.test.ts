/**
 * Migrations up, status and down on the real Postgres and on the embedded PGlite database,
 * through the same knex code path.
 */
import type { Knex } from 'knex';
import { openDatabase, type Database } from '../../api/db/database';
import { migrateDown, migrateUp, migrationStatus } from '../../api/db/migrator';
import { migrations } from '../../migrations';
import {
  createTestDatabase,
  silentLogger,
  tempDir,
  testConfig,
  type TestDatabase,
} from './helpers/services';

// Creating an embedded database takes several seconds, more on a busy machine.
jest.setTimeout(120_000);

const allNames = migrations.map((m) => m.name);

async function tableNames(knex: Knex): Promise<string[]> {
  const result = await knex.raw<{ rows: { table_name: string }[] }>(
    "select table_name from information_schema.tables where table_schema = current_schema() and table_name in ('tenants', 'users') order by table_name",
  );
  return result.rows.map((row) => row.table_name);
}

/** The same checks for both modes. */
function describeMigrations(open: () => Promise<Database>): void {
  let db: Database;
  beforeAll(async () => {
    db = await open();
  });
  afterAll(async () => {
    await db.close();
  });

  it('starts with every migration pending', async () => {
    expect(await migrationStatus(db)).toEqual(allNames.map((name) => ({ name, applied: false })));
    expect(await tableNames(db.knex)).toEqual([]);
  });

  it('applies every migration, then finds nothing left to apply', async () => {
    expect(await migrateUp(db)).toEqual(allNames);
    expect(await tableNames(db.knex)).toEqual(['tenants', 'users']);
    expect(await migrationStatus(db)).toEqual(allNames.map((name) => ({ name, applied: true })));
    expect(await migrateUp(db)).toEqual([]);
  });

  it('creates working tables: defaults, constraints and cascade', async () => {
    const [tenant] = await db
      .knex('tenants')
      .insert({ slug: 'acme', name: 'Acme' })
      .returning<{ id: string; created_at: Date }[]>(['id', 'created_at']);
    expect(tenant?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(tenant?.created_at).toBeInstanceOf(Date);
    // E-mail addresses are stored encrypted and found by their blind index (see identity).
    await db.knex('users').insert({
      tenant_id: tenant?.id,
      email: 'v1:k:a',
      email_index: 'ann',
      role: 'tenant-admin',
    });
    await expect(
      db.knex('users').insert({
        tenant_id: tenant?.id,
        email: 'v1:k:b',
        email_index: 'ann',
        role: 'policy-author',
      }),
    ).rejects.toThrow(/users_tenant_email_index_unique/);
    await expect(
      db.knex('users').insert({ tenant_id: tenant?.id, email: 'bo@acme.test', role: 'root' }),
    ).rejects.toThrow(/users_role_known/);
    await expect(db.knex('tenants').insert({ slug: 'Not A Slug', name: 'x' })).rejects.toThrow(
      /tenants_slug_format/,
    );
    await db.knex('tenants').where({ id: tenant?.id }).delete();
    expect(await db.knex('users').count<{ count: string }[]>('* as count')).toEqual([
      { count: '0' },
    ]);
  });

  it('serves concurrent queries and transactions from the pool', async () => {
    const slugs = Array.from({ length: 12 }, (_, i) => `t${i}`);
    const outcomes = await Promise.allSettled(
      slugs.map((slug, i) =>
        db.knex.transaction(async (trx) => {
          await trx('tenants').insert({ slug, name: slug });
          // Every third transaction fails after writing, and must leave nothing behind.
          if (i % 3 === 0) throw new Error(`abort ${slug}`);
        }),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(4);
    const rows = await db.knex('tenants').select('slug').orderBy('slug');
    expect(rows.map((r: { slug: string }) => r.slug).sort()).toEqual(
      slugs.filter((_, i) => i % 3 !== 0).sort(),
    );
  });

  it('reverts the last batch, and again finds nothing to revert', async () => {
    expect(await migrateDown(db)).toEqual([...allNames].reverse());
    expect(await tableNames(db.knex)).toEqual([]);
    expect(await migrationStatus(db)).toEqual(allNames.map((name) => ({ name, applied: false })));
    expect(await migrateDown(db)).toEqual([]);
  });

  it('applies again after a full revert', async () => {
    expect(await migrateUp(db)).toEqual(allNames);
    expect(await migrateDown(db, { all: true })).toEqual([...allNames].reverse());
  });
}

describe('migrations on the real Postgres', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('migrations');
  });
  afterAll(async () => {
    await database.drop();
  });

  describeMigrations(() => openDatabase(testConfig({ DATABASE_URL: database.url }), silentLogger));

  it('lets instances that start together wait for each other instead of racing', async () => {
    // A database of its own, so even knex's bookkeeping tables do not exist yet.
    const fresh = await createTestDatabase('migrate_race');
    const config = testConfig({ DATABASE_URL: fresh.url });
    const instances = await Promise.all([
      openDatabase(config, silentLogger),
      openDatabase(config, silentLogger),
      openDatabase(config, silentLogger),
    ]);
    try {
      const applied = await Promise.all(instances.map((db) => migrateUp(db)));
      // Exactly one instance applied everything; the others found nothing left to do.
      expect(applied.map((names) => names.length).sort()).toEqual([0, 0, allNames.length]);
      expect(applied.flat()).toEqual(allNames);
    } finally {
      await Promise.all(instances.map((db) => db.close()));
      await fresh.drop();
    }
  });
});

describe('migrations on the embedded database', () => {
  const dataDir = tempDir('migrations');
  afterAll(() => {
    dataDir.remove();
  });

  describeMigrations(() =>
    openDatabase(testConfig({ VERDICT_DATA_DIR: dataDir.path }), silentLogger),
  );
});

describe('the embedded database across restarts', () => {
  const dataDir = tempDir('restart');
  afterAll(() => {
    dataDir.remove();
  });

  it('keeps applied migrations in the data folder across restarts', async () => {
    const config = testConfig({ VERDICT_DATA_DIR: dataDir.path });
    const first = await openDatabase(config, silentLogger);
    try {
      await migrateUp(first);
      await first.knex('tenants').insert({ slug: 'kept', name: 'Kept' });
    } finally {
      await first.close();
    }
    const second = await openDatabase(config, silentLogger);
    try {
      expect(second.mode).toBe('embedded');
      expect((await migrationStatus(second)).every((m) => m.applied)).toBe(true);
      expect(await second.knex('tenants').pluck('slug')).toEqual(['kept']);
    } finally {
      await second.close();
    }
  });
});
