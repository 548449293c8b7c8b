/**
 * `verdict replay` against a real server on a free port (real Postgres): decisions made over
 * HTTP by an app key, then a candidate replayed in-process (the text report, --json, the
 * progress bar on a terminal) and through the compiled executable as CI runs it (exit codes
 * with and without --fail-on-change, one-line errors).
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { start, type RunningServer } from '../../../api/server';
import { runActivate, runPush } from '../../../cli/bundles';
import { runKeysCreate } from '../../../cli/keys';
import { buildProgram } from '../../../cli/main';
import { formatReport, runReplay, type ReplayReportView } from '../../../cli/replay';
import { runTenantsCreate } from '../../../cli/tenants';
import { capture } from '../../helpers/cli-io';
import { buildExample } from '../helpers/bundles';
import {
  createTestDatabase,
  silentLogger,
  tempDir,
  testConfig,
  type TestDatabase,
} from '../helpers/services';
import { runVerdict, type Finished } from '../helpers/verdict-bin';
import { withoutViewerDocumentRead } from './candidate';

jest.setTimeout(60_000);

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const adminToken = 'cli-replay-token-0123456789abcdef';

let database: TestDatabase;
let server: RunningServer;
let dataDir: { path: string; remove: () => void };
let files: { path: string; remove: () => void };
let stableFile: string;
let candidateFile: string;
/** How many decisions carol made that the candidate turns from allow to deny. */
let carolReads = 0;

function env(): NodeJS.ProcessEnv {
  return { VERDICT_SERVER: server.url, VERDICT_ADMIN_TOKEN: adminToken };
}

function runBin(args: string[]): Promise<Finished> {
  return runVerdict(args, env());
}

beforeAll(async () => {
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'cli', 'replay.js'))) {
    throw new Error('dist/ is missing or stale: run `npm run build` (npm test does it first)');
  }
  database = await createTestDatabase('cli_replay');
  dataDir = tempDir('cli-replay-data');
  files = tempDir('cli-replay-files');
  server = await start({
    config: testConfig({
      DATABASE_URL: database.url,
      VERDICT_ADMIN_TOKEN: adminToken,
      VERDICT_DATA_DIR: dataDir.path,
    }),
    logger: silentLogger,
  });
  stableFile = path.join(files.path, 'rbac.tar.gz');
  fs.writeFileSync(
    stableFile,
    (await buildExample('rbac', { mask: ['/input/password'] })).bundle.tarGz,
  );
  candidateFile = path.join(files.path, 'candidate.tar.gz');
  fs.writeFileSync(
    candidateFile,
    (await buildExample('rbac', { version: '1.1.0' }, withoutViewerDocumentRead)).bundle.tarGz,
  );

  await runTenantsCreate('acme', { name: 'Acme' }, capture().io, env());
  // Strict audit: each decision is in the table before it is answered.
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  await client.query("update tenants set audit_strict = true where slug = 'acme'");
  await client.end();
  await runPush(stableFile, { tenant: 'acme' }, capture().io, env());
  await runActivate({ tenant: 'acme', bundle: 'rbac', version: '1.0.0' }, capture().io, env());
  const created = capture();
  await runKeysCreate({ tenant: 'acme', name: 'app', scope: ['decide'] }, created.io, env());
  const key = created.out().trim();

  for (const subject of ['alice', 'bob', 'carol']) {
    for (const owner of ['bob', 'carol']) {
      for (const action of ['read', 'update']) {
        const input = {
          subject: { id: subject, tenant: 'acme' },
          action,
          resource: { type: 'document', id: 'd1', tenant: 'acme', owner },
          password: 'hunter2',
        };
        const res = await fetch(`${server.url}/v1/data/rbac/allow`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ input }),
        });
        expect(res.status).toBe(200);
        // Carol is a viewer: without the viewer's grant she reads only what she owns.
        if (subject === 'carol' && action === 'read' && owner !== 'carol') carolReads++;
      }
    }
  }
});

afterAll(async () => {
  await server.stop();
  dataDir.remove();
  files.remove();
  await database.drop();
});

