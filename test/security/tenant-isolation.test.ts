/**
 * Tenant isolation in the database itself, on the real Postgres and on the embedded PGlite:
 * inside `withTenant(A)` a query on each tenant table WITHOUT any tenant filter sees only A's
 * rows, an unfiltered update or delete reaches only A's rows, and a row written for another
 * tenant is refused. With the tenant role but no tenant set, nothing is visible. The identity
 * tables, where the tenant role has no privilege, keep to one tenant even when granted one.
 * Three tenants and a platform admin are seeded through the owner connection, which sees
 * everything.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { openDatabase, type Database } from '../../api/db/database';
import { migrateUp } from '../../api/db/migrator';
import { tenantRole, withTenant } from '../../api/db/tenant-scope';
import {
  createTestDatabase,
  silentLogger,
  tempDir,
  testConfig,
  type TestDatabase,
} from '../integration/helpers/services';

// Creating an embedded database takes several seconds, more on a busy machine.
jest.setTimeout(120_000);

const tableNames = [
  'tenants',
  'users',
  'api_keys',
  'bundles',
  'bundle_versions',
  'tenant_bundles',
  'rollouts',
  'decisions',
  'audit_chain_anchors',
] as const;
type TableName = (typeof tableNames)[number];

/** Tables the tenant role has no privilege on (the identity service runs as the owner). */
const identityTables = [
  'user_mfa',
  'mfa_recovery_codes',
  'one_time_tokens',
  'sessions',
  'refresh_tokens',
] as const;
type IdentityTable = (typeof identityTables)[number];

/** The column that tells whose a row is: a tenant id, or the id of a row that is a tenant's. */
const ownerColumn: Record<TableName | IdentityTable, string> = {
  user_mfa: 'user_id',
  mfa_recovery_codes: 'user_id',
  one_time_tokens: 'user_id',
  sessions: 'tenant_id',
  refresh_tokens: 'session_id',
  tenants: 'id',
  users: 'tenant_id',
  api_keys: 'tenant_id',
  bundles: 'tenant_id',
  bundle_versions: 'bundle_id',
  tenant_bundles: 'tenant_id',
  rollouts: 'tenant_id',
  decisions: 'tenant_id',
  audit_chain_anchors: 'tenant_id',
};

/** The owner of every seeded tenant, bundle, user and session id: a tenant id or `platform`. */
const owners = new Map<string, string>();

interface Seeded {
  readonly id: string;
  /** Rows of each table that are this tenant's. */
  readonly rows: Record<TableName, number>;
  /** Three bundles; the first has two versions, the third no tenant state. */
  readonly bundleIds: readonly string[];
  /** The two versions of the first bundle. */
  readonly versionIds: readonly [string, string];
}

const hex64 = (): string => randomBytes(32).toString('hex');

async function insertId(knex: Knex, table: string, row: Record<string, unknown>): Promise<string> {
  const [inserted] = await knex(table).insert(row).returning<{ id: string }[]>('id');
  return (inserted as { id: string }).id;
}

function versionRow(bundleId: string, version: string): Record<string, unknown> {
  return {
    bundle_id: bundleId,
    version,
    revision: `rev-${version}`,
    engine: 'rego',
    manifest: '{}',
    tar: Buffer.from('tar'),
    wasm: Buffer.from('wasm'),
    signature_status: 'unsigned',
    uploaded_by: 'seed',
  };
}

function rolloutRow(tenantId: string, bundleId: string, versions: readonly string[]) {
  return {
    tenant_id: tenantId,
    bundle_id: bundleId,
    mode: 'shadow',
    candidate_version_id: versions[1],
    baseline_version_id: versions[0],
    status: 'aborted',
    started_by: 'seed',
    ended_at: new Date(),
  };
}

function decisionRow(tenantId: string, seq: number): Record<string, unknown> {
  return {
    decision_id: randomUUID(),
    tenant_id: tenantId,
    seq,
    ts: new Date(),
    path: 'rbac/allow',
    cache: 'miss',
    duration_us: 5,
    prev_hash: hex64(),
    hash: hex64(),
  };
}

function anchorRow(tenantId: string, seq: number): Record<string, unknown> {
  return {
    tenant_id: tenantId,
    month: '2026-01-01',
    first_seq: seq,
    last_seq: seq,
    last_hash: hex64(),
    last_ts: new Date(),
    rows: 1,
    export_file: `/tmp/${tenantId}-${seq}.ndjson`,
    export_sha256: hex64(),
  };
}

