/**
 * `verdict bundles pull` against a real bundle server on loopback: the test writes a fixture
 * policy, packs it as OPA bundle servers serve it (`.manifest`, Rego, `data.json`), and serves
 * it with a bearer token and an ETag. The pulled bundle is compiled by Verdict and its
 * decisions checked in the WebAssembly engine; 304, 401, 404, corrupt archives, path traversal,
 * size limits and bundles Verdict cannot rebuild are refused with one clear line each; `--push`
 * publishes to a real Verdict server, which then decides with the bundle.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { start, type RunningServer } from '../../api/server';
import { runPull, type PullOptions } from '../../cli/bundle-pull';
import { PolicyEngine } from '../../policies/engine';
import { readTarGz, writeTarGz, type TarEntry } from '../../policies/bundle/tar';
import { capture, fixtureFolder } from '../helpers/cli-io';
import { call } from '../e2e/http';
import { corruptHeaderTarGz, file, jsonFile, rawTarGz } from './bundles/fixtures';
import {
  createTestDatabase,
  redisUrl,
  testConfig,
  uniqueName,
  type TestDatabase,
} from './helpers/services';

const TOKEN = 'bundle-server-token-0123456789';
const ETAG = '"authz-v1"';

const policy = `package authz

import rego.v1

default allow := false

allow if {
	some action in data.grants[input.user]
	action == input.action
}

allow if input.user in data.authz.admins
`;

/** The fixture as an OPA bundle server serves it; `extra` entries added or replacing. */
function opaBundle(extra: readonly TarEntry[] = []): Buffer {
  const names = new Set(extra.map((e) => e.path));
  const base = [
    jsonFile('.manifest', { revision: 'git-4f2a9c1', roots: ['authz', 'grants'] }),
    file('authz/policy.rego', policy),
    jsonFile('data.json', { grants: { alice: ['read', 'write'], bob: ['read'] } }),
    // Mounted at data.authz, as OPA mounts a folder's data.json.
    jsonFile('authz/data.json', { admins: ['carol'] }),
  ];
  return writeTarGz([...base.filter((e) => !names.has(e.path)), ...extra]);
}

interface Route {
  readonly body: Buffer;
  readonly token?: string;
  readonly etag?: string;
  /** Sent in pieces without a Content-Length. */
  readonly chunked?: boolean;
}

const routes = new Map<string, Route>();
const seen: { url: string; authorization?: string; ifNoneMatch?: string }[] = [];
let bundleServer: http.Server;
let base = '';

function serve(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = req.url ?? '';
  seen.push({
    url,
    ...(req.headers.authorization === undefined
      ? {}
      : { authorization: req.headers.authorization }),
    ...(req.headers['if-none-match'] === undefined
      ? {}
      : { ifNoneMatch: req.headers['if-none-match'] }),
  });
  const route = routes.get(url);
  if (route === undefined) {
    res.statusCode = 404;
    res.end('no such bundle');
    return;
  }
  if (route.token !== undefined && req.headers.authorization !== `Bearer ${route.token}`) {
    res.statusCode = 401;
    res.end('unauthorized');
    return;
  }
  if (route.etag !== undefined) {
    res.setHeader('ETag', route.etag);
    if (req.headers['if-none-match'] === route.etag) {
      res.statusCode = 304;
      res.end();
      return;
    }
  }
  res.setHeader('Content-Type', 'application/gzip');
  if (route.chunked === true) {
    const half = Math.floor(route.body.length / 2);
    res.write(route.body.subarray(0, half));
    res.end(route.body.subarray(half));
    return;
  }
  res.end(route.body);
}

const folder = fixtureFolder('bundle-pull');

async function pull(
  url: string,
  options: Partial<PullOptions> = {},
  env: NodeJS.ProcessEnv = {},
): Promise<{ out: string; err: string; error: unknown }> {
  const io = capture();
  let error: unknown;
  try {
    await runPull(`${base}${url}`, { entrypoint: [], ...options }, io.io, env);
  } catch (err) {
    error = err;
  }
  return { out: io.out(), err: io.err(), error };
}