describe('in-process', () => {
  it('prints the counts, the flips and the samples, and exits 1 on change when asked', async () => {
    const out = capture();
    const code = await runReplay(
      { tenant: 'acme', candidate: candidateFile, since: '1h', failOnChange: true },
      out.io,
      env(),
    );
    expect(code).toBe(1);
    const text = out.out();
    expect(text).toContain('replayed 12 decisions of tenant acme');
    expect(text).toContain('against rbac 1.1.0');
    expect(text).toContain(`changed: ${String(carolReads)} (`);
    expect(text).toMatch(new RegExp(`rbac/allow\\s+12\\s+${String(carolReads)}\\n`));
    expect(text).toMatch(new RegExp(`allow -> deny\\s+${String(carolReads)}\\n`));
    expect(text).toMatch(/deny -> allow\s+0\n/);
    expect(text).toContain('inputs were recorded masked (/input/password)');
    expect(text).toContain('    recorded:  true\n    candidate: false\n');
    expect(text).not.toContain('hunter2');
  });

  it('exits 0 without --fail-on-change, and for a candidate that changes nothing', async () => {
    expect(await runReplay({ tenant: 'acme', candidate: candidateFile }, capture().io, env())).toBe(
      0,
    );
    const same = capture();
    expect(
      await runReplay(
        { tenant: 'acme', candidate: stableFile, failOnChange: true },
        same.io,
        env(),
      ),
    ).toBe(0);
    expect(same.out()).toContain('changed: 0 (0.0%)');
  });

  it('prints the JSON report with --json, and draws progress only on a terminal', async () => {
    const out = capture();
    const drawn: string[] = [];
    await runReplay(
      { tenant: 'acme', candidate: candidateFile, json: true, limit: '3', samples: '1' },
      { ...out.io, progress: { isTTY: true, write: (t) => drawn.push(t) } },
      env(),
    );
    const report = JSON.parse(out.out()) as ReplayReportView;
    expect(report).toMatchObject({ replayed: 3, limit: 3, truncated: true });
    expect(drawn).toEqual([]); // --json is quiet

    const tty: string[] = [];
    await runReplay(
      { tenant: 'acme', candidate: candidateFile, path: 'rbac/allow' },
      { ...capture().io, progress: { isTTY: true, write: (t) => tty.push(t) } },
      env(),
    );
    expect(tty.join('')).toContain('replaying on');
    expect(tty.at(-1)).toBe('\r\u001b[2K');
  });

  it('says in one line when the candidate file cannot be read', async () => {
    await expect(
      runReplay({ tenant: 'acme', candidate: files.path }, capture().io, env()),
    ).rejects.toThrow(
      /^cannot read .* \(a folder\): pass a bundle file built with `verdict build`$/,
    );
    await expect(
      runReplay({ tenant: 'acme', candidate: path.join(files.path, 'none') }, capture().io, env()),
    ).rejects.toThrow(/\(no such file\)/);
  });

  it('explains an empty replay and a truncated one', () => {
    const base: ReplayReportView = {
      tenant: 'acme',
      bundle: { name: 'rbac', version: '2.0.0', revision: 'r' },
      window: { from: 'a', to: 'b' },
      path: 'rbac',
      limit: 5,
      replayed: 0,
      changed: 0,
      truncated: false,
      by_path: {},
      by_flip: {},
      masked_inputs: false,
      mask_paths: [],
      samples: [],
    };
    expect(formatReport(base)).toContain('no decisions of bundle rbac were recorded');
    const errored = formatReport({
      ...base,
      replayed: 5,
      changed: 1,
      truncated: true,
      by_path: {
        'rbac/reasons': { replayed: 2, changed: 0 },
        'rbac/allow': { replayed: 3, changed: 1 },
      },
      by_flip: { now_error: 1 },
      samples: [
        {
          decision_id: 'id',
          ts: 't',
          path: 'rbac/allow',
          flip: 'now_error',
          candidate_error: { code: 'eval_conflict_error', message: 'two values' },
        },
      ],
    });
    expect(errored).toContain('stopped at the limit of 5 decisions');
    expect(errored).toContain('candidate: error eval_conflict_error: two values');
    expect(errored).toContain('input:     (undefined)');
    // Paths in order, whatever order the server sent them in.
    expect(errored.indexOf('rbac/allow    3')).toBeLessThan(errored.indexOf('rbac/reasons  2'));
    expect(errored).toMatch(/now an error\s+1\n/);
  });
});

describe('the program', () => {
  it('sets the exit code of `verdict replay --fail-on-change`', async () => {
    const saved = { server: process.env.VERDICT_SERVER, token: process.env.VERDICT_ADMIN_TOKEN };
    process.env.VERDICT_SERVER = server.url;
    process.env.VERDICT_ADMIN_TOKEN = adminToken;
    const printed: string[] = [];
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      printed.push(String(chunk));
      return true;
    });
    try {
      await buildProgram().parseAsync(
        ['replay', '--tenant', 'acme', '--candidate', candidateFile, '--fail-on-change', '--json'],
        { from: 'user' },
      );
      expect(process.exitCode).toBe(1);
      expect((JSON.parse(printed.join('')) as ReplayReportView).changed).toBe(carolReads);
    } finally {
      stdout.mockRestore();
      process.exitCode = undefined;
      process.env.VERDICT_SERVER = saved.server;
      process.env.VERDICT_ADMIN_TOKEN = saved.token;
      if (saved.server === undefined) delete process.env.VERDICT_SERVER;
      if (saved.token === undefined) delete process.env.VERDICT_ADMIN_TOKEN;
    }
  });
});

describe('the executable', () => {
  it('exits 1 on change with --fail-on-change, 0 without, 1 with a one-line error', async () => {
    const gate = await runBin([
      'replay',
      '--tenant',
      'acme',
      '--candidate',
      candidateFile,
      '--since',
      '24h',
      '--fail-on-change',
    ]);
    expect(gate.code).toBe(1);
    expect(gate.stdout).toContain('allow -> deny');
    const report = await runBin(['replay', '--tenant', 'acme', '--candidate', candidateFile]);
    expect(report.code).toBe(0);
    const missing = await runBin(['replay', '--tenant', 'acme', '--candidate', 'nope.tar.gz']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      'verdict: cannot read nope.tar.gz (no such file): pass a bundle file built with `verdict build`\n',
    );
    const badSince = await runBin([
      'replay',
      '--tenant',
      'acme',
      '--candidate',
      candidateFile,
      '--since',
      'forever',
    ]);
    expect(badSince.code).toBe(1);
    expect(badSince.stderr).toMatch(
      /^verdict: \?since= must be a duration like 90m, 24h or 7d[^\n]*\n$/,
    );
  });
});
