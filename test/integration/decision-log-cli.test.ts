/**
 * `verdict decisions search|show|export|verify` against a real server on a free port (real
 * Postgres), with rows written by the real audit writer: in-process for the output and
 * errors, and through the compiled executable for the exit code of a broken chain.
 */
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { openDatabase, type Database } from '../../api/db/database';
import { start, type RunningServer } from '../../api/server';
import { createAuditWriter, type AuditWriter } from '../../api/services/audit';
import { AdminCommandError } from '../../cli/admin-client';
import {
  runDecisionsExport,
  runDecisionsSearch,
  runDecisionsShow,
  runDecisionsVerify,
} from '../../cli/decisions';
import { buildProgram } from '../../cli/main';
import { runTenantsCreate } from '../../cli/tenants';
import { capture } from '../helpers/cli-io';
import {
  createTestDatabase,
  silentLogger,
  tempDir,
  testConfig,
  type TestDatabase,
} from './helpers/services';
import { runVerdict, type Finished } from './helpers/verdict-bin';

jest.setTimeout(60_000);

const repoRoot = path.resolve(__dirname, '..', '..');
const adminToken = 'cli-decisions-token-0123456789abcdef';
const base = Date.parse('2026-11-27T09:00:00.000Z');
const count = 12;
/** The trace id of the fourth decision (the one `show` prints). */
const shownTraceId = '0af7651916cd43dd8448eb211c80319c';

let database: TestDatabase;
let server: RunningServer;
let db: Database;
let writer: AuditWriter;
let dirs: { path: string; remove: () => void }[];
let ids: string[];

function env(): NodeJS.ProcessEnv {
  return { VERDICT_SERVER: server.url, VERDICT_ADMIN_TOKEN: adminToken };
}

beforeAll(async () => {
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'cli', 'decisions.js'))) {
    throw new Error('dist/ is missing or stale: run `npm run build` (npm test does it first)');
  }
  database = await createTestDatabase('cli_decisions');
  const serverDir = tempDir('cli-decisions-server');
  const writerDir = tempDir('cli-decisions-writer');
  dirs = [serverDir, writerDir];
  server = await start({
    config: testConfig({
      DATABASE_URL: database.url,
      VERDICT_ADMIN_TOKEN: adminToken,
      VERDICT_DATA_DIR: serverDir.path,
    }),
    logger: silentLogger,
  });
  await runTenantsCreate('acme', { name: 'Acme' }, capture().io, env());
  db = await openDatabase(testConfig({ DATABASE_URL: database.url }), silentLogger);
  const tenant = await db
    .knex<{ id: string; slug: string }>('tenants')
    .where({ slug: 'acme' })
    .first('id');
  if (tenant === undefined) throw new Error('tenant acme was not created');
  writer = await createAuditWriter({
    knex: db.knex,
    dataDir: writerDir.path,
    logger: silentLogger,
  });
  ids = [];
  for (let i = 0; i < count; i++) {
    const row = writer.record({
      tenantId: tenant.id,
      ts: new Date(base + i * 1000),
      path: 'rbac/allow',
      bundleName: 'rbac',
      bundleVersion: '1.0.0',
      bundleRevision: 'r1',
      input: { subject: { id: i % 2 === 0 ? 'bob' : 'eve' }, note: 'a, "b"' },
      result: { allow: i % 3 !== 0 },
      caller: 'key-1',
      cache: 'miss',
      durationUs: 10,
      ...(i === 3 ? { traceId: shownTraceId } : {}),
    });
    ids.push(row.decisionId);
  }
  await writer.flush();
});
afterAll(async () => {
  await writer.close();
  await db.close();
  await server.stop();
  for (const dir of dirs) dir.remove();
  await database.drop();
});

function runBin(args: string[]): Promise<Finished> {
  return runVerdict(args, env());
}

