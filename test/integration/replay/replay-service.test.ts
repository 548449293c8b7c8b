/**
 * The replay service on the real Postgres, without HTTP: decisions recorded through the audit
 * writer, read back in small keyset pages, and a candidate that answers differently in every
 * way the report counts (a flip each way, another value, undefined, an evaluation error).
 */
import { openDatabase, type Database } from '../../../api/db/database';
import { migrateUp } from '../../../api/db/migrator';
import { createAuditWriter, type AuditWriter } from '../../../api/services/audit';
import { ReplayService } from '../../../api/services/replay';
import { buildRego } from '../helpers/bundles';
import {
  createTestDatabase,
  silentLogger,
  tempDir,
  testConfig,
  type TestDatabase,
} from '../helpers/services';

const candidatePolicy = `package app

import rego.v1

allow := true if input.user == "dave"
allow := false if input.user == "erin"
allow := "yes" if input.user == "alice"
allow := 1 if input.user == "bob"
allow := 2 if input.user == "bob"
# carol: no rule, undefined.
`;

let database: TestDatabase;
let db: Database;
let audit: AuditWriter;
let spool: { path: string; remove: () => void };
let tenantId: string;
let otherTenantId: string;

/** What was recorded for each user, and what the candidate is expected to make of it. */
const recorded: { user: string; result: unknown; flip: string | undefined; path?: string }[] = [
  { user: 'dave', result: false, flip: 'deny_to_allow' },
  { user: 'dave', result: true, flip: undefined },
  { user: 'erin', result: true, flip: 'allow_to_deny' },
  { user: 'erin', result: false, flip: undefined },
  { user: 'alice', result: true, flip: 'other_change' },
  { user: 'bob', result: true, flip: 'now_error' },
  { user: 'carol', result: false, flip: 'now_undefined' },
  { user: 'carol', result: undefined, flip: undefined },
  { user: 'frank', result: undefined, flip: undefined },
  // No entrypoint of the candidate covers this path any more.
  { user: 'dave', result: true, flip: 'now_undefined', path: 'app/gone' },
  // Below an entrypoint: the candidate's `true` has no member `why`.
  { user: 'dave', result: 'admin', flip: 'now_undefined', path: 'app/allow/why' },
];
const copies = 4;

beforeAll(async () => {
  database = await createTestDatabase('replay_service');
  db = await openDatabase(testConfig({ DATABASE_URL: database.url }), silentLogger);
  await migrateUp(db);
  spool = tempDir('replay_service');
  audit = await createAuditWriter({ knex: db.knex, dataDir: spool.path, logger: silentLogger });
  const ids = await db
    .knex('tenants')
    .insert([
      { slug: 'acme', name: 'acme' },
      { slug: 'other', name: 'other' },
    ])
    .returning<{ id: string }[]>('id');
  tenantId = (ids[0] as { id: string }).id;
  otherTenantId = (ids[1] as { id: string }).id;
  for (let i = 0; i < copies; i++) {
    for (const { user, result, path } of recorded) {
      for (const tenant of [tenantId, otherTenantId]) {
        audit.record({
          tenantId: tenant,
          path: path ?? 'app/allow',
          bundleName: 'app',
          bundleVersion: '1.0.0',
          input: { user },
          result,
          cache: 'bypass',
          durationUs: 1,
        });
      }
    }
  }
  await audit.flush();
});

afterAll(async () => {
  await audit.close();
  await db.close();
  await database.drop();
  spool.remove();
});

async function candidateTar(): Promise<Uint8Array> {
  const built = await buildRego(candidatePolicy, {
    name: 'app',
    version: '2.0.0',
    roots: ['app'],
    entrypoints: ['app/allow'],
  });
  return built.bundle.tarGz;
}

function window(): { from: Date; to: Date } {
  return { from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() + 1000) };
}

describe('ReplayService', () => {
  it('reads every decision of the tenant in small pages and counts each kind of change', async () => {
    const service = new ReplayService({ knex: db.knex, pageSize: 4 });
    const report = await service.replay({
      tenantId,
      candidate: await candidateTar(),
      ...window(),
      samples: 100,
    });
    const total = recorded.length * copies;
    const expected = recorded.filter((r) => r.flip !== undefined);
    expect(report.replayed).toBe(total);
    expect(report.changed).toBe(expected.length * copies);
    const byFlip: Record<string, number> = {
      allow_to_deny: 0,
      deny_to_allow: 0,
      other_change: 0,
      now_undefined: 0,
      now_error: 0,
    };
    for (const r of expected) byFlip[r.flip as string] = (byFlip[r.flip as string] ?? 0) + copies;
    expect(report.by_flip).toEqual(byFlip);
    const atAllow = recorded.filter((r) => r.path === undefined);
    expect(report.by_path).toEqual({
      'app/allow': {
        replayed: atAllow.length * copies,
        changed: atAllow.filter((r) => r.flip !== undefined).length * copies,
      },
      'app/gone': { replayed: copies, changed: copies },
      'app/allow/why': { replayed: copies, changed: copies },
    });
    expect(report.masked_inputs).toBe(false);
    const error = report.samples.find((s) => s.flip === 'now_error');
    expect(error?.candidate_error?.code).toBe('eval_conflict_error');
    expect(error).not.toHaveProperty('candidate_result');
    const undefinedNow = report.samples.find((s) => s.flip === 'now_undefined');
    expect(undefinedNow).toMatchObject({ input: { user: 'carol' }, recorded_result: false });
    expect(undefinedNow).not.toHaveProperty('candidate_result');
    // Samples come oldest first, as recorded.
    const times = report.samples.map((s) => s.ts.getTime());
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('stops at the limit across pages and says so', async () => {
    const service = new ReplayService({ knex: db.knex, pageSize: 4 });
    const candidate = await candidateTar();
    const limited = await service.replay({ tenantId, candidate, ...window(), limit: 10 });
    expect(limited).toMatchObject({ replayed: 10, truncated: true });
    const exact = await service.replay({
      tenantId,
      candidate,
      ...window(),
      limit: recorded.length * copies,
    });
    expect(exact).toMatchObject({ replayed: recorded.length * copies, truncated: false });
  });

  it('refuses an empty window and an unknown tenant', async () => {
    const service = new ReplayService({ knex: db.knex });
    const candidate = await candidateTar();
    const now = new Date();
    await expect(service.replay({ tenantId, candidate, from: now, to: now })).rejects.toMatchObject(
      { code: 'bad_request' },
    );
    await expect(
      service.replay({
        tenantId: '00000000-0000-0000-0000-000000000000',
        candidate,
        ...window(),
      }),
    ).rejects.toMatchObject({ code: 'not_found' });
  });
});
