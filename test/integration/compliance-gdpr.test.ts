/**
 * Compliance reports and GDPR data-subject tools against a real server and the real Postgres:
 * `verdict compliance access-review|decisions-report` on a seeded tenant (exact counts, CSV
 * that parses back), `verdict gdpr export` (the user's data and nobody else's) and
 * `verdict gdpr erase` (chains still verify, no login, the address nowhere in clear).
 */
import fs from 'node:fs';
import path from 'node:path';
import { openDatabase, type Database } from '../../api/db/database';
import { start, type RunningServer } from '../../api/server';
import { createAuditWriter, type AuditWriter } from '../../api/services/audit';
import { FieldCipher, parseDataKeys } from '../../api/services/identity/data-keys';
import { base32Decode, totp } from '../../api/services/identity/totp';
import { UserDirectory, type UserRow } from '../../api/services/identity/users';
import { AdminCommandError } from '../../cli/admin-client';
import { runAccessReview, runDecisionsReport } from '../../cli/compliance';
import { runDecisionsVerify } from '../../cli/decisions';
import { runGdprErase, runGdprExport } from '../../cli/gdpr';
import { capture } from '../helpers/cli-io';
import { csvRecords } from '../helpers/csv';
import { randomDataKeys } from './helpers/identity';
import { repoRoot, runVerdict } from './helpers/verdict-bin';
import {
  createTestDatabase,
  silentLogger,
  tempDir,
  testConfig,
  type TestDatabase,
} from './helpers/services';

jest.setTimeout(60_000);

const adminToken = 'compliance-gdpr-token-0123456789abcdef';
const password = 'velvet orchid trombone 42';
const annEmail = 'Ann.Auditor@acme.test';
const annName = 'Ann "Audit", Jr.';
const keys = randomDataKeys();

let database: TestDatabase;
let server: RunningServer;
let db: Database;
let directory: UserDirectory;
let writer: AuditWriter;
let dirs: { remove: () => void }[];
const ids = new Map<string, string>();

function dbEnv(): NodeJS.ProcessEnv {
  return {
    DATABASE_URL: database.url,
    LOG_LEVEL: 'silent',
    VERDICT_DATA_KEYS: keys.json,
    VERDICT_DATA_KEY_ID: keys.kid,
    VERDICT_BLIND_INDEX_KEY: keys.index,
  };
}

async function call(
  method: string,
  url: string,
  body?: unknown,
  token = adminToken,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${server.url}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      'user-agent': 'compliance-test-agent',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return {
    status: res.status,
    json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
  };
}

async function created(url: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await call('POST', url, body);
  if (res.status !== 201)
    throw new Error(`${url}: ${String(res.status)} ${JSON.stringify(res.json)}`);
  return res.json;
}

const from = new Date('2026-10-01T00:00:00Z');
const to = new Date('2026-11-01T00:00:00Z');

function decision(
  tenant: string,
  ts: string,
  fields: { version?: string; caller?: string | null; result?: unknown; shadowOf?: string },
): void {
  const version = fields.version ?? '1.0.0';
  writer.record({
    tenantId: tenant,
    ts: new Date(ts),
    path: 'rbac/allow',
    bundleName: 'rbac',
    bundleVersion: version,
    bundleRevision: `rev-${version}`,
    input: { user: 'someone' },
    ...('result' in fields ? { result: fields.result } : {}),
    caller: fields.caller ?? null,
    cache: 'miss',
    durationUs: 3,
    ...(fields.shadowOf === undefined
      ? {}
      : {
          rollout: {
            rolloutId: '11111111-1111-4111-8111-111111111111',
            arm: 'shadow' as const,
            comparedWith: fields.shadowOf,
            agrees: true,
          },
        }),
  });
}