/** An MFA enrolment, a recovery code, a one-time token and a session (with its token). */
async function seedIdentity(knex: Knex, userId: string, tenantId: string | null): Promise<void> {
  const owner = tenantId ?? 'platform';
  owners.set(userId, owner);
  await knex('user_mfa').insert({ user_id: userId, secret: 'sealed' });
  await knex('mfa_recovery_codes').insert({ user_id: userId, code_hash: hex64() });
  const inAnHour = new Date(Date.now() + 3_600_000);
  await knex('one_time_tokens').insert({
    token_hash: hex64(),
    user_id: userId,
    purpose: 'mfa',
    expires_at: inAnHour,
  });
  const sessionId = randomUUID();
  owners.set(sessionId, owner);
  const now = new Date();
  await knex('sessions').insert({
    id: sessionId,
    user_id: userId,
    tenant_id: tenantId,
    mfa: true,
    created_at: now,
    last_seen_at: now,
    expires_at: inAnHour,
  });
  await knex('refresh_tokens').insert({
    token_hash: hex64(),
    session_id: sessionId,
    created_at: now,
  });
}

/**
 * One tenant with two rows in every tenant table (one in `tenants`, three in `bundles`) and
 * two in every identity table, written as the owner.
 */
async function seed(knex: Knex, slug: string): Promise<Seeded> {
  const id = await insertId(knex, 'tenants', { slug, name: slug });
  owners.set(id, id);
  for (const n of [1, 2]) {
    const userId = await insertId(knex, 'users', {
      tenant_id: id,
      email: `u${String(n)}@${slug}.test`,
      role: 'auditor',
    });
    await seedIdentity(knex, userId, id);
    await knex('api_keys').insert({
      tenant_id: id,
      name: `key ${n}`,
      prefix: randomBytes(6).toString('hex'),
      secret_hash: hex64(),
      scopes: ['decide'],
    });
  }
  const bundleIds = [];
  for (const name of ['one', 'two', 'three']) {
    const bundleId = await insertId(knex, 'bundles', { tenant_id: id, name });
    owners.set(bundleId, id);
    bundleIds.push(bundleId);
  }
  const first = bundleIds[0] as string;
  const versionIds = [
    await insertId(knex, 'bundle_versions', versionRow(first, '1.0.0')),
    await insertId(knex, 'bundle_versions', versionRow(first, '1.1.0')),
  ] as const;
  // The third bundle has no tenant state: scoped writes of one are tried below.
  for (const bundleId of bundleIds.slice(0, 2)) {
    await knex('tenant_bundles').insert({ tenant_id: id, bundle_id: bundleId });
  }
  await knex('rollouts').insert([
    rolloutRow(id, first, versionIds),
    rolloutRow(id, first, [versionIds[1], versionIds[0]]),
  ]);
  await knex('decisions').insert([decisionRow(id, 1), decisionRow(id, 2)]);
  await knex('audit_chain_anchors').insert([anchorRow(id, 1), anchorRow(id, 2)]);
  const rows = Object.fromEntries(tableNames.map((t) => [t, 2]));
  rows.tenants = 1;
  rows.bundles = 3;
  return { id, rows: rows as Record<TableName, number>, bundleIds, versionIds };
}

/** A row of `table` that belongs to `to`: valid in every way but its tenant. */
function rowFor(table: TableName, to: Seeded): Record<string, unknown> {
  const bundleId = to.bundleIds[0] as string;
  switch (table) {
    case 'tenants':
      return { slug: `new-${randomBytes(3).toString('hex')}`, name: 'New' };
    case 'users':
      return { tenant_id: to.id, email: `new-${randomUUID()}@x.test`, role: 'auditor' };
    case 'api_keys':
      return {
        tenant_id: to.id,
        name: 'new',
        prefix: randomBytes(6).toString('hex'),
        secret_hash: hex64(),
        scopes: ['decide'],
      };
    case 'bundles':
      return { tenant_id: to.id, name: `new-${randomBytes(3).toString('hex')}` };
    case 'bundle_versions':
      return versionRow(bundleId, `9.${String(randomBytes(2).readUInt16BE())}.0`);
    case 'tenant_bundles':
      // A third bundle, written as the owner, with no tenant state yet.
      return { tenant_id: to.id, bundle_id: to.bundleIds[2] };
    case 'rollouts':
      return rolloutRow(to.id, bundleId, to.versionIds);
    case 'decisions':
      return decisionRow(to.id, 100);
    case 'audit_chain_anchors':
      return anchorRow(to.id, 100);
  }
}

/** What the scoped code may never do on these tables, whoever the row is for. */
const readOnly: ReadonlySet<TableName> = new Set(['tenants', 'decisions', 'audit_chain_anchors']);

