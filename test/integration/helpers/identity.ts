/**
 * An identity service on a fresh test database (and, when asked, Redis sessions under a key
 * prefix of its own), a clock the test moves by hand, and the app around it. Password hashes
 * use a lower scrypt cost than production to keep tests quick; the unit tests cover the
 * production parameters.
 */
import { randomBytes } from 'node:crypto';
import { createApp, type VerdictApp } from '../../../api/app';
import { openDatabase, type Database } from '../../../api/db/database';
import { migrateUp } from '../../../api/db/migrator';
import { MemoryCache } from '../../../api/services/cache/memory';
import { FieldCipher, parseDataKeys } from '../../../api/services/identity/data-keys';
import { RedisSessionStore } from '../../../api/services/identity/redis-sessions';
import { DatabaseSessionStore } from '../../../api/services/identity/sessions';
import { IdentityService, type IdentitySettings } from '../../../api/services/identity/service';
import type { Logger } from '../../../api/logger';
import type { VerdictMetrics } from '../../../api/services/metrics';
import { SecurityEvents } from '../../../api/services/security/events';
import {
  createTestDatabase,
  redisUrl,
  silentLogger,
  testConfig,
  uniqueName,
  type TestDatabase,
} from './services';

export const testAdminToken = 'admin-token-for-identity-tests-0123';
export const adminHeader = { Authorization: `Bearer ${testAdminToken}` };
export const testScrypt = { logN: 12, r: 8, p: 1 };

/** A clock that moves only when told to. */
export class TestClock {
  constructor(public now: number = Date.UTC(2026, 10, 27, 12, 0, 0)) {}
  readonly read = (): number => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}

export function randomDataKeys(kid = 'k1'): { json: string; kid: string; index: string } {
  return {
    json: JSON.stringify({ [kid]: randomBytes(32).toString('base64') }),
    kid,
    index: randomBytes(32).toString('base64'),
  };
}

export interface IdentityHarness {
  readonly database: TestDatabase;
  readonly db: Database;
  readonly clock: TestClock;
  readonly cipher: FieldCipher;
  readonly identity: IdentityService;
  readonly app: VerdictApp;
  /** A second service on the same database and store (another instance). */
  another(): Promise<IdentityService>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly sessions?: 'database' | 'redis';
  readonly settings?: Partial<IdentitySettings>;
  /** Where the service and the app log (security events included); silent by default. */
  readonly logger?: Logger;
  /** Counts HTTP responses and security events, and serves `GET /metrics`; none by default. */
  readonly metrics?: VerdictMetrics;
}

export async function openIdentityHarness(
  label: string,
  options: HarnessOptions = {},
): Promise<IdentityHarness> {
  const database = await createTestDatabase(label);
  const db = await openDatabase(testConfig({ DATABASE_URL: database.url }), silentLogger);
  await migrateUp(db);
  const clock = new TestClock();
  const logger = options.logger ?? silentLogger;
  const securityEvents = new SecurityEvents({ logger, counter: options.metrics?.security });
  const keys = randomDataKeys();
  const cipher = new FieldCipher(parseDataKeys(keys.json, keys.kid, keys.index));
  const prefix = `${uniqueName(label)}:`;
  const services: IdentityService[] = [];
  const open = async (): Promise<IdentityService> => {
    const sessions =
      options.sessions === 'redis'
        ? await RedisSessionStore.connect({
            url: redisUrl,
            keyPrefix: prefix,
            logger: silentLogger,
          })
        : new DatabaseSessionStore(db.knex, clock.read);
    const service = new IdentityService({
      knex: db.knex,
      cipher,
      sessions,
      logger,
      events: securityEvents,
      clock: clock.read,
      scryptParams: testScrypt,
      ...(options.settings === undefined ? {} : { settings: options.settings }),
    });
    services.push(service);
    return service;
  };
  const identity = await open();
  const cache = new MemoryCache({ logger: silentLogger });
  const app = createApp({
    logger,
    db,
    cache,
    isShuttingDown: () => false,
    adminToken: testAdminToken,
    identity,
    securityEvents,
    ...(options.metrics === undefined ? {} : { metrics: { collector: options.metrics } }),
  });
  return {
    database,
    db,
    clock,
    cipher,
    identity,
    app,
    another: open,
    close: async () => {
      for (const service of services) await service.close();
      await cache.close();
      await db.close();
      await database.drop();
    },
  };
}

/** Inserts a tenant straight into the database; its id. */
export async function insertTenant(db: Database, slug: string): Promise<string> {
  const [row] = await db
    .knex('tenants')
    .insert({ slug, name: slug })
    .returning<{ id: string }[]>('id');
  return (row as { id: string }).id;
}
