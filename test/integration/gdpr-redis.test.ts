/**
 * `verdict gdpr export|erase` when sessions live in Redis (REDIS_URL set for the server and
 * the command): the export lists the Redis sessions, and the erasure deletes them, so the
 * user's access and refresh tokens stop working at once.
 */
import { start, type RunningServer } from '../../api/server';
import { runGdprErase, runGdprExport } from '../../cli/gdpr';
import { randomDataKeys } from './helpers/identity';
import {
  createTestDatabase,
  redisUrl,
  silentLogger,
  tempDir,
  testConfig,
  uniqueName,
  type TestDatabase,
} from './helpers/services';

jest.setTimeout(60_000);

const adminToken = 'gdpr-redis-token-0123456789abcdef';
const password = 'velvet orchid trombone 42';
const keys = randomDataKeys();
const prefix = `${uniqueName('gdpr_redis')}:`;

let database: TestDatabase;
let server: RunningServer;
let dir: { remove: () => void };

function env(): NodeJS.ProcessEnv {
  return {
    DATABASE_URL: database.url,
    REDIS_URL: redisUrl,
    VERDICT_REDIS_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    VERDICT_DATA_KEYS: keys.json,
    VERDICT_DATA_KEY_ID: keys.kid,
    VERDICT_BLIND_INDEX_KEY: keys.index,
  };
}

async function post(url: string, body: unknown, token?: string): Promise<Response> {
  return fetch(`${server.url}${url}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify(body),
  });
}

beforeAll(async () => {
  database = await createTestDatabase('gdpr_redis');
  const data = tempDir('gdpr-redis');
  dir = data;
  server = await start({
    config: testConfig({ ...env(), VERDICT_ADMIN_TOKEN: adminToken, VERDICT_DATA_DIR: data.path }),
    logger: silentLogger,
  });
  expect((await post('/v1/tenants', { slug: 'acme', name: 'Acme' }, adminToken)).status).toBe(201);
  const user = { email: 'dan@acme.test', role: 'auditor', password };
  expect((await post('/v1/tenants/acme/users', user, adminToken)).status).toBe(201);
});
afterAll(async () => {
  await server.stop();
  dir.remove();
  await database.drop();
});

it('exports the Redis sessions and deletes them on erasure', async () => {
  const login = await post('/v1/auth/login', { tenant: 'acme', email: 'dan@acme.test', password });
  expect(login.status).toBe(200);
  const tokens = (await login.json()) as { access_token: string; refresh_token: string };
  const me = async (): Promise<number> =>
    (
      await fetch(`${server.url}/v1/users/me`, {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      })
    ).status;
  expect(await me()).toBe(200);

  const exported = await runGdprExport({ user: 'dan@acme.test', env: env(), out: () => undefined });
  expect(exported.sessions.map((s) => s.store)).toEqual(['redis']);

  const report = await runGdprErase({
    user: 'dan@acme.test',
    yes: true,
    env: env(),
    out: () => undefined,
  });
  expect(report).toMatchObject({ sessions_deleted: 0, redis_sessions_deleted: 1 });
  expect(await me()).toBe(401);
  expect((await post('/v1/auth/refresh', { refresh_token: tokens.refresh_token })).status).toBe(
    401,
  );
  const after = await runGdprExport({ user: report.user_id, env: env(), out: () => undefined });
  expect(after.sessions).toEqual([]);
  expect(after.user.erased).toBe(true);
});
