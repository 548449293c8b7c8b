/**
 * `verdict tenants` and `verdict keys create|list|revoke` against a real server listening on
 * a free port (real Postgres): in-process for the output formats and errors, and through the
 * compiled executable as an operator runs it (exit codes, one-line errors, --help).
 */
import { once } from 'node:events';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { start, type RunningServer } from '../../api/server';
import { AdminClient, AdminCommandError, type CliIO } from '../../cli/admin-client';
import { runKeysCreate, runKeysList, runKeysRevoke, type KeyView } from '../../cli/keys';
import { buildProgram } from '../../cli/main';
import { runTenantsCreate, runTenantsList } from '../../cli/tenants';
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
const adminToken = 'cli-admin-token-0123456789abcdef';

let database: TestDatabase;
let server: RunningServer;

/** A server on `databaseUrl` with a data folder of its own, removed when it stops. */
async function startServer(databaseUrl: string): Promise<RunningServer> {
  const dataDir = tempDir('cli-admin');
  const running = await start({
    config: testConfig({
      DATABASE_URL: databaseUrl,
      VERDICT_ADMIN_TOKEN: adminToken,
      VERDICT_DATA_DIR: dataDir.path,
    }),
    logger: silentLogger,
  });
  return {
    ...running,
    stop: async () => {
      await running.stop();
      dataDir.remove();
    },
  };
}

beforeAll(async () => {
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'cli', 'keys.js'))) {
    throw new Error('dist/ is missing or stale: run `npm run build` (npm test does it first)');
  }
  database = await createTestDatabase('cli_admin');
  server = await startServer(database.url);
});
afterAll(async () => {
  await server.stop();
  await database.drop();
});

function capture(): CliIO & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: (text) => (out += text),
    stderr: (text) => (err += text),
    out: () => out,
    err: () => err,
  };
}