beforeAll(async () => {
  database = await createTestDatabase('compliance_gdpr');
  const serverDir = tempDir('compliance-server');
  const writerDir = tempDir('compliance-writer');
  dirs = [serverDir, writerDir];
  server = await start({
    config: testConfig({
      ...dbEnv(),
      VERDICT_ADMIN_TOKEN: adminToken,
      VERDICT_DATA_DIR: serverDir.path,
    }),
    logger: silentLogger,
  });
  for (const slug of ['acme', 'other']) {
    ids.set(slug, (await created('/v1/tenants', { slug, name: slug })).id as string);
  }
  const user = async (tenant: string, email: string, role: string, name: string) =>
    (
      (await created(`/v1/tenants/${tenant}/users`, { email, role, password, display_name: name }))
        .user as { id: string }
    ).id;
  ids.set('ann', await user('acme', annEmail, 'auditor', annName));
  ids.set('bob', await user('acme', 'bob@acme.test', 'policy-author', 'Bob'));
  ids.set('carol', await user('other', 'carol@other.test', 'tenant-admin', 'Carol'));
  expect((await call('DELETE', `/v1/tenants/acme/users/${ids.get('bob') as string}`)).status).toBe(
    200,
  );
  const key = async (name: string, scopes: string[]) =>
    (await created('/v1/tenants/acme/keys', { name, scopes })).id as string;
  ids.set('backend', await key('backend, "main"', ['decide']));
  ids.set('ci', await key('ci', ['bundles:write', 'audit:read']));
  expect((await call('DELETE', `/v1/tenants/acme/keys/${ids.get('ci') as string}`)).status).toBe(
    200,
  );

  // Ann logs in, enrols MFA and reads her tenant: platform-chain rows name her.
  const login = await call('POST', '/v1/auth/login', { tenant: 'acme', email: annEmail, password });
  expect(login.status).toBe(200);
  const token = login.json.access_token as string;
  const enrol = await call('POST', '/v1/users/me/mfa', undefined, token);
  const secret = base32Decode(enrol.json.secret as string) as Buffer;
  const confirm = await call(
    'POST',
    '/v1/users/me/mfa/confirm',
    { code: totp(secret, Date.now()) },
    token,
  );
  expect(confirm.status).toBe(200);
  expect((await call('GET', '/v1/tenants/acme', undefined, token)).status).toBe(200);
  await server.audit.flush();

  db = await openDatabase(testConfig({ DATABASE_URL: database.url }), silentLogger);
  directory = new UserDirectory(
    db.knex,
    new FieldCipher(parseDataKeys(keys.json, keys.kid, keys.index)),
  );
  writer = await createAuditWriter({
    knex: db.knex,
    dataDir: writerDir.path,
    logger: silentLogger,
  });
  const acme = ids.get('acme') as string;
  const backend = ids.get('backend') as string;
  const ci = ids.get('ci') as string;
  decision(acme, '2026-09-30T23:59:59Z', { caller: backend, result: true }); // before the range
  for (const day of ['02', '03', '04'])
    decision(acme, `2026-10-${day}T10:00:00Z`, { caller: backend, result: true });
  decision(acme, '2026-10-05T10:00:00Z', { caller: backend, result: { allow: false } });
  decision(acme, '2026-10-06T10:00:00Z', { caller: backend, result: false });
  decision(acme, '2026-10-07T10:00:00Z', { caller: ci });
  decision(acme, '2026-10-08T10:00:00Z', {
    version: '1.1.0',
    caller: backend,
    result: { level: 3 },
  });
  decision(acme, '2026-10-09T10:00:00Z', { version: '1.1.0', caller: null, result: true });
  decision(acme, '2026-10-10T10:00:00Z', {
    version: '1.1.0',
    caller: backend,
    result: false,
    shadowOf: acme,
  });
  decision(acme, '2026-11-01T00:00:00Z', { caller: backend, result: true }); // the range's end
  decision(ids.get('other') as string, '2026-10-03T10:00:00Z', { caller: backend, result: true });
  await writer.flush();
});
afterAll(async () => {
  await writer.close();
  await db.close();
  await server.stop();
  for (const dir of dirs) dir.remove();
  await database.drop();
});

