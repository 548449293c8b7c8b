/**
 * TLS to Postgres and Redis as managed services offer it, with a private certificate
 * authority (Amazon RDS, Cloud SQL, Memorystore): loopback proxies that speak only TLS in front
 * of the real Postgres and Redis, with certificates from a CA made for the test. What
 * docs/operations.md ("Managed Postgres and Redis") says must hold: the CA file in
 * DATABASE_URL (`sslrootcert`) is used by the pool and by the migrations' own connection,
 * `sslmode=verify-full` checks the host name, `verify-ca` with `uselibpqcompat=true` does not,
 * and NODE_EXTRA_CA_CERTS makes `verdict serve` trust the CA for `rediss://` and Postgres alike.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { openDatabase } from '../../api/db/database';
import { migrateUp } from '../../api/db/migrator';
import {
  createTestDatabase,
  postgresUrl,
  redisUrl,
  silentLogger,
  tempDir,
  testConfig,
  uniqueName,
  type TestDatabase,
} from '../integration/helpers/services';
import { repoRoot, verdictBin } from '../integration/helpers/verdict-bin';
import { freePort, until } from './load';

jest.setTimeout(120_000);

/** The first message of a Postgres client that asks for TLS (protocol code 80877103). */
const sslRequestCode = 80877103;

interface Certificates {
  readonly caFile: string;
  /** Key and certificate of a server named by `altNames`, signed by the CA. */
  server(altNames: string): { key: string; cert: string };
}