describe('search and show', () => {
  it('prints a page as a table with the cursor to the next', async () => {
    const first = capture();
    await runDecisionsSearch({ tenant: 'acme', limit: '5' }, first.io, env());
    const lines = first.out().trimEnd().split('\n');
    expect(lines[0]?.split(/\s{2,}/)).toEqual([
      'TIME',
      'DECISION',
      'PATH',
      'ANSWER',
      'VERSION',
      'CALLER',
    ]);
    expect(lines.slice(1, 6).map((l) => l.split(/\s{2,}/)[1])).toEqual(ids.slice(-5).reverse());
    const more = /^more: add --cursor (\S+)$/.exec(lines[6] ?? '');
    expect(more).not.toBeNull();
    const second = capture();
    await runDecisionsSearch(
      { tenant: 'acme', limit: '5', cursor: more?.[1] ?? '', json: true },
      second.io,
      env(),
    );
    const page = JSON.parse(second.out()) as { decisions: { decision_id: string }[] };
    expect(page.decisions.map((d) => d.decision_id)).toEqual(ids.slice(2, 7).reverse());
  });

  it('passes every filter to the server', async () => {
    const out = capture();
    await runDecisionsSearch(
      {
        tenant: 'acme',
        allowed: 'false',
        input: 'input.subject.id=bob',
        path: 'rbac/allow',
        bundleVersion: '1.0.0',
        caller: 'key-1',
        from: new Date(base).toISOString(),
        to: new Date(base + 60_000).toISOString(),
        json: true,
      },
      out.io,
      env(),
    );
    // Denied (i % 3 === 0) and bob (i even): i = 0 and 6.
    const page = JSON.parse(out.out()) as { decisions: { decision_id: string }[] };
    expect(page.decisions.map((d) => d.decision_id)).toEqual([ids[6], ids[0]]);
    const none = capture();
    await runDecisionsSearch(
      { tenant: 'acme', decisionId: '0a000000-0000-4000-8000-00000000000a' },
      none.io,
      env(),
    );
    expect(none.out()).toBe('no decisions match\n');
  });

  it('says which filter is wrong in one line', async () => {
    await expect(
      runDecisionsSearch({ tenant: 'acme', input: 'subject=bob' }, capture().io, env()),
    ).rejects.toThrow(/\?input .*must start with input\./);
    await expect(
      runDecisionsSearch({ tenant: 'acme', allowed: 'yes' }, capture().io, env()),
    ).rejects.toBeInstanceOf(AdminCommandError);
  });

  it('shows a full record, as text and as JSON', async () => {
    const id = ids[3] as string;
    const text = capture();
    await runDecisionsShow(id, { tenant: 'acme' }, text.io, env());
    expect(text.out()).toContain(`decision  ${id}`);
    expect(text.out()).toContain('answer    deny');
    expect(text.out()).toContain('bundle    rbac 1.0.0 (revision r1)');
    expect(text.out()).toContain(`trace     ${shownTraceId}`);
    expect(text.out()).toContain('"id": "eve"');
    const json = capture();
    await runDecisionsShow(id, { tenant: 'acme', json: true }, json.io, env());
    expect(JSON.parse(json.out())).toMatchObject({
      decision_id: id,
      seq: 4,
      allowed: false,
      trace_id: shownTraceId,
    });
    const untraced = capture();
    await runDecisionsShow(ids[2] as string, { tenant: 'acme' }, untraced.io, env());
    expect(untraced.out()).toContain('trace     -\n');
    await expect(runDecisionsShow('nope', { tenant: 'acme' }, capture().io, env())).rejects.toThrow(
      /No decision "nope"/,
    );
  });
});

describe('export', () => {
  it('writes NDJSON to stdout and CSV to a file', async () => {
    const stdout = new PassThrough();
    const parts: Buffer[] = [];
    stdout.on('data', (chunk: Buffer) => parts.push(chunk));
    await runDecisionsExport({ tenant: 'acme' }, capture().io, env(), stdout);
    const lines = Buffer.concat(parts).toString('utf8').trimEnd().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { decision_id: string }).decision_id)).toEqual(
      [...ids].reverse(),
    );

    const out = tempDir('cli-decisions-export');
    try {
      const file = path.join(out.path, 'denied.csv');
      const io = capture();
      await runDecisionsExport(
        { tenant: 'acme', format: 'csv', output: file, allowed: 'false' },
        io.io,
        env(),
      );
      expect(io.err()).toBe(`exported to ${file}\n`);
      const csv = fs.readFileSync(file, 'utf8').split('\r\n');
      expect(csv[0]).toMatch(/^decision_id,seq,ts,path,/);
      // Denied: i = 0, 3, 6, 9, newest first; the input's quotes doubled inside quotes.
      expect(csv.slice(1, -1).map((l) => l.split(',')[0])).toEqual([
        ids[9],
        ids[6],
        ids[3],
        ids[0],
      ]);
      expect(csv[1]).toContain('"{""note"":""a, \\""b\\"""",');
      expect(csv[csv.length - 1]).toBe('');

      await expect(
        runDecisionsExport(
          { tenant: 'acme', output: path.join(out.path, 'missing', 'x.ndjson') },
          capture().io,
          env(),
        ),
      ).rejects.toThrow(/cannot write .*ENOENT/);
    } finally {
      out.remove();
    }
  });

  it('refuses a bad format, and reports the server refusing the export', async () => {
    await expect(
      runDecisionsExport({ tenant: 'acme', format: 'xml' }, capture().io, env()),
    ).rejects.toThrow('--format must be ndjson or csv, not "xml"');
    await expect(
      runDecisionsExport({ tenant: 'nobody' }, capture().io, env(), new PassThrough()),
    ).rejects.toThrow(/No tenant "nobody"/);
    const out = tempDir('cli-decisions-refused');
    try {
      const file = path.join(out.path, 'nobody.ndjson');
      await expect(
        runDecisionsExport({ tenant: 'nobody', output: file }, capture().io, env()),
      ).rejects.toThrow(/No tenant "nobody"/);
      expect(fs.existsSync(file)).toBe(false);
    } finally {
      out.remove();
    }
  });
});

