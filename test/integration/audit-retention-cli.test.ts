/**
 * Retention from the command line against a real server and the real Postgres: a tenant's
 * retention set with `verdict tenants create|update` (and the admin API's answers to bad
 * bodies), `verdict audit prune` in-process and through the built executable, and `--since`
 * on `verdict decisions search|export|verify`.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { openDatabase, type Database } from '../../api/db/database';
import { start, type RunningServer } from '../../api/server';
import {
  createAuditWriter,
  ensureDecisionPartitions,
  type AuditWriter,
} from '../../api/services/audit';
import { AdminCommandError } from '../../cli/admin-client';
import { runAuditPrune } from '../../cli/audit';
import { runDecisionsExport, runDecisionsSearch, runDecisionsVerify } from '../../cli/decisions';
import { runTenantsCreate, runTenantsUpdate } from '../../cli/tenants';
import { capture } from '../helpers/cli-io';
import {
  createTestDatabase,
  silentLogger,
  tempDir,
  testConfig,
  type TestDatabase,
} from './helpers/services';
import { runVerdict } from './helpers/verdict-bin';

jest.setTimeout(60_000);

const repoRoot = path.resolve(__dirname, '..', '..');
const adminToken = 'cli-retention-token-0123456789abcdef';
const now = '2026-10-15T00:00:00Z';
const ghost = randomUUID();

let database: TestDatabase;
let server: RunningServer;
let db: Database;
let writer: AuditWriter;
let dirs: { path: string; remove: () => void }[];
let exportDir: string;
const ids = new Map<string, string>();

function env(): NodeJS.ProcessEnv {
  return { VERDICT_SERVER: server.url, VERDICT_ADMIN_TOKEN: adminToken };
}

function dbEnv(url = database.url): NodeJS.ProcessEnv {
  return { DATABASE_URL: url, LOG_LEVEL: 'silent' };
}

async function createTenant(slug: string, days?: string): Promise<void> {
  const io = capture();
  await runTenantsCreate(
    slug,
    { name: slug, json: true, ...(days === undefined ? {} : { auditRetentionDays: days }) },
    io.io,
    env(),
  );
  ids.set(slug, (JSON.parse(io.out()) as { id: string }).id);
}

function record(tenantId: string, ts: Date): void {
  writer.record({
    tenantId,
    ts,
    path: 'rbac/allow',
    input: { user: 'ann' },
    result: true,
    cache: 'miss',
    durationUs: 5,
  });
}

beforeAll(async () => {
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'cli', 'audit.js'))) {
    throw new Error('dist/ is missing or stale: run `npm run build` (npm test does it first)');
  }
  database = await createTestDatabase('cli_retention');
  const serverDir = tempDir('cli-retention-server');
  const writerDir = tempDir('cli-retention-writer');
  const exports = tempDir('cli-retention-export');
  dirs = [serverDir, writerDir, exports];
  exportDir = path.join(exports.path, 'out');
  server = await start({
    config: testConfig({
      DATABASE_URL: database.url,
      VERDICT_ADMIN_TOKEN: adminToken,
      VERDICT_DATA_DIR: serverDir.path,
    }),
    logger: silentLogger,
  });
  await createTenant('acme', '60');
  await createTenant('bent', '30');
  await createTenant('other');
  db = await openDatabase(testConfig({ DATABASE_URL: database.url }), silentLogger);
  await ensureDecisionPartitions(db.knex, new Date('2026-05-01T00:00:00Z'), 3);
  writer = await createAuditWriter({
    knex: db.knex,
    dataDir: writerDir.path,
    logger: silentLogger,
  });
  const acme = ids.get('acme') as string;
  const bent = ids.get('bent') as string;
  for (let i = 0; i < 3; i++) record(acme, new Date(`2026-05-0${String(i + 1)}T10:00:00Z`));
  for (let i = 0; i < 2; i++) record(acme, new Date(`2026-06-0${String(i + 1)}T10:00:00Z`));
  record(ghost, new Date('2026-06-03T10:00:00Z'));
  for (let i = 0; i < 3; i++) record(bent, new Date(`2026-05-0${String(i + 1)}T11:00:00Z`));
  record(bent, new Date('2026-11-01T11:00:00Z'));
  record(acme, new Date(Date.now() - 3 * 3_600_000));
  record(acme, new Date(Date.now() - 10 * 60_000));
  await writer.flush();
  // bent's second row is changed after it was written: its chain no longer verifies.
  await db.knex('decisions').where({ tenant_id: bent, seq: 2 }).update({ caller: 'mallory' });
});
afterAll(async () => {
  await writer.close();
  await db.close();
  await server.stop();
  for (const dir of dirs) dir.remove();
  await database.drop();
});

describe('a tenant’s retention', () => {
  it('is set on create, changed and cleared with update', async () => {
    const read = async (): Promise<unknown> =>
      (
        await fetch(`${server.url}/v1/tenants/acme`, {
          headers: { authorization: `Bearer ${adminToken}` },
        })
      ).json();
    expect(await read()).toMatchObject({ slug: 'acme', audit_retention_days: 60 });
    const forever = capture();
    await runTenantsUpdate('acme', { auditRetentionDays: 'forever' }, forever.io, env());
    expect(forever.out()).toBe('updated tenant acme (acme): decisions kept forever\n');
    expect(await read()).toMatchObject({ audit_retention_days: null });
    const renamed = capture();
    await runTenantsUpdate(
      'acme',
      { name: 'Acme Corp', auditRetentionDays: '45', json: true },
      renamed.io,
      env(),
    );
    expect(JSON.parse(renamed.out())).toMatchObject({
      name: 'Acme Corp',
      audit_retention_days: 45,
    });
    const days = capture();
    await runTenantsUpdate(ids.get('acme') as string, { name: 'Acme' }, days.io, env());
    expect(days.out()).toBe('updated tenant acme (Acme): decisions kept 45 days\n');
    const other = (await (
      await fetch(`${server.url}/v1/tenants/other`, {
        headers: { authorization: `Bearer ${adminToken}` },
      })
    ).json()) as { audit_retention_days: unknown };
    expect(other.audit_retention_days).toBeNull();
  });

  it('refuses an update that changes nothing or a retention that is not one', async () => {
    await expect(runTenantsUpdate('acme', {}, capture().io, env())).rejects.toThrow(
      new AdminCommandError(
        'nothing to change: pass --name, --audit-retention-days or --default-decision',
      ),
    );
    await expect(
      runTenantsUpdate('acme', { auditRetentionDays: '0' }, capture().io, env()),
    ).rejects.toThrow(/--audit-retention-days must be a whole number of days/);
    await expect(
      runTenantsCreate('late', { name: 'x', auditRetentionDays: 'soon' }, capture().io, env()),
    ).rejects.toThrow(/--audit-retention-days must be/);
    await expect(
      runTenantsUpdate('nobody', { auditRetentionDays: '5' }, capture().io, env()),
    ).rejects.toThrow('No tenant "nobody"');
  });

  it.each([
    [{ audit_retention_days: 0 }, '/audit_retention_days'],
    [{ audit_retention_days: 36_501 }, '/audit_retention_days'],
    [{ audit_retention_days: 1.5 }, '/audit_retention_days'],
    [{ audit_retention_days: '30' }, '/audit_retention_days'],
    [{ name: null }, '/name'],
    [{ name: '' }, '/name'],
    [{ slug: 'renamed' }, '/slug'],
    [{}, ''],
  ])('PATCH /v1/tenants/{t} answers 400 to %j, naming the field %j', async (body, field) => {
    const res = await fetch(`${server.url}/v1/tenants/acme`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await res.json()) as { field: string }).field).toBe(field);
  });

  it('PATCH needs the admin token', async () => {
    const res = await fetch(`${server.url}/v1/tenants/acme`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ audit_retention_days: 1 }),
    });
    expect(res.status).toBe(401);
  });
});

describe('verdict decisions --since', () => {
  it('search, export and verify take the rows of that long back from now', async () => {
    const recent = capture();
    await runDecisionsSearch({ tenant: 'acme', since: '1h', json: true }, recent.io, env());
    expect((JSON.parse(recent.out()) as { decisions: unknown[] }).decisions).toHaveLength(1);
    const wider = capture();
    await runDecisionsSearch({ tenant: 'acme', since: '4h', json: true }, wider.io, env());
    expect((JSON.parse(wider.out()) as { decisions: { seq: number }[] }).decisions).toEqual([
      expect.objectContaining({ seq: 7 }),
      expect.objectContaining({ seq: 6 }),
    ]);
    const verified = capture();
    await runDecisionsVerify({ tenant: 'acme', since: '4h' }, verified.io, env());
    expect(verified.out()).toBe('chain intact: 2 rows verified up to seq 7\n');
    const file = path.join(exportDir, '..', 'recent.ndjson');
    await runDecisionsExport({ tenant: 'acme', since: '1h', output: file }, capture().io, env());
    expect(fs.readFileSync(file, 'utf8').trimEnd().split('\n')).toHaveLength(1);
  });

  it('refuses --since with --from, and a --since that is no duration', async () => {
    await expect(
      runDecisionsSearch({ tenant: 'acme', since: '1h', from: now }, capture().io, env()),
    ).rejects.toThrow('give either --since or --from, not both');
    await expect(
      runDecisionsVerify({ tenant: 'acme', since: 'yesterday' }, capture().io, env()),
    ).rejects.toThrow('--since must be a duration like 30m, 24h or 7d (got "yesterday")');
  });
});

describe('verdict audit prune', () => {
  const file = (slug: string, name: string): string =>
    path.join(exportDir, slug === 'ghost' ? ghost : (ids.get(slug) as string), name);

  it('prints on a dry run what it would export and remove (the executable)', async () => {
    const run = await runVerdict(
      ['audit', 'prune', '--dry-run', '--now', now, '--export-dir', exportDir],
      dbEnv(),
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')).toEqual([
      'dry run: nothing is exported or removed',
      '2026-05 (decisions_p2026_05): would drop the partition',
      expect.stringMatching(
        /^ {2}would export (acme 3 rows \(seq 1-3\)|bent 3 rows \(seq 1-3\)) to /,
      ),
      expect.stringMatching(
        /^ {2}would export (acme 3 rows \(seq 1-3\)|bent 3 rows \(seq 1-3\)) to /,
      ),
      '2026-06 (decisions_p2026_06): would delete the rows of 1 tenant',
      `  would export acme 2 rows (seq 4-5) to ${file('acme', 'decisions-2026-06-seq4-5.ndjson')}`,
      `  kept tenant ${ghost} (no longer exists) 1 row (seq 1-1): no retention is known for it`,
      '2026-07 (decisions_p2026_07): would drop the empty partition',
      '',
    ]);
    expect(fs.existsSync(exportDir)).toBe(false);
  });

  it('exports and removes, keeps a tenant whose chain does not verify, and exits 1 for it', async () => {
    const lines: string[] = [];
    const code = await runAuditPrune({
      exportDir,
      now,
      env: dbEnv(),
      write: (line) => lines.push(line),
    });
    expect(code).toBe(1);
    const sha = (name: string): string =>
      (lines.find((line) => line.includes(name)) ?? '').replace(/^.*sha256 /, '');
    expect(lines).toEqual([
      '2026-05 (decisions_p2026_05): deleted the rows of 1 tenant',
      `  exported acme 3 rows (seq 1-3) to ${file('acme', 'decisions-2026-05-seq1-3.ndjson')}, sha256 ${sha('seq1-3')}`,
      expect.stringMatching(
        /^ {2}kept bent 3 rows \(seq 1-3\): its chain does not verify \(seq 2: hash of seq 2 does not match its content \(the row was altered\)\)/,
      ),
      '2026-06 (decisions_p2026_06): deleted the rows of 1 tenant',
      `  exported acme 2 rows (seq 4-5) to ${file('acme', 'decisions-2026-06-seq4-5.ndjson')}, sha256 ${sha('seq4-5')}`,
      `  kept tenant ${ghost} (no longer exists) 1 row (seq 1-1): no retention is known for it`,
      '2026-07 (decisions_p2026_07): dropped the empty partition',
      '1 tenant month was not pruned (see above)',
    ]);
    expect(sha('seq1-3')).toMatch(/^[0-9a-f]{64}$/);
    expect(fs.readFileSync(file('acme', 'decisions-2026-05-seq1-3.ndjson'), 'utf8')).toMatch(
      /^(\{"decision_id":.*\}\n){3}$/,
    );
    const verified = capture();
    await runDecisionsVerify({ tenant: 'acme' }, verified.io, env());
    expect(verified.out()).toBe(
      'chain intact: 2 rows verified up to seq 7 (from the retention anchor at seq 5: older rows were pruned)\n',
    );
  });

  it('finds nothing more to do when run again (the executable)', async () => {
    const run = await runVerdict(
      ['audit', 'prune', '--now', now, '--export-dir', exportDir],
      dbEnv(),
    );
    // bent's month is still due and still does not verify.
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^2026-05 \(decisions_p2026_05\): nothing removed\n {2}kept bent /);
    expect(run.stdout).not.toMatch(/exported/);
  });

  it('explains what it needs: an export folder, a valid --now, a migrated database', async () => {
    const bare = await runVerdict(['audit', 'prune'], dbEnv());
    expect(bare.code).toBe(1);
    expect(bare.stderr).toBe(
      'verdict: pass --export-dir <dir>: the rows are exported there before they are removed (or try --dry-run)\n',
    );
    await expect(runAuditPrune({ dryRun: true, now: '2026-13-45', env: dbEnv() })).rejects.toThrow(
      '--now must be an ISO 8601 time like 2026-11-27T00:00:00Z (got "2026-13-45")',
    );
    const empty = await createTestDatabase('cli_retention_empty');
    try {
      await expect(runAuditPrune({ dryRun: true, env: dbEnv(empty.url) })).rejects.toThrow(
        'the database has no retention settings yet: run `verdict migrate up` first',
      );
    } finally {
      await empty.drop();
    }
  });

  it('shows an example in its help', async () => {
    const help = await runVerdict(['audit', 'prune', '--help'], {});
    expect(help.stdout).toContain('$ verdict audit prune --dry-run');
  });
});