describe('verdict compliance access-review', () => {
  it('lists the tenant’s users and keys as CSV that parses back', async () => {
    let text = '';
    await runAccessReview({ tenant: 'acme', env: dbEnv(), out: (t) => (text += t) });
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = csvRecords(text);
    expect(rows.map((row) => [row.kind, row.id])).toEqual([
      ['user', ids.get('ann')],
      ['user', ids.get('bob')],
      ['api-key', ids.get('backend')],
      ['api-key', ids.get('ci')],
    ]);
    const [ann, bob, backend, ci] = rows as [
      Record<string, string>,
      Record<string, string>,
      Record<string, string>,
      Record<string, string>,
    ];
    expect(ann).toMatchObject({
      name: annName,
      email: annEmail,
      role: 'auditor',
      status: 'active',
      mfa_enabled: 'true',
      disabled_at: '',
    });
    expect(Date.parse(String(ann.last_login_at))).not.toBeNaN();
    expect(bob).toMatchObject({
      role: 'policy-author',
      status: 'disabled',
      mfa_enabled: 'false',
      last_login_at: '',
    });
    expect(Date.parse(String(bob.disabled_at))).not.toBeNaN();
    expect(backend).toMatchObject({
      name: 'backend, "main"',
      role: 'app',
      scopes: 'decide',
      status: 'active',
      revoked_at: '',
      expires_at: '',
    });
    expect(backend.key_prefix).toMatch(/^[0-9a-f]{12}$/);
    expect(ci).toMatchObject({ scopes: 'audit:read bundles:write', status: 'revoked' });
    expect(Date.parse(String(ci.revoked_at))).not.toBeNaN();
    expect(text).not.toContain('carol');
  });

  it('gives the same review as JSON, and the platform admins for `platform`', async () => {
    let text = '';
    const review = await runAccessReview({
      tenant: ids.get('acme') as string,
      format: 'json',
      env: dbEnv(),
      out: (t) => (text += t),
    });
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(review)));
    expect(review.tenant).toEqual({ id: ids.get('acme'), slug: 'acme' });
    expect(review.users.map((u) => u.email)).toEqual([annEmail, 'bob@acme.test']);
    expect(review.api_keys.map((k) => [k.name, k.status])).toEqual([
      ['backend, "main"', 'active'],
      ['ci', 'revoked'],
    ]);
    const platform = await runAccessReview({
      tenant: 'platform',
      format: 'json',
      env: dbEnv(),
      out: () => undefined,
    });
    expect(platform.users).toEqual([]);
    expect(platform.api_keys).toEqual([]);
  });

  it('refuses an unknown tenant with a message that says what to give', async () => {
    await expect(
      runAccessReview({ tenant: 'nope', env: dbEnv(), out: () => undefined }),
    ).rejects.toThrow(/No tenant "nope".*verdict tenants list/u);
  });
});

describe('the built executable', () => {
  it('prints the review as CSV, and one clear line with exit code 1 for bad input', async () => {
    if (!fs.existsSync(path.join(repoRoot, 'dist', 'cli', 'compliance.js'))) {
      throw new Error('dist/ is missing or stale: run `npm run build` (npm test does it first)');
    }
    const ok = await runVerdict(['compliance', 'access-review', '--tenant', 'acme'], dbEnv());
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect(csvRecords(ok.stdout).map((row) => row.id)).toEqual(
      ['ann', 'bob', 'backend', 'ci'].map((name) => ids.get(name)),
    );
    const unknown = await runVerdict(
      [
        'compliance',
        'decisions-report',
        '--tenant',
        'nope',
        '--from',
        '2026-10-01',
        '--to',
        '2026-11-01',
      ],
      dbEnv(),
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toMatch(/^verdict: No tenant "nope"/u);
    const format = await runVerdict(
      ['compliance', 'access-review', '--tenant', 'acme', '--format', 'xml'],
      dbEnv(),
    );
    expect(format.code).toBe(1);
    expect(format.stderr).toContain("argument 'xml' is invalid");
    const erase = await runVerdict(['gdpr', 'erase', '--user', annEmail], dbEnv());
    expect(erase.code).toBe(1);
    expect(erase.stderr).toMatch(/^verdict: an erasure cannot be undone.*pass --yes/u);
  });
});

describe('verdict compliance decisions-report', () => {
  it('counts served decisions in [from, to) by version, path, caller and outcome', async () => {
    let text = '';
    const report = await runDecisionsReport({
      tenant: 'acme',
      from: from.toISOString(),
      to: to.toISOString(),
      env: dbEnv(),
      out: (t) => (text += t),
    });
    const backend = ids.get('backend') as string;
    const ci = ids.get('ci') as string;
    const base = { path: 'rbac/allow', bundle_name: 'rbac' };
    const rows = [
      {
        ...base,
        bundle_version: '1.0.0',
        bundle_revision: 'rev-1.0.0',
        caller: backend,
        caller_name: 'backend, "main"',
        total: 5,
        allowed: 3,
        denied: 2,
        undefined: 0,
        other: 0,
      },
      {
        ...base,
        bundle_version: '1.0.0',
        bundle_revision: 'rev-1.0.0',
        caller: ci,
        caller_name: 'ci',
        total: 1,
        allowed: 0,
        denied: 0,
        undefined: 1,
        other: 0,
      },
      {
        ...base,
        bundle_version: '1.1.0',
        bundle_revision: 'rev-1.1.0',
        caller: null,
        caller_name: null,
        total: 1,
        allowed: 1,
        denied: 0,
        undefined: 0,
        other: 0,
      },
      {
        ...base,
        bundle_version: '1.1.0',
        bundle_revision: 'rev-1.1.0',
        caller: backend,
        caller_name: 'backend, "main"',
        total: 1,
        allowed: 0,
        denied: 0,
        undefined: 0,
        other: 1,
      },
    ];
    // In byte order of version, then caller (no caller first).
    rows.sort((a, b) =>
      a.bundle_version === b.bundle_version
        ? (a.caller ?? '') < (b.caller ?? '')
          ? -1
          : 1
        : a.bundle_version < b.bundle_version
          ? -1
          : 1,
    );
    expect(report.rows).toEqual(rows);
    expect(report.totals).toEqual({ total: 8, allowed: 4, denied: 2, undefined: 1, other: 1 });
    expect(csvRecords(text)).toEqual(
      rows.map((row) =>
        Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v === null ? '' : String(v)])),
      ),
    );
  });

  it('reports the platform chain, and refuses a range that is empty or not a time', async () => {
    const platform = await runDecisionsReport({
      tenant: 'platform',
      from: '2000-01-01T00:00:00Z',
      to: '2100-01-01T00:00:00Z',
      format: 'json',
      env: dbEnv(),
      out: () => undefined,
    });
    expect(platform.rows.some((row) => row.caller === `user:${ids.get('ann') as string}`)).toBe(
      true,
    );
    await expect(
      runDecisionsReport({
        tenant: 'acme',
        from: to.toISOString(),
        to: from.toISOString(),
        env: dbEnv(),
      }),
    ).rejects.toThrow(new AdminCommandError('--from must be before --to'));
    await expect(
      runDecisionsReport({ tenant: 'acme', from: 'yesterday', to: to.toISOString(), env: dbEnv() }),
    ).rejects.toThrow(/--from must be an ISO 8601 time/u);
  });
});