/** The message of the error `pull` ended with; fails when it ended well. */
function failure(result: { error: unknown }): string {
  expect(result.error).toBeInstanceOf(Error);
  return (result.error as Error).message;
}

/** Decides `input` with the pulled bundle's policy.wasm and data, as the server would. */
async function decide(bundleFile: string, input: unknown): Promise<unknown> {
  const entries = readTarGz(fs.readFileSync(bundleFile));
  const wasm = entries.find((e) => e.path === 'policy.wasm');
  const data = entries.find((e) => e.path === 'data.json');
  if (wasm === undefined || data === undefined) throw new Error('no policy.wasm or data.json');
  const engine = await PolicyEngine.load(wasm.data);
  engine.setData(JSON.parse(Buffer.from(data.data).toString('utf8')));
  const sets = JSON.parse(engine.evaluateJSON('authz/allow', JSON.stringify(input))) as {
    result: unknown;
  }[];
  return sets[0]?.result;
}

jest.setTimeout(120_000);

beforeAll(async () => {
  routes.set('/bundles/authz.tar.gz', { body: opaBundle(), token: TOKEN, etag: ETAG });
  routes.set('/bundles/open.tar.gz', { body: opaBundle() });
  routes.set('/bundles/chunked.tar.gz', { body: opaBundle(), chunked: true });
  bundleServer = http.createServer(serve);
  bundleServer.listen(0, '127.0.0.1');
  await once(bundleServer, 'listening');
  base = `http://127.0.0.1:${(bundleServer.address() as AddressInfo).port}`;
});

afterAll(() => {
  bundleServer.close();
});