/** Runs `work` in a transaction started by `begin`, rolls it back and keeps the result. */
async function rolledBack<T>(
  begin: (work: (trx: Knex.Transaction) => Promise<never>) => Promise<unknown>,
  work: (trx: Knex.Transaction) => Promise<T>,
): Promise<T> {
  const undo = new Error('roll back');
  let result: T | undefined;
  await expect(
    begin(async (trx) => {
      result = await work(trx);
      throw undo;
    }),
  ).rejects.toBe(undo);
  return result as T;
}

function describeIsolation(label: string, open: () => Promise<Database>): void {
  let db: Database;
  let tenants: Seeded[] = [];
  const checked = { reads: 0, writes: 0, unscoped: 0 };
  const scoped =
    (tenantId: string) =>
    (work: (trx: Knex.Transaction) => Promise<never>): Promise<unknown> =>
      withTenant(db.knex, tenantId, work);

  beforeAll(async () => {
    db = await open();
    await migrateUp(db);
    tenants = [];
    for (const slug of ['acme', 'globex', 'initech']) tenants.push(await seed(db.knex, slug));
    const admin = await insertId(db.knex, 'users', {
      tenant_id: null,
      email: 'root@platform.test',
      role: 'platform-admin',
    });
    await seedIdentity(db.knex, admin, null);
  });
  afterAll(async () => {
    await db.close();
    process.stdout.write(
      `tenant isolation (${label}): ${String(checked.reads + checked.writes + checked.unscoped)} table×tenant cases checked ` +
        `(${String(checked.reads)} unfiltered reads, ${String(checked.writes)} writes for another tenant, ${String(checked.unscoped)} reads with no tenant set)\n`,
    );
  });

  it('shows the owner every tenant', async () => {
    for (const table of tableNames) {
      const [row] = await db.knex(table).count<{ count: string }[]>('* as count');
      // The platform admin is a user of no tenant.
      const expected =
        tenants.reduce((sum, t) => sum + t.rows[table], 0) + (table === 'users' ? 1 : 0);
      expect([table, Number(row?.count)]).toEqual([table, expected]);
    }
  });

  it('shows a scoped query without a tenant filter only its own tenant rows', async () => {
    for (const tenant of tenants) {
      for (const table of tableNames) {
        const seen = await withTenant(db.knex, tenant.id, (trx) =>
          trx(table).pluck<string[]>(ownerColumn[table]),
        );
        expect([table, seen.map((value) => owners.get(value))]).toEqual([
          table,
          Array.from({ length: tenant.rows[table] }, () => tenant.id),
        ]);
        checked.reads++;
      }
    }
  });

  it("refuses a scoped write of another tenant's row, and accepts its own", async () => {
    for (const [i, tenant] of tenants.entries()) {
      const other = tenants[(i + 1) % tenants.length] as Seeded;
      for (const table of tableNames) {
        const refusal = readOnly.has(table) ? /permission denied/ : /row-level security/;
        await expect(
          withTenant(db.knex, tenant.id, (trx) => trx(table).insert(rowFor(table, other))),
        ).rejects.toThrow(refusal);
        if (!readOnly.has(table)) {
          // The same row for its own tenant goes in: the tenant alone was the reason.
          const inserted = await rolledBack(scoped(tenant.id), (trx) =>
            trx(table).insert(rowFor(table, tenant)).returning(ownerColumn[table]),
          );
          expect(inserted).toHaveLength(1);
        }
        checked.writes++;
      }
    }
  });

  it('updates and deletes without a tenant filter reach only the own tenant rows', async () => {
    const [acme, globex] = tenants as [Seeded, Seeded];
    const updated = await rolledBack(scoped(acme.id), async (trx) => ({
      tenants: await trx('tenants').update({ updated_at: trx.fn.now() }),
      users: await trx('users').update({ display_name: 'changed' }),
      api_keys: await trx('api_keys').update({ name: 'changed' }),
      tenant_bundles: await trx('tenant_bundles').update({ updated_at: trx.fn.now() }),
      rollouts: await trx('rollouts').update({ ended_by: 'changed' }),
      usersDeleted: await trx('users').delete(),
    }));
    expect(updated).toEqual({
      tenants: 1,
      users: 2,
      api_keys: 2,
      tenant_bundles: 2,
      rollouts: 2,
      usersDeleted: 2,
    });
    // Everything the owner sees of the other tenant is as seeded.
    expect(await db.knex('users').where({ tenant_id: globex.id }).pluck('display_name')).toEqual([
      '',
      '',
    ]);
    // A tenant may change its signing settings, never its name or slug.
    await expect(
      withTenant(db.knex, acme.id, (trx) => trx('tenants').update({ name: 'renamed' })),
    ).rejects.toThrow(/permission denied/);
  });

  it('shows nothing to the tenant role when no tenant is set', async () => {
    for (const table of tableNames) {
      const counts = await db.knex.transaction(async (trx) => {
        await trx.raw(`set local role ${tenantRole}`);
        const [unset] = await trx(table).count<{ count: string }[]>('* as count');
        await trx.raw("select set_config('verdict.tenant_id', '', true)");
        const [empty] = await trx(table).count<{ count: string }[]>('* as count');
        return [Number(unset?.count), Number(empty?.count)];
      });
      expect([table, counts]).toEqual([table, [0, 0]]);
      checked.unscoped++;
    }
  });

  it('gives the tenant role no privilege on the identity tables', async () => {
    const [acme] = tenants as [Seeded];
    for (const table of identityTables) {
      await expect(withTenant(db.knex, acme.id, (trx) => trx(table).select())).rejects.toThrow(
        /permission denied/,
      );
    }
  });

  it('keeps identity rows to their tenant even once the tenant role may read them', async () => {
    for (const tenant of tenants) {
      // Granted inside the transaction, so the rollback takes the grant back too.
      const seen = await rolledBack(
        (work) => db.knex.transaction(work),
        async (trx) => {
          await trx.raw(`grant select on ${identityTables.join(', ')} to ${tenantRole}`);
          await trx.raw("select set_config('role', ?, true), set_config(?, ?, true)", [
            tenantRole,
            'verdict.tenant_id',
            tenant.id,
          ]);
          const rows: [string, (string | undefined)[]][] = [];
          for (const table of identityTables) {
            const values = await trx(table).pluck<string[]>(ownerColumn[table]);
            rows.push([table, values.map((value) => owners.get(value))]);
          }
          return rows;
        },
      );
      expect(seen).toEqual(identityTables.map((table) => [table, [tenant.id, tenant.id]]));
      checked.reads += identityTables.length;
    }
  });

  it('keeps the partitions of the decision log out of reach of the tenant role', async () => {
    const [acme] = tenants as [Seeded];
    await expect(
      withTenant(db.knex, acme.id, (trx) => trx('decisions_default').select('decision_id')),
    ).rejects.toThrow(/permission denied/);
  });

  it('hands the connection back as the owner once the scoped transaction ends', async () => {
    const [acme] = tenants as [Seeded];
    const inside = await withTenant(db.knex, acme.id, async (trx) => {
      const result = await trx.raw<{ rows: { role: string; tenant: string }[] }>(
        "select current_user as role, current_setting('verdict.tenant_id') as tenant",
      );
      return result.rows[0];
    });
    expect(inside).toEqual({ role: tenantRole, tenant: acme.id });
    // The pool holds one connection: the next query runs on the same session.
    const after = await db.knex.raw<{ rows: { role: string; tenant: string | null }[] }>(
      "select current_user as role, current_setting('verdict.tenant_id', true) as tenant",
    );
    expect(after.rows[0]?.role).not.toBe(tenantRole);
    expect(after.rows[0]?.tenant ?? '').toBe('');
    const [all] = await db.knex('users').count<{ count: string }[]>('* as count');
    expect(Number(all?.count)).toBe(7);
  });

  it('refuses to run inside another transaction, where its scope would outlive it', async () => {
    const [acme] = tenants as [Seeded];
    const role = await db.knex.transaction(async (trx) => {
      await expect(withTenant(trx, acme.id, () => Promise.resolve(1))).rejects.toThrow(
        /pass the root knex/,
      );
      const result = await trx.raw<{ rows: { role: string }[] }>('select current_user as role');
      return result.rows[0]?.role;
    });
    expect(role).not.toBe(tenantRole);
  });

  it('refuses a tenant id that is not a UUID before any query', async () => {
    await expect(withTenant(db.knex, "x' or true --", () => Promise.resolve(1))).rejects.toThrow(
      /needs a tenant id \(a UUID\)/,
    );
  });
}

describe('tenant isolation on the real Postgres', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('isolation');
  });
  afterAll(async () => {
    await database.drop();
  });

  describeIsolation('postgres', () =>
    openDatabase(
      testConfig({ DATABASE_URL: database.url, VERDICT_DB_POOL_MAX: '1' }),
      silentLogger,
    ),
  );
});

describe('tenant isolation on the embedded database', () => {
  const dataDir = tempDir('isolation');
  afterAll(() => {
    dataDir.remove();
  });

  describeIsolation('embedded', () =>
    openDatabase(
      testConfig({ VERDICT_DATA_DIR: dataDir.path, VERDICT_DB_POOL_MAX: '1' }),
      silentLogger,
    ),
  );
});
