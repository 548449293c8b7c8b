/**
 * The row-level security migration run by a database user that is not a superuser, as on a
 * managed Postgres: the user owns its database, and may (or may not) manage roles. Without
 * the right to grant itself the tenant role, the migration stops with an error that says what
 * an administrator must run; once that is done, it applies, and the user's scoped queries are
 * bound by the policies although it owns the tables.
 */
import pg from 'pg';
import { openDatabase, type Database } from '../../api/db/database';
import { migrateUp, migrationStatus } from '../../api/db/migrator';
import { tenantRole, withTenant } from '../../api/db/tenant-scope';
import {
  createTestDatabase,
  postgresUrl,
  silentLogger,
  testConfig,
  uniqueName,
  type TestDatabase,
} from '../integration/helpers/services';

jest.setTimeout(60_000);

async function asSuperuser(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A login that owns a fresh database of its own. */
async function ownLogin(
  label: string,
  attributes: string,
): Promise<{ user: string; database: TestDatabase; url: string }> {
  const user = uniqueName(label);
  await asSuperuser(`create role "${user}" login ${attributes}`);
  const database = await createTestDatabase(label);
  await asSuperuser(`alter database "${database.name}" owner to "${user}"`);
  const url = new URL(database.url);
  url.username = user;
  return { user, database, url: url.toString() };
}

const made: { user: string; database: TestDatabase; db?: Database }[] = [];

beforeAll(async () => {
  // The role exists on this server already (the case that needs a grant, not a creation).
  await asSuperuser(`
    do $$ begin
      create role ${tenantRole} nologin;
    exception when duplicate_object or unique_violation then null;
    end $$`);
});
afterAll(async () => {
  for (const { user, database, db } of made) {
    await db?.close();
    await database.drop();
    await asSuperuser(`drop role "${user}"`);
  }
});

it('stops with what to run when the user may not grant itself the role, then applies once granted', async () => {
  const login = await ownLogin('no_createrole', 'nocreaterole');
  const db = await openDatabase(testConfig({ DATABASE_URL: login.url }), silentLogger);
  made.push({ ...login, db });
  const failure = await migrateUp(db).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(failure).toMatchObject({ code: 'migration_failed' });
  const { message } = failure as Error;
  expect(message).toContain(
    `the database user ${login.user} may not grant itself the role ${tenantRole}: have an administrator run GRANT ${tenantRole} TO ${login.user}; then migrate again`,
  );
  // The reason alone, not the SQL that met it.
  expect(message).not.toMatch(/pg_roles|do \$\$/);
  const pending = (await migrationStatus(db)).filter((m) => !m.applied).map((m) => m.name);
  expect(pending).toContain('20261127150000_row_level_security');

  await asSuperuser(`grant ${tenantRole} to "${login.user}"`);
  await migrateUp(db);
  expect((await migrationStatus(db)).every((m) => m.applied)).toBe(true);
  const [tenant] = await db
    .knex('tenants')
    .insert([
      { slug: 'acme', name: 'Acme' },
      { slug: 'globex', name: 'Globex' },
    ])
    .returning<{ id: string }[]>('id');
  // The owner sees both tenants; scoped, the same user sees one.
  expect(await db.knex('tenants').pluck('slug')).toHaveLength(2);
  const scoped = await withTenant(db.knex, (tenant as { id: string }).id, (trx) =>
    trx('tenants').pluck<string[]>('slug'),
  );
  expect(scoped).toEqual(['acme']);
});

it('creates or grants the role itself when the user has CREATEROLE', async () => {
  const login = await ownLogin('createrole', 'createrole');
  const db = await openDatabase(testConfig({ DATABASE_URL: login.url }), silentLogger);
  made.push({ ...login, db });
  await migrateUp(db);
  const member = await db.knex.raw<{ rows: { member: boolean }[] }>(
    'select pg_has_role(current_user, ?, ?) as member',
    [tenantRole, 'member'],
  );
  expect(member.rows[0]?.member).toBe(true);
});
