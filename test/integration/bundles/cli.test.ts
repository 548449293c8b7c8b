/**
 * `verdict push`, `verdict activate` and `verdict bundles list` against a real server on a
 * free port (real Postgres): in-process for the output and errors, and through the compiled
 * executable as an operator runs it (exit codes, one-line errors, `--version` of the command).
 */
import fs from 'node:fs';
import path from 'node:path';
import { start, type RunningServer } from '../../../api/server';
import { AdminCommandError } from '../../../cli/admin-client';
import { runActivate, runBundlesList, runPush } from '../../../cli/bundles';
import { runKeysCreate } from '../../../cli/keys';
import { runTenantsCreate } from '../../../cli/tenants';
import { capture } from '../../helpers/cli-io';
import {
  createTestDatabase,
  silentLogger,
  tempDir,
  testConfig,
  type TestDatabase,
} from '../helpers/services';
import { rbacBundle } from './fixtures';
import { runVerdict, type Finished } from '../helpers/verdict-bin';

jest.setTimeout(60_000);

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const adminToken = 'cli-bundles-token-0123456789abcdef';

let database: TestDatabase;
let server: RunningServer;
let dataDir: { path: string; remove: () => void };
let files: { path: string; remove: () => void };
let rbacFile: string;
let rbacV2File: string;

beforeAll(async () => {
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'cli', 'bundles.js'))) {
    throw new Error('dist/ is missing or stale: run `npm run build` (npm test does it first)');
  }
  database = await createTestDatabase('cli_bundles');
  dataDir = tempDir('cli-bundles-data');
  files = tempDir('cli-bundles-files');
  server = await start({
    config: testConfig({
      DATABASE_URL: database.url,
      VERDICT_ADMIN_TOKEN: adminToken,
      VERDICT_DATA_DIR: dataDir.path,
    }),
    logger: silentLogger,
  });
  rbacFile = path.join(files.path, 'rbac.tar.gz');
  fs.writeFileSync(rbacFile, (await rbacBundle()).tarGz);
  rbacV2File = path.join(files.path, 'rbac-2.tar.gz');
  fs.writeFileSync(rbacV2File, (await rbacBundle({ version: '2.0.0' })).tarGz);
});
afterAll(async () => {
  await server.stop();
  dataDir.remove();
  files.remove();
  await database.drop();
});

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { VERDICT_SERVER: server.url, VERDICT_ADMIN_TOKEN: adminToken, ...extra };
}

function runBin(args: string[]): Promise<Finished> {
  return runVerdict(args, env());
}

