/**
 * `verdict backup` and `verdict restore` against the real Postgres: a source platform set up
 * through a real server (tenants, API keys, bundles with versions, an active bundle, a canary
 * rollout, a user with a password and MFA, a platform admin, decisions from the HTTP API and
 * older ones through the audit writer, a retention prune that leaves an anchor), backed up,
 * and restored into fresh databases. A restored platform must hold the same rows, verify every
 * decision chain, take the source's API keys and logins, and answer decisions the same; range
 * and audit-less backups must restore chains that verify and go on; damaged files and
 * non-empty databases are refused before anything is written.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import pg from 'pg';
import { start, type RunningServer } from '../../api/server';
import { createAuditWriter, ensureDecisionPartitions, verifyChain } from '../../api/services/audit';
import { addMonths, monthStart } from '../../api/services/audit/partitions';
import { pruneDecisions } from '../../api/services/audit/retention';
import { backedUpTables, readBackupHeader, type BackupHeader } from '../../api/services/backup';
import { base32Decode, hotp, totpStep } from '../../api/services/identity/totp';
import { openDatabase } from '../../api/db/database';
import { runBackup, runRestore, type BackupCommandOptions } from '../../cli/backup';
import { runDecisionsVerify } from '../../cli/decisions';
import { run } from '../../cli/main';
import { runMigrate } from '../../cli/migrate';
import { capture } from '../helpers/cli-io';
import { call, type Answer } from '../e2e/http';
import { buildExample } from './helpers/bundles';
import { randomDataKeys } from './helpers/identity';
import {
  createTestDatabase,
  silentLogger,
  tempDir,
  testConfig,
  type TestDatabase,
} from './helpers/services';
import { runVerdict } from './helpers/verdict-bin';

jest.setTimeout(180_000);

const repoRoot = path.resolve(__dirname, '..', '..');
const adminToken = 'backup-restore-admin-token-0123456789';
const password = 'velvet orchid trombone 42';
const keys = randomDataKeys();
const databases: TestDatabase[] = [];
let workDir: { path: string; remove: () => void };
let source: TestDatabase;
let fullBackup: string;
let acmeKey: string;
let globexKey: string;
let mfaSecret: Buffer;
/** What the source answered, to compare with the restored platform's answers. */
let sourceAnswers: { acme: unknown; globex: unknown };
let acmeId: string;
let globexId: string;
/** Decision-log rows of each tenant in the source (acme's older ones were pruned). */
let sourceRows: { acme: number; globex: number; all: number };

const acmeInput = {
  subject: { id: 'bob', tenant: 'acme' },
  action: 'update',
  resource: { type: 'document', id: 'd1', tenant: 'acme', owner: 'carol' },
};
const globexInput = {
  subject: { id: 'dave', tenant: 'globex' },
  action: 'delete',
  resource: { type: 'folder', id: 'f1', tenant: 'globex', owner: 'erin' },
};

function keyEnv(): Record<string, string> {
  return {
    VERDICT_DATA_KEYS: keys.json,
    VERDICT_DATA_KEY_ID: keys.kid,
    VERDICT_BLIND_INDEX_KEY: keys.index,
  };
}

/** The environment of a database command against `url`: no server setting leaks in. */
function dbEnv(url: string): NodeJS.ProcessEnv {
  return {
    DATABASE_URL: url,
    LOG_LEVEL: 'silent',
    VERDICT_DATA_DIR: fs.mkdtempSync(path.join(workDir.path, 'data-')),
    ...keyEnv(),
  };
}

async function newDatabase(label: string): Promise<TestDatabase> {
  const database = await createTestDatabase(label);
  databases.push(database);
  return database;
}

async function startServer(url: string): Promise<RunningServer> {
  return start({
    config: testConfig({
      DATABASE_URL: url,
      VERDICT_ADMIN_TOKEN: adminToken,
      VERDICT_DATA_DIR: fs.mkdtempSync(path.join(workDir.path, 'server-')),
      ...keyEnv(),
    }),
    logger: silentLogger,
  });
}