describe('verdict bundles pull', () => {
  it('downloads with the bearer token, compiles the Rego with data.json, and writes a bundle', async () => {
    const out = path.join(folder.dir(), 'out', 'authz.tar.gz');
    const result = await pull('/bundles/authz.tar.gz', {
      bundleToken: TOKEN,
      entrypoint: ['authz/allow'],
      out,
    });
    expect(result.error).toBeUndefined();
    expect(seen.at(-1)).toEqual({
      url: '/bundles/authz.tar.gz',
      authorization: `Bearer ${TOKEN}`,
    });
    expect(result.out).toMatch(
      new RegExp(
        `^pulled ${base}/bundles/authz\\.tar\\.gz \\(ETag "authz-v1"\\): wrote ${out.replace(/[.]/g, '\\.')}, revision [0-9a-f]{16}, entrypoints authz/allow; source revision git-4f2a9c1\\n$`,
      ),
    );
    expect(await decide(out, { user: 'alice', action: 'write' })).toBe(true);
    expect(await decide(out, { user: 'bob', action: 'write' })).toBe(false);
    expect(await decide(out, { user: 'bob', action: 'read' })).toBe(true);
    expect(await decide(out, { user: 'carol', action: 'delete' })).toBe(true);
    const files = readTarGz(fs.readFileSync(out)).map((e) => e.path);
    expect(files).toEqual(['.manifest', 'data.json', 'policy.wasm', 'authz/policy.rego']);
  });

  it('takes the token from $VERDICT_BUNDLE_TOKEN, and says what it pulled as JSON', async () => {
    const out = path.join(folder.dir(), 'authz.tar.gz');
    const result = await pull(
      '/bundles/authz.tar.gz',
      { entrypoint: ['authz/allow'], out, json: true },
      { VERDICT_BUNDLE_TOKEN: TOKEN },
    );
    expect(result.error).toBeUndefined();
    expect(JSON.parse(result.out)).toEqual({
      url: `${base}/bundles/authz.tar.gz`,
      etag: ETAG,
      out,
      revision: expect.stringMatching(/^[0-9a-f]{16}$/) as unknown,
      source_revision: 'git-4f2a9c1',
      entrypoints: ['authz/allow'],
      dropped_wasm: false,
    });
  });

  it('sends If-None-Match and writes nothing when the server answers 304', async () => {
    const out = path.join(folder.dir(), 'authz.tar.gz');
    const result = await pull('/bundles/authz.tar.gz', {
      bundleToken: TOKEN,
      etag: ETAG,
      entrypoint: ['authz/allow'],
      out,
    });
    expect(result.error).toBeUndefined();
    expect(seen.at(-1)?.ifNoneMatch).toBe(ETAG);
    expect(result.out).toBe(
      `${base}/bundles/authz.tar.gz has not changed (ETag "authz-v1"): nothing written\n`,
    );
    expect(fs.existsSync(out)).toBe(false);
    // Another ETag: the bundle has changed, and is pulled.
    const changed = await pull('/bundles/authz.tar.gz', {
      bundleToken: TOKEN,
      etag: '"authz-v0"',
      entrypoint: ['authz/allow'],
      out,
    });
    expect(changed.error).toBeUndefined();
    expect(fs.existsSync(out)).toBe(true);
  });

  it('refuses without the token (401) and at an unknown URL (404)', async () => {
    const out = path.join(folder.dir(), 'x.tar.gz');
    expect(failure(await pull('/bundles/authz.tar.gz', { out }))).toBe(
      `the bundle server refused the download of ${base}/bundles/authz.tar.gz (HTTP 401): pass its bearer token with --bundle-token (or $VERDICT_BUNDLE_TOKEN)`,
    );
    expect(failure(await pull('/bundles/authz.tar.gz', { out, bundleToken: 'wrong' }))).toContain(
      '(HTTP 401)',
    );
    expect(failure(await pull('/bundles/nothing.tar.gz?sig=secret', { out }))).toBe(
      `no bundle at ${base}/bundles/nothing.tar.gz (HTTP 404): check the URL`,
    );
    expect(fs.existsSync(out)).toBe(false);
  });

  it('refuses corrupt archives and a path that climbs out of the bundle', async () => {
    const whole = opaBundle();
    const cases: [string, Buffer, RegExp][] = [
      ['/corrupt/truncated.tar.gz', whole.subarray(0, whole.length - 40), /unexpected end of file/],
      ['/corrupt/header.tar.gz', corruptHeaderTarGz(), /corrupt tar header at byte 0/],
      ['/corrupt/noise.tar.gz', Buffer.from('this is not a bundle'), /not a tar archive/],
      [
        '/corrupt/not-gzip.tar.gz',
        Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(64, 7)]),
        /not a gzip-compressed tar archive/,
      ],
      [
        '/evil/traversal.tar.gz',
        rawTarGz('../evil.rego', 'package evil\n'),
        /unsafe path in bundle: "\.\.\/evil\.rego"/,
      ],
      [
        '/evil/nested-traversal.tar.gz',
        rawTarGz('authz/../../evil.rego', 'package evil\n'),
        /unsafe path in bundle: "authz\/\.\.\/\.\.\/evil\.rego"/,
      ],
      [
        '/evil/link.tar.gz',
        rawTarGz('authz/link.rego', '', '2', '/etc/passwd'),
        /unsupported entry "authz\/link\.rego" in bundle/,
      ],
    ];
    for (const [url, body, reason] of cases) {
      routes.set(url, { body });
      const out = path.join(folder.dir(), 'x.tar.gz');
      const message = failure(await pull(url, { out, entrypoint: ['authz/allow'] }));
      expect(message).toMatch(
        new RegExp(`^${base}${url.replace(/[.]/g, '\\.')} is not a usable bundle archive: `),
      );
      expect(message).toMatch(reason);
      expect(fs.existsSync(out)).toBe(false);
    }
  });

  it('refuses a download over --max-bytes, declared or streamed', async () => {
    const size = opaBundle().length;
    const out = path.join(folder.dir(), 'x.tar.gz');
    for (const url of ['/bundles/open.tar.gz', '/bundles/chunked.tar.gz']) {
      expect(failure(await pull(url, { out, maxBytes: String(size - 1) }))).toBe(
        `the bundle at ${base}${url} is larger than ${size - 1} bytes: raise --max-bytes if it should be accepted`,
      );
      const fits = await pull(url, { out, maxBytes: String(size), entrypoint: ['authz/allow'] });
      expect(fits.error).toBeUndefined();
    }
    expect(failure(await pull('/bundles/open.tar.gz', { out, maxBytes: '10MB' }))).toBe(
      '--max-bytes must be a whole number of bytes, like 10485760 (got "10MB")',
    );
  });

  it("compiles the entrypoints an OPA wasm bundle lists, leaving the server's policy.wasm out", async () => {
    routes.set('/bundles/wasm.tar.gz', {
      body: opaBundle([
        jsonFile('.manifest', {
          revision: 'r7',
          roots: ['authz', 'grants'],
          wasm: [{ entrypoint: 'authz/allow', module: '/policy.wasm' }],
          rego_version: 1,
        }),
        file('policy.wasm', new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])),
      ]),
    });
    const out = path.join(folder.dir(), 'w.tar.gz');
    const result = await pull('/bundles/wasm.tar.gz', { out });
    expect(result.error).toBeUndefined();
    expect(result.out).toContain(
      "entrypoints authz/allow; source revision r7; the server's policy.wasm left out, compiled from the Rego",
    );
    expect(await decide(out, { user: 'alice', action: 'read' })).toBe(true);
  });

  it('says what to do with bundles it cannot rebuild', async () => {
    const out = path.join(folder.dir(), 'x.tar.gz');
    routes.set('/odd/wasm-only.tar.gz', {
      body: writeTarGz([
        jsonFile('.manifest', { wasm: [{ entrypoint: 'authz/allow', module: '/policy.wasm' }] }),
        file('policy.wasm', new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])),
      ]),
    });
    const wasmOnly = await pull('/odd/wasm-only.tar.gz', { out });
    expect(failure(wasmOnly)).toContain(
      'the bundle carries a compiled policy.wasm but no Rego sources: Verdict compiles bundles from their sources',
    );
    const noEntrypoint = await pull('/bundles/open.tar.gz', { out });
    expect(failure(noEntrypoint)).toBe(
      `the bundle from ${base}/bundles/open.tar.gz was not rebuilt: no entrypoint: the bundle's .manifest names none; name the rules to serve with -e pkg/rule (like -e authz/allow)`,
    );
    routes.set('/odd/v0.tar.gz', {
      body: opaBundle([
        jsonFile('.manifest', { rego_version: 0 }),
        file('authz/policy.rego', 'package authz\n\nallow { input.user == "root" }\n'),
      ]),
    });
    const v0 = await pull('/odd/v0.tar.gz', { out, entrypoint: ['authz/allow'] });
    expect(failure(v0)).toMatch(/was not rebuilt: authz\/policy\.rego:3:\d+: rego_parse_error/);
    expect(v0.err).toContain('.manifest says rego_version 0: Verdict compiles Rego v1');
    routes.set('/odd/manifest.tar.gz', {
      body: opaBundle([jsonFile('.manifest', { name: 'authz', plan: 'gold' })]),
    });
    expect(
      failure(
        await pull('/odd/manifest.tar.gz', { out, entrypoint: ['authz/allow'], name: 'other' }),
      ),
    ).toContain('.manifest says name "authz" but --name says "other"');
    expect(
      failure(await pull('/odd/manifest.tar.gz', { out, entrypoint: ['authz/allow'] })),
    ).toContain('.manifest: plan: unknown manifest field');
    expect(fs.existsSync(out)).toBe(false);
  });

  it('refuses bad URLs and --push without --tenant before downloading', async () => {
    const io = capture();
    await expect(
      runPull('ftp://example.com/b.tar.gz', { entrypoint: [] }, io.io, {}),
    ).rejects.toThrow('ftp://example.com/b.tar.gz must be an http:// or https:// URL');
    await expect(runPull('not a url', { entrypoint: [] }, io.io, {})).rejects.toThrow(
      '"not a url" is not a URL',
    );
    await expect(
      runPull('http://u:p@127.0.0.1/b.tar.gz', { entrypoint: [] }, io.io, {}),
    ).rejects.toThrow('the bundle URL holds a user name or password');
    const before = seen.length;
    expect(failure(await pull('/bundles/open.tar.gz', { push: true }))).toBe(
      '--push needs --tenant: the tenant to publish the bundle to',
    );
    expect(failure(await pull('/bundles/open.tar.gz', { tenant: 'acme' }))).toBe(
      '--tenant is for --push: add --push to publish the bundle',
    );
    expect(seen.length).toBe(before);
    expect(failure(await pull('/bundles/open.tar.gz', { push: true, tenant: 'acme' }))).toMatch(
      /^no admin token: pass --token/,
    );
    expect(seen.length).toBe(before);
  });

  it('answers clearly when the bundle server is down', async () => {
    const closed = http.createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    const io = capture();
    await expect(
      runPull(`http://127.0.0.1:${port}/b.tar.gz`, { entrypoint: [] }, io.io, {}),
    ).rejects.toThrow(
      `cannot download http://127.0.0.1:${port}/b.tar.gz (ECONNREFUSED): check the URL and that the bundle server is up`,
    );
  });
});