/** Every text-like column of every table, as (table, column). */
async function textColumns(): Promise<{ table: string; column: string }[]> {
  const result = await db.knex.raw<{ rows: { table: string; column: string }[] }>(
    `select c.table_name as table, c.column_name as column
       from information_schema.columns c
       join information_schema.tables t using (table_schema, table_name)
      where c.table_schema = current_schema() and t.table_type = 'BASE TABLE'
        and c.data_type in ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY')
      order by 1, 2`,
  );
  return result.rows;
}

async function tablesHolding(needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const { table, column } of await textColumns()) {
    const hit = await db.knex.raw<{ rows: unknown[] }>(
      'select 1 from ?? where strpos(lower(??::text), ?) > 0 limit 1',
      [table, column, needle.toLowerCase()],
    );
    if (hit.rows.length > 0) found.push(`${table}.${column}`);
  }
  return found;
}

describe('verdict gdpr export', () => {
  it('prints the user’s data, and nothing of other users', async () => {
    let text = '';
    const exported = await runGdprExport({
      user: annEmail.toLowerCase(),
      env: dbEnv(),
      out: (t) => (text += t),
    });
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(exported)));
    const annId = ids.get('ann') as string;
    expect(exported.user).toMatchObject({
      id: annId,
      tenant: { id: ids.get('acme'), slug: 'acme' },
      email: annEmail,
      display_name: annName,
      role: 'auditor',
      status: 'active',
      erased: false,
      password_set: true,
    });
    expect(exported.mfa).toMatchObject({
      enrolled: true,
      recovery_codes: 10,
      recovery_codes_used: 0,
    });
    expect(text).not.toMatch(/"secret"|code_hash/u);
    expect(exported.sessions).toHaveLength(1);
    expect(exported.sessions[0]).toMatchObject({
      store: 'database',
      user_agent: 'compliance-test-agent',
      revoked_at: null,
    });
    expect(exported.platform_audit.length).toBeGreaterThan(0);
    for (const row of exported.platform_audit) expect(JSON.stringify(row)).toContain(annId);
    for (const other of ['bob', 'carol', 'backend', 'ci'])
      expect(text).not.toContain(ids.get(other));
    expect(text).not.toMatch(/bob@|carol@/u);
  });

  it('finds a user by id, and says so when nobody matches', async () => {
    const byId = await runGdprExport({
      user: ids.get('bob') as string,
      env: dbEnv(),
      out: () => undefined,
    });
    expect(byId.user).toMatchObject({
      email: 'bob@acme.test',
      status: 'disabled',
      password_set: true,
    });
    expect(byId.mfa).toBeNull();
    await expect(
      runGdprExport({
        user: 'nobody@acme.test',
        tenant: 'acme',
        env: dbEnv(),
        out: () => undefined,
      }),
    ).rejects.toThrow(/No user "nobody@acme.test" in acme/u);
  });
});