async function expectStatus(answer: Promise<Answer>, status: number): Promise<Answer> {
  const settled = await answer;
  if (settled.status !== status) {
    throw new Error(
      `expected ${String(status)}, got ${String(settled.status)}: ${JSON.stringify(settled.body)}`,
    );
  }
  return settled;
}

function decide(url: string, key: string, input: unknown): Promise<Answer> {
  return call(url, 'POST', '/v1/data/rbac/allow', { token: key, json: { input } });
}

/** The current TOTP code of the enrolled user, `ahead` steps from now. */
function totpCode(ahead = 0): string {
  return hotp(mfaSecret, totpStep(Date.now()) + ahead);
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Each backed-up table's row count and a digest of all its rows, as text. */
async function fingerprints(url: string): Promise<Record<string, { rows: number; md5: string }>> {
  const result: Record<string, { rows: number; md5: string }> = {};
  for (const table of backedUpTables) {
    const [row] = await query<{ rows: number; md5: string }>(
      url,
      `select count(*)::int as rows,
              md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) as md5
         from ${table.name} t`,
    );
    result[table.name] = row as { rows: number; md5: string };
  }
  return result;
}

async function tableCount(url: string, table: string): Promise<number> {
  const [row] = await query<{ n: number }>(url, `select count(*)::int as n from ${table}`);
  return (row as { n: number }).n;
}

/** Whether the database has any table at all (a refused restore must not even migrate). */
async function hasTables(url: string): Promise<boolean> {
  const [row] = await query<{ n: number }>(
    url,
    "select count(*)::int as n from pg_tables where schemaname = 'public'",
  );
  return (row as { n: number }).n > 0;
}

function backupOptions(url: string, out: string, extra: Partial<BackupCommandOptions> = {}) {
  const lines: string[] = [];
  const progress: string[] = [];
  return {
    options: {
      env: dbEnv(url),
      out,
      write: (line: string) => lines.push(line),
      progress: (line: string) => progress.push(line),
      ...extra,
    },
    lines,
    progress,
  };
}

async function restoreInto(url: string, file: string, verify = true) {
  const lines: string[] = [];
  const progress: string[] = [];
  const code = await runRestore({
    env: dbEnv(url),
    in: file,
    verify,
    write: (line) => lines.push(line),
    progress: (line) => progress.push(line),
  });
  return { code, lines, progress };
}

async function setUpSource(server: RunningServer): Promise<void> {
  const admin = (method: string, route: string, json?: unknown) =>
    call(server.url, method, route, { token: adminToken, ...(json === undefined ? {} : { json }) });
  const v1 = await buildExample('rbac', { version: '1.0.0' });
  const v2 = await buildExample('rbac', { version: '2.0.0' });
  for (const slug of ['acme', 'globex']) {
    const tenant = await expectStatus(admin('POST', '/v1/tenants', { slug, name: slug }), 201);
    if (slug === 'acme') acmeId = tenant.body.id as string;
    else globexId = tenant.body.id as string;
    const key = await expectStatus(
      admin('POST', `/v1/tenants/${slug}/keys`, { name: 'backend', scopes: ['decide'] }),
      201,
    );
    if (slug === 'acme') acmeKey = key.body.key as string;
    else globexKey = key.body.key as string;
    await expectStatus(
      admin('POST', `/v1/tenants/${slug}/keys`, { name: 'auditor', scopes: ['audit:read'] }),
      201,
    );
    for (const built of slug === 'acme' ? [v1, v2] : [v1]) {
      await expectStatus(
        call(server.url, 'POST', `/v1/tenants/${slug}/bundles`, {
          token: adminToken,
          body: built.bundle.tarGz,
        }),
        201,
      );
    }
    await expectStatus(
      admin('POST', `/v1/tenants/${slug}/bundles/rbac/activate`, { version: '1.0.0' }),
      200,
    );
  }
  await expectStatus(
    admin('POST', '/v1/tenants/acme/bundles/rbac/rollouts', {
      version: '2.0.0',
      mode: 'canary',
      percent: 25,
    }),
    201,
  );

  // A policy author with a password and MFA, and a platform admin.
  await expectStatus(
    admin('POST', '/v1/tenants/acme/users', {
      email: 'ann@acme.test',
      role: 'policy-author',
      password,
    }),
    201,
  );
  await expectStatus(
    admin('POST', '/v1/platform/users', {
      email: 'root@verdict.test',
      role: 'platform-admin',
      password,
    }),
    201,
  );
  const login = await expectStatus(
    call(server.url, 'POST', '/v1/auth/login', {
      json: { tenant: 'acme', email: 'ann@acme.test', password },
    }),
    200,
  );
  const token = login.body.access_token as string;
  const enrol = await expectStatus(call(server.url, 'POST', '/v1/users/me/mfa', { token }), 201);
  mfaSecret = base32Decode(enrol.body.secret as string) as Buffer;
  await expectStatus(
    call(server.url, 'POST', '/v1/users/me/mfa/confirm', { token, json: { code: totpCode() } }),
    200,
  );

  // Older decisions, months back, through the server's own audit writer.
  const first = addMonths(monthStart(new Date()), -5);
  await ensureDecisionPartitions(server.db.knex, first, 3);
  for (let month = 0; month < 3; month++) {
    for (let i = 0; i < 4; i++) {
      const ts = new Date(addMonths(first, month).getTime() + (i + 1) * 3_600_000);
      for (const tenantId of month < 2 ? [acmeId, globexId] : [globexId]) {
        server.audit.record({
          tenantId,
          ts,
          path: 'rbac/allow',
          input: { old: i },
          result: i % 2 === 0,
          cache: 'miss',
          durationUs: 7,
        });
      }
    }
  }
  await server.audit.flush();

  // A few hundred decisions through the API, in both tenants.
  for (let batch = 0; batch < 15; batch++) {
    await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const n = batch * 10 + i;
        await expectStatus(
          decide(server.url, acmeKey, {
            ...acmeInput,
            resource: { ...acmeInput.resource, id: `d${String(n)}` },
          }),
          200,
        );
        await expectStatus(
          decide(server.url, globexKey, {
            ...globexInput,
            action: n % 3 === 0 ? 'read' : 'delete',
          }),
          200,
        );
      }),
    );
  }
  sourceAnswers = {
    acme: (await expectStatus(decide(server.url, acmeKey, acmeInput), 200)).body.result,
    globex: (await expectStatus(decide(server.url, globexKey, globexInput), 200)).body.result,
  };
  await server.audit.flush();
  // Every row is in the table (none waits in the spool), so the prune sees them all.
  expect(server.audit.isSpooling).toBe(false);
  // acme keeps 30 days: the prune removes its old months (not its newest), leaving anchors.
  await expectStatus(admin('PATCH', '/v1/tenants/acme', { audit_retention_days: 30 }), 200);
  const report = await pruneDecisions(server.db.knex, {
    exportDir: path.join(workDir.path, 'pruned'),
  });
  expect(report.problems).toBe(0);
  expect(report.months.flatMap((month) => month.pruned.map((rows) => rows.tenantId))).toEqual([
    acmeId,
    acmeId,
  ]);
}