describe('verdict bundles pull --push', () => {
  const ADMIN = 'pull-admin-token-0123456789abcdef';
  let db: TestDatabase;
  let server: RunningServer;

  beforeAll(async () => {
    db = await createTestDatabase('bundle_pull');
    server = await start({
      config: testConfig({
        DATABASE_URL: db.url,
        REDIS_URL: redisUrl,
        VERDICT_REDIS_PREFIX: `${uniqueName('pull')}:`,
        VERDICT_ADMIN_TOKEN: ADMIN,
      }),
    });
  });

  afterAll(async () => {
    await server.stop();
    await db.drop();
  });

  it('publishes the rebuilt bundle to a tenant, which then decides with it', async () => {
    const admin = { token: ADMIN };
    expect(
      (
        await call(server.url, 'POST', '/v1/tenants', {
          ...admin,
          json: { slug: 'acme', name: 'Acme' },
        })
      ).status,
    ).toBe(201);
    const key = await call(server.url, 'POST', '/v1/tenants/acme/keys', {
      ...admin,
      json: { name: 'app', scopes: ['decide'] },
    });
    const env = { VERDICT_SERVER: server.url, VERDICT_ADMIN_TOKEN: ADMIN };
    const missing = await pull(
      '/bundles/open.tar.gz',
      {
        entrypoint: ['authz/allow'],
        push: true,
        tenant: 'acme',
      },
      env,
    );
    expect(failure(missing)).toBe(
      "the bundle's .manifest has no name or version: pass --name and --version to push it",
    );
    const result = await pull(
      '/bundles/authz.tar.gz',
      {
        bundleToken: TOKEN,
        entrypoint: ['authz/allow'],
        name: 'authz',
        version: '1.4.0',
        push: true,
        tenant: 'acme',
      },
      env,
    );
    expect(result.error).toBeUndefined();
    expect(result.out).toMatch(
      /^pulled .*: built, revision [0-9a-f]{16}, entrypoints authz\/allow; source revision git-4f2a9c1\n/,
    );
    expect(result.out).toMatch(
      /\npushed authz 1\.4\.0 \(revision [0-9a-f]{16}\) to tenant acme; activate it with `verdict activate --tenant acme --bundle authz --version 1\.4\.0`\n$/,
    );
    expect(
      (
        await call(server.url, 'POST', '/v1/tenants/acme/bundles/authz/activate', {
          ...admin,
          json: { version: '1.4.0' },
        })
      ).status,
    ).toBe(200);
    const decide = (input: unknown) =>
      call(server.url, 'POST', '/v1/data/authz/allow', {
        token: key.body.key as string,
        json: { input },
      });
    expect((await decide({ user: 'alice', action: 'write' })).body.result).toBe(true);
    expect((await decide({ user: 'bob', action: 'write' })).body.result).toBe(false);
    expect((await decide({ user: 'carol', action: 'anything' })).body.result).toBe(true);
    // The same version with other content is refused by the registry; the file is kept.
    routes.set('/bundles/changed.tar.gz', {
      body: opaBundle([jsonFile('authz/data.json', { admins: [] })]),
    });
    const again = await pull(
      '/bundles/changed.tar.gz',
      {
        entrypoint: ['authz/allow'],
        name: 'authz',
        version: '1.4.0',
        push: true,
        tenant: 'acme',
        out: path.join(folder.dir(), 'kept.tar.gz'),
      },
      env,
    );
    expect(failure(again)).toMatch(/^Bundle "authz" already has version 1\.4\.0/);
    expect(fs.existsSync(path.join(folder.dir(), 'kept.tar.gz'))).toBe(true);
  });
});