describe('verdict gdpr erase', () => {
  it('asks for --yes before anything happens', async () => {
    await expect(runGdprErase({ user: annEmail, env: dbEnv() })).rejects.toThrow(/pass --yes/u);
  });

  it('erases the user: chains verify, no login, the address nowhere in clear, export shows the pseudonym', async () => {
    const annId = ids.get('ann') as string;
    // The scan finds what is stored in clear: the name and the browser, not the address.
    expect(await tablesHolding(annName)).toEqual(['users.display_name']);
    expect(await tablesHolding('compliance-test-agent')).toEqual(['sessions.user_agent']);
    expect(await tablesHolding(annEmail)).toEqual([]);
    const annIndex = directory.emailIndex(annEmail);
    expect(await db.knex('users').where({ email_index: annIndex }).count()).toEqual([
      { count: '1' },
    ]);
    const report = await runGdprErase({
      user: annEmail,
      tenant: 'acme',
      yes: true,
      env: dbEnv(),
      out: () => undefined,
    });
    expect(report).toMatchObject({
      user_id: annId,
      tenant_id: ids.get('acme'),
      sessions_deleted: 1,
      redis_sessions_deleted: 0,
      mfa_enrolments_deleted: 1,
      recovery_codes_deleted: 10,
    });
    expect(report.audit.seq).toBeGreaterThan(0);

    const login = await call('POST', '/v1/auth/login', {
      tenant: 'acme',
      email: annEmail,
      password,
    });
    expect(login.status).toBe(401);
    expect(await tablesHolding(annEmail)).toEqual([]);
    expect(await tablesHolding(annName)).toEqual([]);
    expect(await tablesHolding('compliance-test-agent')).toEqual([]);
    // Nor encrypted: no row's address decrypts to it or has its blind index.
    expect(await db.knex('users').where({ email_index: annIndex }).count()).toEqual([
      { count: '0' },
    ]);
    const addresses = (await db.knex<UserRow>('users').select('*')).map((row) =>
      directory.email(row),
    );
    expect(addresses.map((a) => a.toLowerCase())).not.toContain(annEmail.toLowerCase());

    await server.audit.flush();
    for (const tenant of ['acme', 'platform']) {
      const io = capture();
      await runDecisionsVerify({ tenant }, io.io, {
        VERDICT_SERVER: server.url,
        VERDICT_ADMIN_TOKEN: adminToken,
      });
      expect(io.out()).toMatch(/^chain intact: \d+ rows verified/u);
    }

    await expect(
      runGdprExport({ user: annEmail, env: dbEnv(), out: () => undefined }),
    ).rejects.toThrow(/No user/u);
    const after = await runGdprExport({ user: annId, env: dbEnv(), out: () => undefined });
    expect(after.user).toMatchObject({
      id: annId,
      email: `erased-user-${annId}@erased.invalid`,
      display_name: '',
      status: 'disabled',
      erased: true,
      password_set: false,
      last_login_at: null,
    });
    expect(after.mfa).toBeNull();
    expect(after.sessions).toEqual([]);
    expect(after.one_time_tokens).toEqual([]);
    const erasure = after.platform_audit.at(-1);
    expect(erasure).toMatchObject({
      decision_id: report.audit.decision_id,
      path: 'verdict/platform/gdpr/erase',
      input: { action: 'gdpr.erase', subject: { kind: 'user', id: annId } },
    });
    // The other users are untouched.
    const carol = await runGdprExport({
      user: 'carol@other.test',
      env: dbEnv(),
      out: () => undefined,
    });
    expect(carol.user).toMatchObject({
      email: 'carol@other.test',
      erased: false,
      display_name: 'Carol',
    });
  });

  it('can run again on an erased user (by id)', async () => {
    const again = await runGdprErase({
      user: ids.get('ann') as string,
      yes: true,
      env: dbEnv(),
      out: () => undefined,
    });
    expect(again).toMatchObject({ sessions_deleted: 0, mfa_enrolments_deleted: 0 });
  });
});