beforeAll(async () => {
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'cli', 'main.js'))) {
    throw new Error('dist/ is missing or stale: run `npm run build` (npm test does it first)');
  }
  workDir = tempDir('backup-restore');
  source = await newDatabase('backup_src');
  const server = await startServer(source.url);
  try {
    await setUpSource(server);
  } finally {
    // Stopped before the backup: the source no longer changes, so it can be compared.
    await server.stop();
  }
  const [acme, globex] = await Promise.all(
    [acmeId, globexId].map((id) =>
      query<{ n: number }>(
        source.url,
        `select count(*)::int as n from decisions where tenant_id = '${id}'`,
      ),
    ),
  );
  sourceRows = {
    acme: acme?.[0]?.n ?? 0,
    globex: globex?.[0]?.n ?? 0,
    all: await tableCount(source.url, 'decisions'),
  };
  fullBackup = path.join(workDir.path, 'full.vbk');
  const run = backupOptions(source.url, fullBackup);
  await runBackup(run.options);
});

afterAll(async () => {
  for (const database of databases) await database.drop();
  workDir.remove();
});

describe('a full backup', () => {
  let header: BackupHeader;

  beforeAll(async () => {
    header = await readBackupHeader(fullBackup);
  });

  it('says in its header what it holds and what it needs', async () => {
    const counts = await fingerprints(source.url);
    expect(header).toMatchObject({
      format: 'verdict-backup',
      format_version: 1,
      tenants: null,
      audit: { mode: 'all', from: null, to: null, range_anchors: 0 },
      keys: { data_key_ids: [keys.kid], blind_index: true },
      unknown_tables: [],
    });
    const [migration] = await query<{ name: string }>(
      source.url,
      'select name from knex_migrations order by id desc limit 1',
    );
    expect(header.migration).toBe(migration?.name);
    expect(Object.keys(header.tables)).toEqual(backedUpTables.map((table) => table.name));
    for (const [table, rows] of Object.entries(header.tables)) {
      expect([table, rows]).toEqual([table, counts[table]?.rows]);
    }
    expect(Object.keys(header.excluded).sort()).toEqual([
      'knex_migrations',
      'knex_migrations_lock',
      'login_throttles',
      'one_time_tokens',
      'refresh_tokens',
      'sessions',
    ]);
    // What the source holds, so that the comparisons below compare something.
    expect(header.tables).toMatchObject({
      tenants: 2,
      users: 2,
      user_mfa: 1,
      api_keys: 4,
      bundles: 2,
      bundle_versions: 3,
      tenant_bundles: 2,
      rollouts: 1,
      audit_chain_anchors: 2,
    });
    expect(sourceRows.acme).toBeGreaterThanOrEqual(151);
    expect(sourceRows.globex).toBe(12 + 151);
    // The rest: the platform's own chain (admin API authorizations).
    expect(header.tables.decisions).toBe(sourceRows.all);
    expect(sourceRows.all).toBeGreaterThan(sourceRows.acme + sourceRows.globex);
    expect(header.partitions.length).toBeGreaterThanOrEqual(5);
  });

  it('restores into an empty database: the same rows, every chain verified', async () => {
    const target = await newDatabase('backup_full');
    const restored = await restoreInto(target.url, fullBackup);
    expect(restored.code).toBe(0);
    expect(restored.lines[0]).toBe(`restored ${fullBackup} (backup of ${header.created_at})`);
    expect(restored.lines).toContain(
      `chain of acme: intact, ${String(sourceRows.acme)} rows verified from the anchor at seq 8`,
    );
    expect(restored.lines).toContain(
      `chain of globex: intact, ${String(sourceRows.globex)} rows verified`,
    );
    expect(restored.lines).toContain(
      `chain of the platform (admin API authorizations): intact, ${String(sourceRows.all - sourceRows.acme - sourceRows.globex)} rows verified`,
    );
    expect(restored.progress).toContain(
      `decisions: ${String(header.tables.decisions)} rows restored`,
    );
    expect(await fingerprints(target.url)).toEqual(await fingerprints(source.url));
    // The months with partitions of their own came back as partitions.
    const partitions = await query<{ relname: string }>(
      target.url,
      "select relname from pg_class where relname like 'decisions_p%' order by relname",
    );
    for (const month of header.partitions) {
      expect(partitions.map((p) => p.relname)).toContain(`decisions_p${month.replace('-', '_')}`);
    }
    await expect(hasTables(target.url)).resolves.toBe(true);

    const server = await startServer(target.url);
    try {
      // The source's API keys authenticate, and decide the same.
      const acme = await expectStatus(decide(server.url, acmeKey, acmeInput), 200);
      const globex = await expectStatus(decide(server.url, globexKey, globexInput), 200);
      expect({ acme: acme.body.result, globex: globex.body.result }).toEqual(sourceAnswers);
      expect(sourceAnswers).toEqual({ acme: true, globex: true });

      // `verdict decisions verify` is green for both tenants, including the new decisions.
      await server.audit.flush();
      for (const tenant of ['acme', 'globex']) {
        const out = capture();
        await runDecisionsVerify({ tenant, server: server.url, token: adminToken }, out.io, {});
        expect(out.out()).toMatch(/^chain intact: \d+ rows verified up to seq \d+/);
      }

      // The user logs in with the password, then the second factor from before the backup.
      const login = await expectStatus(
        call(server.url, 'POST', '/v1/auth/login', {
          json: { tenant: 'acme', email: 'ann@acme.test', password },
        }),
        200,
      );
      expect(login.body).toMatchObject({ mfa_required: true });
      const tokens = await expectStatus(
        call(server.url, 'POST', '/v1/auth/mfa', {
          json: { mfa_token: login.body.mfa_token, code: totpCode(1) },
        }),
        200,
      );
      const me = await expectStatus(
        call(server.url, 'GET', '/v1/users/me', { token: tokens.body.access_token as string }),
        200,
      );
      expect(me.body).toMatchObject({ email: 'ann@acme.test', mfa_enabled: true });
      const wrong = await call(server.url, 'POST', '/v1/auth/login', {
        json: { tenant: 'acme', email: 'ann@acme.test', password: `${password}!` },
      });
      expect(wrong.status).toBe(401);
    } finally {
      await server.stop();
    }
  });

  it('is refused by a database that already holds data, which stays as it was', async () => {
    const target = await newDatabase('backup_busy');
    expect((await restoreInto(target.url, fullBackup, false)).code).toBe(0);
    const before = await fingerprints(target.url);
    await expect(restoreInto(target.url, fullBackup)).rejects.toThrow(
      /the database is not empty \(rows in .*tenants.*\): a backup is restored only into an empty database/,
    );
    expect(await fingerprints(target.url)).toEqual(before);
  });
});