describe('as commands', () => {
  it('runs each subcommand through the program', async () => {
    const written: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
      written.push(String(chunk));
      return true;
    });
    const out = tempDir('cli-decisions-program');
    const auth = ['--server', server.url, '--token', adminToken];
    const verdict = (...args: string[]): Promise<unknown> =>
      buildProgram().parseAsync(['node', 'verdict', 'decisions', ...args, ...auth]);
    try {
      await verdict('search', '--tenant', 'acme', '--limit', '1', '--json');
      await verdict('show', ids[0] as string, '--tenant', 'acme', '--json');
      const file = path.join(out.path, 'all.csv');
      await verdict('export', '--tenant', 'acme', '--format', 'csv', '-o', file);
      await verdict('verify', '--tenant', 'acme', '--to', new Date(base + 3000).toISOString());
      spy.mockRestore();
      const text = written.join('');
      expect(text).toContain(`"decision_id": "${ids[count - 1] as string}"`);
      expect(text).toContain(`"decision_id": "${ids[0] as string}"`);
      expect(text).toContain('chain intact: 3 rows verified up to seq 3\n');
      expect(fs.readFileSync(file, 'utf8').split('\r\n')).toHaveLength(count + 2);
    } finally {
      spy.mockRestore();
      out.remove();
    }
  });
});

describe('export cut short', () => {
  it('says so, and removes the partial file', async () => {
    // A server that starts an export and breaks the connection off in the middle.
    const broken = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      res.write('{"decision_id":"a"}\n', () => {
        res.socket?.destroy();
      });
    });
    broken.listen(0, '127.0.0.1');
    await once(broken, 'listening');
    const url = `http://127.0.0.1:${(broken.address() as AddressInfo).port}`;
    const out = tempDir('cli-decisions-cut');
    try {
      const file = path.join(out.path, 'partial.ndjson');
      const brokenEnv = { VERDICT_SERVER: url, VERDICT_ADMIN_TOKEN: adminToken };
      await expect(
        runDecisionsExport({ tenant: 'acme', output: file }, capture().io, brokenEnv),
      ).rejects.toThrow(/the export was cut short .*partial\.ndjson removed/);
      expect(fs.existsSync(file)).toBe(false);
      await expect(
        runDecisionsExport({ tenant: 'acme' }, capture().io, brokenEnv, new PassThrough()),
      ).rejects.toThrow(/the export was cut short \(\S+\): run the command again/);
    } finally {
      out.remove();
      broken.closeAllConnections();
      await new Promise((resolve) => broken.close(resolve));
    }
  });
});

describe('verify', () => {
  it('reports an intact chain, then names the edited row and exits 1', async () => {
    const intact = capture();
    await runDecisionsVerify({ tenant: 'acme' }, intact.io, env());
    expect(intact.out()).toBe(`chain intact: ${count} rows verified up to seq ${count}\n`);

    const edited = ids[4] as string;
    await db.knex.raw(`update decisions set caller = 'someone-else' where decision_id = ?`, [
      edited,
    ]);
    await expect(runDecisionsVerify({ tenant: 'acme' }, capture().io, env())).rejects.toThrow(
      `chain broken at decision ${edited} (seq 5)`,
    );
    const json = capture();
    await expect(
      runDecisionsVerify({ tenant: 'acme', json: true }, json.io, env()),
    ).rejects.toBeInstanceOf(AdminCommandError);
    expect(JSON.parse(json.out())).toMatchObject({ ok: false, first_bad: { decision_id: edited } });

    const run = await runBin(['decisions', 'verify', '--tenant', 'acme']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(`^verdict: chain broken at decision ${edited} \\(seq 5\\): hash of seq 5`),
    );
    // Rows after the edit verify when the range starts past it.
    const later = await runBin([
      'decisions',
      'verify',
      '--tenant',
      'acme',
      '--from',
      new Date(base + 6000).toISOString(),
    ]);
    expect(later).toMatchObject({
      code: 0,
      stdout: `chain intact: 6 rows verified up to seq ${count}\n`,
    });
  });
});
