/**
 * The drain of a stopping server, as a rolling restart behind a load balancer needs it: for
 * VERDICT_SHUTDOWN_DELAY_MS it reports not ready yet still serves new connections, every
 * response asks its client to close the connection (also the answer to a request that was
 * already under way when shutdown began, on the decision lane and through Express alike),
 * and then it stops listening.
 */
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { start, type RunningServer } from '../../api/server';
import { setUpAcmeWithRbac } from '../e2e/http';
import { carolDeletes } from '../e2e/load';
import { rbacBundle } from './bundles/fixtures';
import {
  capturingLogger,
  createTestDatabase,
  testConfig,
  type TestDatabase,
} from './helpers/services';

jest.setTimeout(120_000);

const ADMIN = 'drain-admin-token-0123456789abcdef';
const delayOver = 'shutdown delay over: no longer accepting connections';

interface RawAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/**
 * One request on a keep-alive connection of its own (a client that would reuse it), with the
 * response's headers as sent.
 */
function send(
  server: RunningServer,
  method: string,
  path: string,
  options: { token?: string; json?: unknown } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const body = options.json === undefined ? undefined : JSON.stringify(options.json);
    const agent = new http.Agent({ keepAlive: true });
    const req = http.request(
      {
        host: '127.0.0.1',
        port: server.port,
        method,
        path,
        agent,
        headers: {
          ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          agent.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A request whose body is held back after its first bytes: the server has it under way. */
interface HeldRequest {
  /** Sends the rest of the body; resolves to the raw response once the server closes. */
  finish(): Promise<string>;
}

async function holdRequest(
  server: RunningServer,
  path: string,
  headers: Record<string, string>,
  body: string,
): Promise<HeldRequest> {
  const socket = net.connect(server.port, '127.0.0.1');
  await once(socket, 'connect');
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const ended = once(socket, 'end');
  const head = Object.entries({ ...headers, 'content-length': String(body.length) })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  // The server's own request listener runs first, so once this 'request' event is seen, the
  // lane or Express has taken the request and waits for its body.
  const taken = once(server.httpServer, 'request');
  socket.write(`POST ${path} HTTP/1.1\r\nHost: localhost\r\n${head}\r\n${body.slice(0, 3)}`);
  await taken;
  return {
    finish: async () => {
      socket.write(body.slice(3));
      await ended;
      socket.destroy();
      return text;
    },
  };
}

async function connectionRefused(port: number): Promise<boolean> {
  const probe = net.connect(port, '127.0.0.1');
  try {
    await once(probe, 'connect');
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ECONNREFUSED';
  } finally {
    probe.destroy();
  }
}

describe('draining a stopping server', () => {
  let bundle: Uint8Array;
  const databases: TestDatabase[] = [];

  beforeAll(async () => {
    bundle = (await rbacBundle()).tarGz;
  });
  afterAll(async () => {
    for (const database of databases) await database.drop();
  });

  /** A server on a database of its own, with acme set up. */
  async function serverWithAcme(
    env: Record<string, string>,
  ): Promise<{ server: RunningServer; key: string; lines: () => Record<string, unknown>[] }> {
    const database = await createTestDatabase('drain');
    databases.push(database);
    const { logger, lines } = capturingLogger();
    const server = await start({
      config: testConfig({ DATABASE_URL: database.url, VERDICT_ADMIN_TOKEN: ADMIN, ...env }),
      logger,
    });
    const { key } = await setUpAcmeWithRbac(server.url, ADMIN, bundle);
    return { server, key, lines };
  }

  it('serves new connections for the shutdown delay while not ready, asking clients to close', async () => {
    const { server, key, lines } = await serverWithAcme({
      VERDICT_SHUTDOWN_DELAY_MS: '3000',
      VERDICT_SHUTDOWN_TIMEOUT_MS: '600000',
    });
    const messages = (): unknown[] => lines().map((line) => line.msg);
    const stopped = server.stop();

    const ready = await send(server, 'GET', '/health/ready');
    const decision = await send(server, 'POST', '/v1/data/rbac/allow', {
      token: key,
      json: { input: carolDeletes },
    });
    const live = await send(server, 'GET', '/health/live');
    // All three were answered before the delay ended: the listener was still open.
    expect(messages()).not.toContain(delayOver);

    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({ code: 'not_ready' });
    expect(decision.status).toBe(200);
    expect(JSON.parse(decision.body)).toMatchObject({ result: false });
    expect(live.status).toBe(200);
    for (const answer of [ready, decision, live]) expect(answer.headers.connection).toBe('close');

    await stopped;
    expect(messages()).toEqual(expect.arrayContaining([delayOver, 'verdict stopped']));
    expect(await connectionRefused(server.port)).toBe(true);
  });

  it('closes the connection of a request under way when shutdown began, lane and Express alike', async () => {
    // A shutdown timeout longer than the test: stop() resolves only because both connections
    // close once answered.
    const { server, key, lines } = await serverWithAcme({ VERDICT_SHUTDOWN_TIMEOUT_MS: '600000' });
    const json = { 'content-type': 'application/json' };
    const decision = await holdRequest(
      server,
      '/v1/data/rbac/allow',
      { ...json, authorization: `Bearer ${key}` },
      JSON.stringify({ input: carolDeletes }),
    );
    // A query string sends a decision through Express's data router instead of the lane.
    const viaExpress = await holdRequest(
      server,
      '/v1/data/rbac/allow?pretty=false',
      { ...json, authorization: `Bearer ${key}` },
      JSON.stringify({ input: carolDeletes }),
    );

    const stopped = server.stop();
    const [laneText, expressText] = await Promise.all([decision.finish(), viaExpress.finish()]);
    await stopped;

    for (const text of [laneText, expressText]) {
      expect(text).toMatch(/^HTTP\/1\.1 200 /);
      expect(text).toMatch(/\r\nconnection: close\r\n/i);
      expect(text).toContain('"result":false');
    }
    expect(lines().map((line) => line.msg)).not.toContain(
      'shutdown timeout: closing connections with requests still running',
    );
  });
});