/** The backup's lines after the header, and a writer of a file with changed content lines. */
function contentLines(file: string): { header: string; lines: string[] } {
  const text = zlib.gunzipSync(fs.readFileSync(file)).toString('utf8');
  const [header, ...lines] = text.split('\n');
  return { header: header as string, lines };
}

describe('a damaged backup', () => {
  it('is refused before anything is written: altered, corrupt, truncated, not a backup', async () => {
    const { header, lines } = contentLines(fullBackup);
    const decision = lines.findIndex((line) => line.includes('"rbac/allow"'));
    expect(decision).toBeGreaterThan(0);
    const altered = [...lines];
    altered[decision] = (altered[decision] as string).replace('"rbac/allow"', '"rbac/allox"');
    const tampered = path.join(workDir.path, 'tampered.vbk');
    fs.writeFileSync(tampered, zlib.gzipSync(`${header}\n${altered.join('\n')}`));

    const bytes = fs.readFileSync(fullBackup);
    const corrupt = path.join(workDir.path, 'corrupt.vbk');
    const flipped = Buffer.from(bytes);
    const middle = Math.floor(flipped.length / 2);
    flipped[middle] = (flipped[middle] as number) ^ 0xff;
    fs.writeFileSync(corrupt, flipped);
    const truncated = path.join(workDir.path, 'truncated.vbk');
    fs.writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const notBackup = path.join(workDir.path, 'notes.txt');
    fs.writeFileSync(notBackup, 'hello\n');

    const target = await newDatabase('backup_refused');
    const cases: [string, RegExp][] = [
      [tampered, /is corrupt or was altered: its content does not match the SHA-256 in its header/],
      [corrupt, /is not a Verdict backup, or is corrupt \(gzip: |is corrupt/],
      [truncated, /is truncated/],
      [notBackup, /is not a Verdict backup, or is corrupt \(gzip: incorrect header check\)/],
      [path.join(workDir.path, 'missing.vbk'), /cannot read .*missing\.vbk: no such file/],
    ];
    for (const [file, message] of cases) {
      await expect(restoreInto(target.url, file)).rejects.toThrow(message);
      // Not even migrated: nothing was written.
      expect(await hasTables(target.url)).toBe(false);
    }

    // The executable says it in one line and exits 1.
    const bin = await runVerdict(['restore', '--in', tampered], dbEnv(target.url));
    expect(bin.code).toBe(1);
    expect(bin.stderr).toMatch(
      /verdict: .*tampered\.vbk is corrupt or was altered: its content does not match the SHA-256/,
    );
    expect(await hasTables(target.url)).toBe(false);
    const check = await runVerdict(['restore', '--check', '--in', fullBackup], {});
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/a whole Verdict backup \(format 1\), sha256 verified/);
  });
});