/** The environment the commands see: this server and token, nothing inherited. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { VERDICT_SERVER: server.url, VERDICT_ADMIN_TOKEN: adminToken, ...extra };
}

function runBin(args: string[], extraEnv: Record<string, string> = {}): Promise<Finished> {
  return runVerdict(args, { ...env(), ...extraEnv });
}

describe('verdict tenants and keys in-process', () => {
  it('creates and lists tenants, as text and as JSON', async () => {
    const io = capture();
    await runTenantsCreate('acme', { name: 'Acme Corp' }, io, env());
    expect(io.out()).toMatch(/^created tenant acme \(Acme Corp\), id [0-9a-f-]{36}\n$/);

    const json = capture();
    await runTenantsCreate('globex', { name: 'Globex', json: true }, json, env());
    expect(JSON.parse(json.out())).toMatchObject({ slug: 'globex', name: 'Globex' });

    const list = capture();
    await runTenantsList({}, list, env());
    const lines = list.out().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^SLUG\s+NAME\s+ID\s+CREATED$/);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/)[0])).toEqual(['acme', 'globex']);

    const listJson = capture();
    await runTenantsList({ json: true }, listJson, env());
    const parsed = JSON.parse(listJson.out()) as { tenants: { slug: string }[] };
    expect(parsed.tenants.map((t) => t.slug)).toEqual(['acme', 'globex']);
  });

  it('creates a key that works, lists it, and revokes it', async () => {
    const io = capture();
    await runKeysCreate(
      {
        tenant: 'acme',
        name: 'checkout',
        scope: ['decide', 'audit:read', 'decide'],
        expiresIn: '30d',
      },
      io,
      env(),
    );
    const plainKey = io.out().trim();
    expect(plainKey).toMatch(/^vdk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(io.err()).toMatch(
      /^created API key [0-9a-f]{12} \(checkout\) for tenant acme, scopes decide, audit:read, expires \S+; store the key now: it is not shown again\n$/,
    );
    await request(server.url)
      .get('/v1/tenants/acme')
      .set('Authorization', `Bearer ${plainKey}`)
      .expect(200);

    const list = capture();
    await runKeysList({ tenant: 'acme' }, list, env());
    const [header, row] = list.out().trimEnd().split('\n');
    expect(header).toMatch(/^ID\s+PREFIX\s+NAME\s+SCOPES\s+STATUS\s+EXPIRES\s+LAST USED$/);
    const cells = (row ?? '').split(/\s{2,}/);
    expect(cells.slice(1, 5)).toEqual([
      plainKey.slice(4, 16),
      'checkout',
      'decide,audit:read',
      'active',
    ]);
    expect(list.out()).not.toContain(plainKey.slice(17));

    const revoke = capture();
    await runKeysRevoke(cells[0] ?? '', { tenant: 'acme' }, revoke, env());
    expect(revoke.out()).toBe(
      `revoked API key ${plainKey.slice(4, 16)} (checkout) of tenant acme\n`,
    );
    await request(server.url)
      .get('/v1/tenants/acme')
      .set('Authorization', `Bearer ${plainKey}`)
      .expect(401);

    const listJson = capture();
    await runKeysList({ tenant: 'acme', json: true }, listJson, env());
    const keys = (JSON.parse(listJson.out()) as { keys: KeyView[] }).keys;
    expect(keys.map((k) => k.status)).toEqual(['revoked']);
  });

  it('prints JSON for keys create and revoke with --json, and says when there are no keys', async () => {
    const empty = capture();
    await runKeysList({ tenant: 'globex' }, empty, env());
    expect(empty.out()).toBe(
      'tenant globex has no API keys: create one with `verdict keys create`\n',
    );
    const io = capture();
    await runKeysCreate(
      { tenant: 'globex', name: 'ci', scope: ['bundles:write'], json: true },
      io,
      env(),
    );
    const key = JSON.parse(io.out()) as KeyView;
    expect(key).toMatchObject({ name: 'ci', scopes: ['bundles:write'], expires_at: null });
    expect(key.key).toMatch(/^vdk_/);
    expect(io.err()).toContain('never expires');
    const revoke = capture();
    await runKeysRevoke(key.id, { tenant: 'globex', json: true }, revoke, env());
    expect(JSON.parse(revoke.out())).toMatchObject({ id: key.id, status: 'revoked' });
  });

  it('says when there are no tenants yet', async () => {
    const fresh = await createTestDatabase('cli_admin_empty');
    const empty = await startServer(fresh.url);
    try {
      const io = capture();
      await runTenantsList({ server: empty.url }, io, env());
      expect(io.out()).toBe(
        'no tenants yet: create one with `verdict tenants create <slug> --name <name>`\n',
      );
    } finally {
      await empty.stop();
      await fresh.drop();
    }
  });

  it.each([
    [
      'a wrong token',
      () => runTenantsList({ token: 'wrong' }, capture(), env()),
      'The token is not valid: use an access token from `verdict login`, a tenant API key, or the value of VERDICT_ADMIN_TOKEN.',
    ],
    [
      'no token at all',
      () => runTenantsList({}, capture(), { VERDICT_SERVER: server.url }),
      'no admin token: pass --token or set VERDICT_ADMIN_TOKEN (the value the server runs with), or log in with `verdict login`',
    ],
    [
      'an unknown tenant',
      () => runKeysList({ tenant: 'nobody' }, capture(), env()),
      'No tenant "nobody": check the slug, or list tenants with `verdict tenants list`.',
    ],
    [
      'a taken slug',
      () => runTenantsCreate('acme', { name: 'Again' }, capture(), env()),
      'A tenant with slug "acme" exists already; choose another slug.',
    ],
    [
      'a bad slug',
      () => runTenantsCreate('Not OK', { name: 'x' }, capture(), env()),
      /^Invalid request body: \/slug must match pattern/,
    ],
    [
      'no scope',
      () => runKeysCreate({ tenant: 'acme', name: 'k', scope: [] }, capture(), env()),
      'a key needs at least one --scope (decide, bundles:write, audit:read); repeat --scope for several',
    ],
    [
      'an unknown key',
      () => runKeysRevoke('nope', { tenant: 'acme' }, capture(), env()),
      /^Tenant "acme" has no API key nope/,
    ],
    [
      'a server URL that is not one',
      () => runTenantsList({ server: 'not a url' }, capture(), env()),
      '--server "not a url" is not a URL: expected e.g. http://127.0.0.1:8181',
    ],
    [
      'a server URL that is not HTTP',
      () => runTenantsList({ server: 'ftp://example.test' }, capture(), env()),
      '--server "ftp://example.test" must be an http:// or https:// URL',
    ],
  ])('fails with one clear line on %s', async (_what, action, message) => {
    const error = await action().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(AdminCommandError);
    const text = (error as Error).message;
    expect(text).not.toContain('\n');
    if (typeof message === 'string') expect(text).toBe(message);
    else expect(text).toMatch(message);
  });

  it('gives up on a server that never answers', async () => {
    const silent = net.createServer(() => undefined);
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const { port } = silent.address() as AddressInfo;
    try {
      const client = new AdminClient({ server: `http://127.0.0.1:${port}` }, env(), 200);
      await expect(client.request('GET', '/v1/tenants')).rejects.toThrow(
        `no answer from the Verdict server at http://127.0.0.1:${port} within 0.2 s`,
      );
    } finally {
      silent.close();
    }
  });

  it('refuses a 2xx answer that is not JSON', async () => {
    const plain = http.createServer((_req, res) => {
      res.end('hello');
    });
    plain.listen(0, '127.0.0.1');
    await once(plain, 'listening');
    const { port } = plain.address() as AddressInfo;
    try {
      await expect(
        runTenantsList({ server: `http://127.0.0.1:${port}` }, capture(), env()),
      ).rejects.toThrow(/^unexpected answer from .*: HTTP 200 without a JSON body/);
      await expect(
        new AdminClient({ server: `http://127.0.0.1:${port}` }, env()).request('POST', '/x', {}),
      ).rejects.toThrow(/HTTP 200 without a JSON body/);
    } finally {
      plain.close();
    }
  });

  it('names the status of an error answer that is not problem+json', async () => {
    const broken = http.createServer((_req, res) => {
      res.statusCode = 502;
      res.end('<html>bad gateway</html>');
    });
    broken.listen(0, '127.0.0.1');
    await once(broken, 'listening');
    const { port } = broken.address() as AddressInfo;
    try {
      await expect(
        runTenantsList({ server: `http://127.0.0.1:${port}` }, capture(), env()),
      ).rejects.toThrow('the server answered HTTP 502');
    } finally {
      broken.close();
    }
  });

  it('names the server it cannot reach, and a server that is not Verdict', async () => {
    const stopped = await startServer(database.url);
    await stopped.stop();
    await expect(runTenantsList({ server: stopped.url }, capture(), env())).rejects.toThrow(
      `cannot reach the Verdict server at ${stopped.url} (ECONNREFUSED): start it with \`verdict serve\` or pass --server`,
    );
    // The health route answers 200 with JSON; /v1/tenants under another prefix answers 404.
    await expect(
      new AdminClient({ server: `${server.url}/` }, env()).request('GET', '/health/live'),
    ).resolves.toEqual({ status: 'live' });
    await expect(
      runTenantsList({ server: `${server.url}/elsewhere` }, capture(), env()),
    ).rejects.toThrow(/^No route for GET \/elsewhere\/v1\/tenants/);
  });
});

describe('the command definitions', () => {
  function helpOf(...names: string[]): string {
    let command = buildProgram();
    for (const name of names) {
      const sub = command.commands.find((c) => c.name() === name);
      if (sub === undefined) throw new Error(`no command ${names.join(' ')}`);
      command = sub;
    }
    let text = '';
    command.configureOutput({ writeOut: (s) => (text += s) });
    command.outputHelp();
    return text;
  }

  it.each([
    [['tenants', 'create'], '$ verdict tenants create acme --name "Acme Corp"'],
    [['tenants', 'list'], '$ verdict tenants list'],
    [['keys', 'create'], '$ verdict keys create --tenant acme --name checkout --scope decide'],
    [['keys', 'list'], '$ verdict keys list --tenant acme'],
    [['keys', 'revoke'], '$ verdict keys revoke --tenant acme '],
    [['keys', 'gen'], '$ verdict keys gen -o keys/release.pem'],
  ])('%j --help shows an example', (names, example) => {
    const help = helpOf(...names);
    expect(help).toContain(example);
    if (names[1] !== 'gen')
      expect(help).toMatch(/--server <url>[\s\S]*--token <token>[\s\S]*--json/);
  });

  it('checks --scope and --expires-in while parsing, before any request', async () => {
    const parseKeysCreate = async (args: string[]): Promise<string> => {
      const program = buildProgram();
      const create = program.commands
        .find((c) => c.name() === 'keys')
        ?.commands.find((c) => c.name() === 'create');
      let err = '';
      create
        ?.exitOverride()
        .configureOutput({ writeErr: (t) => (err += t), outputError: (t) => (err += t) });
      await program
        .parseAsync(['keys', 'create', '--tenant', 'acme', '--name', 'n', ...args], {
          from: 'user',
        })
        .then(
          () => {
            throw new Error('expected the arguments to be refused');
          },
          () => undefined,
        );
      return err.split('\n')[0] ?? '';
    };
    expect(await parseKeysCreate(['--scope', 'decide', '--scope', 'root'])).toBe(
      "error: option '--scope <scope>' argument 'root' is invalid. expected one of decide, bundles:write, audit:read.",
    );
    expect(await parseKeysCreate(['--scope', 'decide', '--expires-in', '3651d'])).toBe(
      "error: option '--expires-in <duration>' argument '3651d' is invalid. expected a whole number and a unit s, m, h or d, at most 3650d (e.g. 30d, 12h).",
    );
  });

  it('falls back to the default server when VERDICT_SERVER is blank', () => {
    expect(new AdminClient({}, { VERDICT_SERVER: '  ', VERDICT_ADMIN_TOKEN: 't' }).server).toBe(
      'http://127.0.0.1:8181',
    );
  });

  it('runs an admin command through the program, writing to standard output', async () => {
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const writeErr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let printed = '';
    const saved = { server: process.env.VERDICT_SERVER, token: process.env.VERDICT_ADMIN_TOKEN };
    process.env.VERDICT_SERVER = server.url;
    process.env.VERDICT_ADMIN_TOKEN = adminToken;
    try {
      await buildProgram().parseAsync(['tenants', 'create', 'hooli', '--name', 'Hooli'], {
        from: 'user',
      });
      await buildProgram().parseAsync(
        ['keys', 'create', '--tenant', 'hooli', '--name', 'n', '--scope', 'decide', '--json'],
        { from: 'user' },
      );
      await buildProgram().parseAsync(['tenants', 'list', '--json'], { from: 'user' });
      await buildProgram().parseAsync(['keys', 'list', '--tenant', 'hooli'], { from: 'user' });
      const created = /"id": "([0-9a-f-]{36})"/.exec(
        write.mock.calls.map(([c]) => String(c)).join(''),
      );
      await buildProgram().parseAsync(
        ['keys', 'revoke', '--tenant', 'hooli', created?.[1] ?? 'missing'],
        { from: 'user' },
      );
      printed = write.mock.calls.map(([chunk]) => String(chunk)).join('');
    } finally {
      write.mockRestore();
      writeErr.mockRestore();
      process.env.VERDICT_SERVER = saved.server;
      process.env.VERDICT_ADMIN_TOKEN = saved.token;
      if (saved.server === undefined) delete process.env.VERDICT_SERVER;
      if (saved.token === undefined) delete process.env.VERDICT_ADMIN_TOKEN;
    }
    expect(printed).toContain('"slug": "hooli"');
    expect(printed).toMatch(/^ID\s+PREFIX/m);
    expect(printed).toContain('created tenant hooli');
    expect(printed).toContain('"key": "vdk_');
    expect(printed).toMatch(/^revoked API key [0-9a-f]{12} \(n\) of tenant hooli$/m);
  });
});

describe('the verdict executable', () => {
  it('creates a tenant and a key, lists, and revokes, with --scope repeated', async () => {
    const created = await runBin(['tenants', 'create', 'initech', '--name', 'Initech']);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(created.stdout).toMatch(/^created tenant initech \(Initech\)/);

    const key = await runBin([
      'keys',
      'create',
      '--tenant',
      'initech',
      '--name',
      'billing',
      '--scope',
      'decide',
      '--scope',
      'bundles:write',
      '--expires-in',
      '12h',
    ]);
    expect(key.code).toBe(0);
    const plainKey = key.stdout.trim();
    expect(plainKey).toMatch(/^vdk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(key.stderr).toContain('scopes decide, bundles:write');

    const listed = await runBin(['keys', 'list', '--tenant', 'initech', '--json']);
    expect(listed.code).toBe(0);
    const [only] = (JSON.parse(listed.stdout) as { keys: KeyView[] }).keys;
    expect(only).toMatchObject({ name: 'billing', status: 'active' });

    const revoked = await runBin(['keys', 'revoke', '--tenant', 'initech', only?.id ?? '']);
    expect(revoked).toMatchObject({ code: 0, stderr: '' });
    expect(revoked.stdout).toContain('revoked API key');

    const tenants = await runBin(
      ['tenants', 'list', '--server', server.url, '--token', adminToken],
      {
        VERDICT_SERVER: 'http://127.0.0.1:9',
        VERDICT_ADMIN_TOKEN: 'ignored-because-flags-win',
      },
    );
    expect(tenants.code).toBe(0);
    expect(tenants.stdout).toContain('initech');
  });

  it('ends a failure with one `verdict:` line and exit code 1', async () => {
    const wrongToken = await runBin(['tenants', 'list', '--token', 'wrong']);
    expect(wrongToken).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'verdict: The token is not valid: use an access token from `verdict login`, a tenant API key, or the value of VERDICT_ADMIN_TOKEN.\n',
    });
    const badExpiry = await runBin([
      'keys',
      'create',
      '--tenant',
      'initech',
      '--name',
      'x',
      '--scope',
      'decide',
      '--expires-in',
      'forever',
    ]);
    expect(badExpiry.code).toBe(1);
    expect(badExpiry.stderr.split('\n')[0]).toBe(
      "error: option '--expires-in <duration>' argument 'forever' is invalid. expected a whole number and a unit s, m, h or d, at most 3650d (e.g. 30d, 12h).",
    );
    const badScope = await runBin([
      'keys',
      'create',
      '--tenant',
      'a',
      '--name',
      'x',
      '--scope',
      'root',
    ]);
    expect(badScope.code).toBe(1);
    expect(badScope.stderr.split('\n')[0]).toBe(
      "error: option '--scope <scope>' argument 'root' is invalid. expected one of decide, bundles:write, audit:read.",
    );
  });

  it('keeps `keys gen` and the API-key commands in one `keys` group', async () => {
    const help = await runBin(['keys', '--help']);
    expect(help.code).toBe(0);
    for (const command of ['create', 'list', 'revoke', 'gen']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
  });
});