function makeCertificates(dir: string): Certificates {
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=Verdict test CA',
  );
  let serial = 0;
  return {
    caFile: path.join(dir, 'ca.pem'),
    server: (altNames) => {
      serial += 1;
      const name = `server${serial}`;
      fs.writeFileSync(path.join(dir, `${name}.ext`), `subjectAltName=${altNames}\n`);
      openssl(
        'req',
        ...ec,
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.csr`,
        '-subj',
        `/CN=${name}`,
      );
      openssl(
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-set_serial',
        String(serial),
        '-days',
        '2',
        '-extfile',
        `${name}.ext`,
        '-out',
        `${name}.pem`,
      );
      return {
        key: fs.readFileSync(path.join(dir, `${name}.key`), 'utf8'),
        cert: fs.readFileSync(path.join(dir, `${name}.pem`), 'utf8'),
      };
    },
  };
}

interface Proxy {
  readonly port: number;
  /** TLS sessions set up, and connections refused for not asking for TLS. */
  readonly counts: { tls: number; plain: number };
  close(): Promise<void>;
}

function pipeBoth(a: net.Socket, b: net.Socket): void {
  a.pipe(b).pipe(a);
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
  a.once('close', () => b.destroy());
  b.once('close', () => a.destroy());
}

async function listen(server: net.Server, counts: Proxy['counts']): Promise<Proxy> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(await freePort(), '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    counts,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Postgres' TLS: the client asks with an SSLRequest, the server answers `S`, then TLS. */
function postgresTlsProxy(identity: { key: string; cert: string }): Promise<Proxy> {
  const upstream = new URL(postgresUrl);
  const counts = { tls: 0, plain: 0 };
  const server = net.createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.once('data', (first: Buffer) => {
      if (first.length !== 8 || first.readInt32BE(4) !== sslRequestCode) {
        counts.plain += 1;
        socket.destroy();
        return;
      }
      socket.write('S');
      const secure = new tls.TLSSocket(socket, { isServer: true, ...identity });
      secure.once('secure', () => {
        counts.tls += 1;
        pipeBoth(secure, net.connect(Number(upstream.port || 5432), upstream.hostname));
      });
      secure.on('error', () => socket.destroy());
    });
  });
  return listen(server, counts);
}

/** Redis' TLS (`rediss://`): TLS from the first byte. */
function redisTlsProxy(identity: { key: string; cert: string }): Promise<Proxy> {
  const upstream = new URL(redisUrl);
  const counts = { tls: 0, plain: 0 };
  const server = tls.createServer(identity, (secure) => {
    counts.tls += 1;
    pipeBoth(secure, net.connect(Number(upstream.port || 6379), upstream.hostname));
  });
  server.on('tlsClientError', () => (counts.plain += 1));
  return listen(server, counts);
}

let certDir: { path: string; remove: () => void };
let certificates: Certificates;
let database: TestDatabase;
/** Certificate for 127.0.0.1, the address the tests connect to. */
let matching: Proxy;
/** Certificate for another name (as Cloud SQL's, reached by its IP address). */
let otherName: Proxy;
let redis: Proxy;

/** DATABASE_URL through `proxy` to the test database, with these query parameters. */
function databaseUrl(proxy: Proxy, query: Record<string, string>): string {
  const url = new URL(database.url);
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  url.search = new URLSearchParams(query).toString();
  return url.toString();
}

beforeAll(async () => {
  certDir = tempDir('tls');
  certificates = makeCertificates(certDir.path);
  database = await createTestDatabase('tls');
  matching = await postgresTlsProxy(certificates.server('IP:127.0.0.1'));
  otherName = await postgresTlsProxy(certificates.server('DNS:db.internal'));
  redis = await redisTlsProxy(certificates.server('IP:127.0.0.1'));
});

afterAll(async () => {
  await Promise.all([matching.close(), otherName.close(), redis.close()]);
  await database.drop();
  certDir.remove();
});

/** Opens the database at `url`, applies the migrations and closes it again. */
async function openAndMigrate(url: string): Promise<void> {
  const db = await openDatabase(testConfig({ DATABASE_URL: url }), silentLogger);
  try {
    await migrateUp(db);
  } finally {
    await db.close();
  }
}

describe('Postgres over TLS with a private CA', () => {
  it('verifies the server against the CA file in DATABASE_URL, for the pool and the migrations', async () => {
    const before = matching.counts.tls;
    await openAndMigrate(
      databaseUrl(matching, { sslmode: 'verify-full', sslrootcert: certificates.caFile }),
    );
    // The pool's connections and the migration lock's connection of its own.
    expect(matching.counts.tls - before).toBeGreaterThanOrEqual(2);
    expect(matching.counts.plain).toBe(0);
  });

  it('refuses a server whose CA it was not given', async () => {
    await expect(
      openAndMigrate(databaseUrl(matching, { sslmode: 'verify-full' })),
    ).rejects.toMatchObject({
      code: 'database_unavailable',
      message: expect.stringMatching(/unable to verify the first certificate/) as unknown,
    });
  });

  it('checks the host name with verify-full; verify-ca with uselibpqcompat=true does not', async () => {
    await expect(
      openAndMigrate(
        databaseUrl(otherName, { sslmode: 'verify-full', sslrootcert: certificates.caFile }),
      ),
    ).rejects.toMatchObject({
      code: 'database_unavailable',
      message: expect.stringMatching(/does not match certificate's altnames/) as unknown,
    });
    await openAndMigrate(
      databaseUrl(otherName, {
        sslmode: 'verify-ca',
        sslrootcert: certificates.caFile,
        uselibpqcompat: 'true',
      }),
    );
    expect(otherName.counts.tls).toBeGreaterThan(0);
  });
});

describe('verdict serve with TLS to both, trusting the CA through NODE_EXTRA_CA_CERTS', () => {
  it('starts, reports ready, and speaks TLS to Postgres and Redis', async () => {
    const port = await freePort();
    const dataDir = tempDir('tls-serve');
    const redisTarget = new URL(redisUrl);
    redisTarget.protocol = 'rediss:';
    redisTarget.hostname = '127.0.0.1';
    redisTarget.port = String(redis.port);
    const before = { postgres: matching.counts.tls, redis: redis.counts.tls };
    const child = spawn(process.execPath, [verdictBin, 'serve'], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH,
        NODE_EXTRA_CA_CERTS: certificates.caFile,
        DATABASE_URL: databaseUrl(matching, { sslmode: 'verify-full' }),
        REDIS_URL: redisTarget.toString(),
        VERDICT_REDIS_PREFIX: `${uniqueName('tls')}:`,
        VERDICT_WORKERS: '1',
        PORT: String(port),
        VERDICT_HOST: '127.0.0.1',
        VERDICT_DATA_DIR: dataDir.path,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    try {
      await until(
        async () => {
          if (child.exitCode !== null) throw new Error(`verdict serve exited:\n${output}`);
          try {
            return (await fetch(`http://127.0.0.1:${port}/health/ready`)).status === 200;
          } catch {
            return false;
          }
        },
        'verdict serve to be ready over TLS',
        () => `; it said:\n${output}`,
      );
      expect(matching.counts.tls).toBeGreaterThan(before.postgres);
      expect(redis.counts.tls).toBeGreaterThan(before.redis);
      expect({ postgres: matching.counts.plain, redis: redis.counts.plain }).toEqual({
        postgres: 0,
        redis: 0,
      });
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
      dataDir.remove();
    }
  });
});