/**
 * A copy of the full backup with its header and content lines edited, and its checksum
 * recomputed: a well-formed file that says something else.
 */
function rewritten(
  name: string,
  editHeader: (header: BackupHeader) => BackupHeader,
  editLines: (lines: string[]) => string[] = (lines) => lines,
): string {
  const { header, lines } = contentLines(fullBackup);
  const content = editLines(lines.slice(0, -1)).join('\n') + '\n';
  const sha = createHash('sha256').update(content).digest('hex');
  const edited = editHeader({ ...(JSON.parse(header) as BackupHeader), content_sha256: sha });
  const file = path.join(workDir.path, name);
  fs.writeFileSync(
    file,
    Buffer.concat([zlib.gzipSync(`${JSON.stringify(edited)}\n`), zlib.gzipSync(content)]),
  );
  return file;
}

describe('migration levels and failures', () => {
  it('refuses a backup from a newer Verdict, and a database migrated past the backup', async () => {
    const future = rewritten('future.vbk', (header) => ({
      ...header,
      migrations: [...header.migrations, '20991231000000_from_the_future'],
      migration: '20991231000000_from_the_future',
      verdict_version: '9.9.9',
    }));
    const target = await newDatabase('backup_levels');
    await expect(restoreInto(target.url, future)).rejects.toThrow(
      /the backup is at migration 20991231000000_from_the_future, which this Verdict \(.*\) does not know: restore it with Verdict 9\.9\.9 or later/,
    );
    expect(await hasTables(target.url)).toBe(false);

    const migrated = await runMigrate('up', { env: dbEnv(target.url), write: () => undefined });
    expect(migrated.length).toBeGreaterThan(1);
    const older = rewritten('older.vbk', (header) => ({
      ...header,
      migrations: header.migrations.slice(0, -1),
      migration: header.migrations[header.migrations.length - 2] as string,
    }));
    await expect(restoreInto(target.url, older)).rejects.toThrow(
      /the database is migrated past the backup \(to .*; the backup is at .*\): restore into a new database/,
    );
    // At the backup's own level (migrated, empty), the restore goes ahead without migrating.
    const restored = await restoreInto(target.url, fullBackup, false);
    expect(restored.code).toBe(0);
    expect(restored.progress.filter((line) => line.startsWith('applied migration'))).toEqual([]);
    expect(await tableCount(target.url, 'decisions')).toBe(sourceRows.all);
  });

  it('refuses a table whose columns are not the database’s, and writes nothing', async () => {
    const renamed = rewritten(
      'renamed.vbk',
      (header) => header,
      (lines) =>
        lines.map((line) =>
          line.startsWith('{"table":"api_keys"') ? line.replace('"prefix"', '"key_prefix"') : line,
        ),
    );
    const target = await newDatabase('backup_columns');
    await expect(restoreInto(target.url, renamed)).rejects.toThrow(
      /the backup's api_keys table \(id, tenant_id, name, key_prefix, .*\) does not match the database's \(id, tenant_id, name, prefix, .*\)/,
    );
    for (const table of backedUpTables) expect(await tableCount(target.url, table.name)).toBe(0);
  });

  it('rolls everything back when a row is refused late in the restore', async () => {
    // The last decision twice: its primary key is refused after every other table went in.
    const twice = rewritten(
      'twice.vbk',
      (header) => ({
        ...header,
        tables: { ...header.tables, decisions: (header.tables.decisions ?? 0) + 1 },
      }),
      (lines) => [...lines, lines[lines.length - 1] as string],
    );
    const target = await newDatabase('backup_rollback');
    await expect(restoreInto(target.url, twice)).rejects.toThrow(
      /the restore failed and was rolled back \(nothing was restored\): duplicate key value/,
    );
    for (const table of backedUpTables) expect(await tableCount(target.url, table.name)).toBe(0);
  });
});