describe('in-process', () => {
  beforeAll(async () => {
    await runTenantsCreate('acme', { name: 'Acme' }, capture().io, env());
  });

  it('lists no bundles, pushes, lists, activates', async () => {
    const empty = capture();
    await runBundlesList({ tenant: 'acme' }, empty.io, env());
    expect(empty.out()).toContain('tenant acme has no bundles yet');

    const pushed = capture();
    await runPush(rbacFile, { tenant: 'acme' }, pushed.io, env());
    expect(pushed.out()).toMatch(
      /^pushed rbac 1\.0\.0 \(revision [0-9a-f]{16}, rego, unsigned\) to tenant acme; activate it with `verdict activate --tenant acme --bundle rbac --version 1\.0\.0`\n$/,
    );
    const json = capture();
    await runPush(rbacV2File, { tenant: 'acme', json: true }, json.io, env());
    expect(JSON.parse(json.out())).toMatchObject({ bundle: 'rbac', version: '2.0.0' });

    const activated = capture();
    await runActivate({ tenant: 'acme', bundle: 'rbac', version: '2.0.0' }, activated.io, env());
    expect(activated.out()).toMatch(
      /^activated rbac 2\.0\.0 \(revision [0-9a-f]{16}\) for tenant acme\n$/,
    );

    const list = capture();
    await runBundlesList({ tenant: 'acme' }, list.io, env());
    const [header, row] = list.out().trimEnd().split('\n');
    expect(header?.split(/\s{2,}/)).toEqual(['NAME', 'STABLE', 'LATEST', 'VERSIONS', 'CREATED']);
    expect(row?.split(/\s{2,}/).slice(0, 4)).toEqual(['rbac', '2.0.0', '2.0.0', '2']);

    const versions = capture();
    await runBundlesList({ tenant: 'acme', bundle: 'rbac' }, versions.io, env());
    const lines = versions.out().trimEnd().split('\n');
    expect(lines.map((l) => l.split(/\s{2,}/)[0])).toEqual(['VERSION', '2.0.0', '1.0.0']);
    expect(lines[1]).toContain('yes');

    const asJson = capture();
    await runBundlesList({ tenant: 'acme', json: true }, asJson.io, env());
    expect(JSON.parse(asJson.out())).toMatchObject({ bundles: [{ name: 'rbac' }] });
    const versionsJson = capture();
    await runBundlesList({ tenant: 'acme', bundle: 'rbac', json: true }, versionsJson.io, env());
    expect((JSON.parse(versionsJson.out()) as { versions: unknown[] }).versions).toHaveLength(2);
    const activatedJson = capture();
    await runActivate(
      { tenant: 'acme', bundle: 'rbac', version: '1.0.0', json: true },
      activatedJson.io,
      env(),
    );
    expect(JSON.parse(activatedJson.out())).toMatchObject({ version: '1.0.0', stable: true });
  });

  it('pushes with a bundles:write key and names OPA bundles with --name and --version', async () => {
    const made = capture();
    await runKeysCreate(
      { tenant: 'acme', name: 'ci', scope: ['bundles:write'], json: true },
      made.io,
      env(),
    );
    const { key } = JSON.parse(made.out()) as { key: string };
    const out = capture();
    await expect(
      runPush(rbacFile, { tenant: 'acme', name: 'other', token: key }, out.io, env()),
    ).rejects.toThrow(/\.manifest says name "rbac" but \?name= says "other"/);
    const same = capture();
    await runPush(
      rbacFile,
      { tenant: 'acme', name: 'rbac', version: '1.0.0', token: key },
      same.io,
      env(),
    );
    expect(same.out()).toMatch(/^pushed rbac 1\.0\.0 /);
  });

  it('fails with one line for a missing file or a refused bundle', async () => {
    await expect(
      runPush(path.join(files.path, 'nope.tar.gz'), { tenant: 'acme' }, capture().io, env()),
    ).rejects.toThrow(
      new AdminCommandError(
        `cannot read ${path.join(files.path, 'nope.tar.gz')} (no such file): push a bundle file built with \`verdict build\``,
      ),
    );
    await expect(runPush(files.path, { tenant: 'acme' }, capture().io, env())).rejects.toThrow(
      /\(a folder\)/,
    );
    const junk = path.join(files.path, 'junk.tar.gz');
    fs.writeFileSync(junk, 'junk');
    await expect(runPush(junk, { tenant: 'acme' }, capture().io, env())).rejects.toThrow(
      /^The bundle was refused: not a valid bundle archive/,
    );
    await expect(
      runActivate({ tenant: 'acme', bundle: 'rbac', version: '9.0.0' }, capture().io, env()),
    ).rejects.toThrow(/has no version 9\.0\.0/);
  });
});

describe('the executable', () => {
  it('pushes and activates, taking --version as the command option', async () => {
    await runTenantsCreate('bin-co', { name: 'Bin Co' }, capture().io, env());
    const pushed = await runBin(['push', rbacFile, '--tenant', 'bin-co']);
    expect(pushed).toMatchObject({ code: 0, stderr: '' });
    const activated = await runBin([
      'activate',
      '--tenant',
      'bin-co',
      '--bundle',
      'rbac',
      '--version',
      '1.0.0',
    ]);
    expect(activated).toMatchObject({ code: 0, stderr: '' });
    expect(activated.stdout).toContain('activated rbac 1.0.0');
    const listed = await runBin(['bundles', 'list', '--tenant', 'bin-co']);
    expect(listed.stdout).toMatch(/^rbac\s+1\.0\.0/m);
  });

  it('exits 1 with one line when the server refuses', async () => {
    const res = await runBin(['push', rbacFile, '--tenant', 'nobody']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^verdict: No tenant "nobody"[^\n]*\n$/);
  });
});