describe('a range backup', () => {
  it('restores the rows of the range; every chain verifies from an anchor', async () => {
    // globex's rows of the second old month: a run from the middle of its chain.
    const month = addMonths(monthStart(new Date()), -4);
    const out = path.join(workDir.path, 'range.vbk');
    const run = backupOptions(source.url, out, {
      auditFrom: month.toISOString(),
      auditTo: addMonths(month, 1).toISOString(),
    });
    await runBackup(run.options);
    const header = await readBackupHeader(out);
    expect(header.audit).toMatchObject({ mode: 'range', range_anchors: 1 });
    // acme's rows of that month were pruned; globex has 4.
    expect(header.tables.decisions).toBe(4);

    const target = await newDatabase('backup_range');
    const restored = await restoreInto(target.url, out);
    expect(restored.code).toBe(0);
    expect(restored.lines).toContain(
      'chain of globex: intact, 4 rows verified from the anchor at seq 4',
    );
    expect(restored.lines).toContain(
      'chain of acme: intact, 0 rows verified from the anchor at seq 8',
    );
    const anchor = await query<{ export_sha256: string; first_seq: string; last_seq: string }>(
      target.url,
      `select export_sha256, first_seq::text, last_seq::text from audit_chain_anchors where tenant_id = '${globexId}'`,
    );
    expect(anchor).toEqual([{ export_sha256: '0'.repeat(64), first_seq: '1', last_seq: '4' }]);
  });

  it('for one tenant, from a time on, holds that tenant only', async () => {
    const out = path.join(workDir.path, 'acme-recent.vbk');
    const run = backupOptions(source.url, out, {
      tenant: ['acme'],
      auditFrom: monthStart(new Date()).toISOString(),
    });
    await runBackup(run.options);
    const header = await readBackupHeader(out);
    expect(header.tenants).toEqual([acmeId]);
    expect(header.tables).toMatchObject({
      tenants: 1,
      users: 2, // ann, and the platform admin every backup holds
      api_keys: 2,
      bundles: 1,
      bundle_versions: 2,
      rollouts: 1,
      audit_chain_anchors: 2,
      decisions: sourceRows.acme,
    });
    const target = await newDatabase('backup_tenant');
    const restored = await restoreInto(target.url, out);
    expect(restored.code).toBe(0);
    expect(restored.lines).toEqual(
      expect.arrayContaining([
        `chain of acme: intact, ${String(sourceRows.acme)} rows verified from the anchor at seq 8`,
      ]),
    );
    expect(await tableCount(target.url, 'tenants')).toBe(1);
  });

  it('--audit none: no rows, and decisions after the restore continue each chain', async () => {
    const out = path.join(workDir.path, 'no-audit.vbk');
    await runBackup(backupOptions(source.url, out, { audit: 'none' }).options);
    const header = await readBackupHeader(out);
    expect(header.tables.decisions).toBe(0);
    // globex, acme, and the platform's own chain.
    expect(header.audit.range_anchors).toBe(3);

    const target = await newDatabase('backup_none');
    expect((await restoreInto(target.url, out)).code).toBe(0);
    const db = await openDatabase(testConfig({ DATABASE_URL: target.url }), silentLogger);
    try {
      const writer = await createAuditWriter({
        knex: db.knex,
        dataDir: fs.mkdtempSync(path.join(workDir.path, 'writer-')),
        logger: silentLogger,
      });
      writer.record({
        tenantId: globexId,
        path: 'rbac/allow',
        result: true,
        cache: 'miss',
        durationUs: 3,
      });
      await writer.close();
      const [head] = await query<{ seq: string }>(
        source.url,
        `select max(seq)::text as seq from decisions where tenant_id = '${globexId}'`,
      );
      const result = await verifyChain(db.knex, globexId);
      expect(result).toMatchObject({ ok: true, rows: 1, anchor: { seq: Number(head?.seq) } });
      expect(result.lastSeq).toBe(Number(head?.seq) + 1);
    } finally {
      await db.close();
    }
  });
});

describe('the embedded database', () => {
  it('takes a restore, and backs up the same content again', async () => {
    const env = {
      LOG_LEVEL: 'silent',
      VERDICT_DATA_DIR: path.join(workDir.path, 'embedded'),
      ...keyEnv(),
    };
    const lines: string[] = [];
    const code = await runRestore({
      env,
      in: fullBackup,
      write: (line) => lines.push(line),
      progress: () => undefined,
    });
    expect(code).toBe(0);
    expect(lines).toContain(
      `chain of acme: intact, ${String(sourceRows.acme)} rows verified from the anchor at seq 8`,
    );
    const again = path.join(workDir.path, 'from-embedded.vbk');
    await runBackup({ env, out: again, write: () => undefined, progress: () => undefined });
    const [first, second] = await Promise.all([
      readBackupHeader(fullBackup),
      readBackupHeader(again),
    ]);
    expect(second.tables).toEqual(first.tables);
    // Row for row, value for value, the same text: the same checksum.
    expect(second.content_sha256).toBe(first.content_sha256);
  });
});

describe('the program in-process', () => {
  /** The exit code a command set (read through a function: commands set it behind our back). */
  const exitCode = (): number | string | undefined => process.exitCode;

  /** Runs `verdict ...args` as the executable does, with `env` as the environment. */
  async function verdict(env: NodeJS.ProcessEnv, ...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out.push(String(chunk));
      return true;
    });
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      err.push(String(chunk));
      return true;
    });
    const saved = { env: process.env, code: process.exitCode };
    process.env = { ...env };
    process.exitCode = undefined;
    try {
      await run(['node', 'verdict', ...args]);
      return { code: Number(exitCode() ?? 0), out: out.join(''), err: err.join('') };
    } finally {
      process.env = saved.env;
      process.exitCode = saved.code;
      stdout.mockRestore();
      stderr.mockRestore();
    }
  }

  it('backs up one tenant and restores it, progress on stderr', async () => {
    const out = path.join(workDir.path, 'program.vbk');
    const backup = await verdict(dbEnv(source.url), 'backup', '--out', out, '--tenant', 'globex');
    expect(backup).toMatchObject({ code: 0 });
    expect(backup.out).toMatch(
      /^backup written to .*program\.vbk \(\d+\.\d KiB\), sha256 [0-9a-f]{64}\n/,
    );
    expect(backup.out).toContain(`  tenants ${globexId} only; every decision-log row\n`);
    expect(backup.err).toContain(`decisions: ${String(sourceRows.globex)} rows\n`);
    const target = await newDatabase('backup_program');
    const restore = await verdict(dbEnv(target.url), 'restore', '--in', out);
    expect(restore).toMatchObject({ code: 0 });
    expect(restore.out).toContain(
      `chain of globex: intact, ${String(sourceRows.globex)} rows verified\n`,
    );
    expect(restore.err).toContain('checksum and counts verified');
    const check = await verdict({}, 'restore', '--check', '--in', out);
    expect(check.out).toMatch(
      /program\.vbk: a whole Verdict backup \(format 1\), sha256 verified\n/,
    );
    const never = await newDatabase('backup_never_migrated');
    const empty = await verdict(dbEnv(never.url), 'backup', '--out', out);
    expect(empty.code).toBe(1);
    expect(empty.err).toBe('verdict: the database holds no Verdict data (it was never migrated)\n');
  });
});

describe('bad requests', () => {
  it('names what is wrong', async () => {
    const run = (extra: Partial<BackupCommandOptions>) =>
      runBackup(backupOptions(source.url, path.join(workDir.path, 'x.vbk'), extra).options);
    await expect(run({ out: '' })).rejects.toThrow('pass --out <file>');
    await expect(run({ audit: 'some' })).rejects.toThrow('--audit must be all or none');
    await expect(run({ auditFrom: 'yesterday' })).rejects.toThrow(
      /--audit-from must be an ISO 8601 time/,
    );
    await expect(run({ audit: 'none', auditTo: '2026-01-01' })).rejects.toThrow(
      '--audit none takes no --audit-from or --audit-to',
    );
    await expect(run({ auditFrom: '2026-02-01', auditTo: '2026-01-01' })).rejects.toThrow(
      '--audit-from must be before --audit-to',
    );
    await expect(run({ tenant: ['nobody'] })).rejects.toThrow('no tenant "nobody"');
    await expect(run({ out: path.join(workDir.path, 'no-such-folder', 'x.vbk') })).rejects.toThrow(
      /cannot write .*no-such-folder/,
    );
    expect(fs.readdirSync(workDir.path).filter((name) => name.includes('.tmp'))).toEqual([]);
    await expect(runRestore({ env: dbEnv(source.url), in: '' })).rejects.toThrow(
      'pass --in <file>',
    );
  });
});
