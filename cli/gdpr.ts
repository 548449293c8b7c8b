/**
 * `verdict gdpr export|erase`: data-subject requests for platform users (the people who log
 * in to Verdict), run against the database like `verdict audit prune` (DATABASE_URL or the
 * embedded one, the server's VERDICT_DATA_KEYS, and REDIS_URL when sessions live in Redis).
 * Whoever can run them holds the database credentials and the data keys. See
 * docs/compliance.md for what is exported and what an erasure leaves.
 */
import type { Command } from 'commander';
import { resolveTenant } from '../api/services/compliance/tenant-ref';
import { eraseSubject, type ErasureReport } from '../api/services/gdpr/erase';
import { exportSubject, type SubjectExport } from '../api/services/gdpr/export';
import { findSubject } from '../api/services/gdpr/subject';
import { openFieldCipher } from '../api/services/identity';
import { RedisSessionStore } from '../api/services/identity/redis-sessions';
import type { SessionStore } from '../api/services/identity/sessions';
import { UserDirectory, type UserRow } from '../api/services/identity/users';
import type { FieldCipher } from '../api/services/identity/data-keys';
import type { Database } from '../api/db/database';
import { AdminCommandError } from './admin-client';
import { runAgainstDatabase, type DatabaseCommandOptions } from './database-command';

export interface GdprOptions extends Pick<DatabaseCommandOptions, 'env'> {
  /** The user's id or e-mail address. */
  user: string;
  /** Tenant slug or id (or `platform`) when an address belongs to users of several tenants. */
  tenant?: string;
  /** Where the JSON goes; stdout unless given. */
  out?: (text: string) => void;
}

export interface EraseCommandOptions extends GdprOptions {
  /** Must be true: an erasure cannot be undone. */
  yes?: boolean;
}

interface Subject {
  readonly db: Database;
  readonly cipher: FieldCipher;
  readonly row: UserRow;
  readonly redisSessions: SessionStore | undefined;
}

async function withSubject<T>(
  options: GdprOptions,
  work: (subject: Subject) => Promise<T>,
): Promise<T> {
  let result: T | undefined;
  await runAgainstDatabase(options, async ({ config, logger, db }) => {
    const cipher = openFieldCipher(config, logger);
    const tenant =
      options.tenant === undefined ? undefined : await resolveTenant(db.knex, options.tenant);
    const row = await findSubject(
      db.knex,
      new UserDirectory(db.knex, cipher),
      options.user,
      tenant,
    );
    const redisSessions =
      config.redisUrl === undefined
        ? undefined
        : await RedisSessionStore.connect({
            url: config.redisUrl,
            keyPrefix: config.redisKeyPrefix,
            logger,
          });
    try {
      result = await work({ db, cipher, row, redisSessions });
    } finally {
      await redisSessions?.close();
    }
  });
  return result as T;
}

function emit(options: GdprOptions, value: unknown): void {
  (options.out ?? ((t: string) => process.stdout.write(t)))(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints everything held about the user as JSON; returns it. */
export async function runGdprExport(options: GdprOptions): Promise<SubjectExport> {
  const exported = await withSubject(options, ({ db, cipher, row, redisSessions }) =>
    exportSubject({ knex: db.knex, cipher, redisSessions }, row),
  );
  emit(options, exported);
  return exported;
}

/** Erases the user's personal data; prints and returns what was removed. */
export async function runGdprErase(options: EraseCommandOptions): Promise<ErasureReport> {
  if (options.yes !== true) {
    throw new AdminCommandError(
      'an erasure cannot be undone: export the data first (`verdict gdpr export`), then pass --yes',
    );
  }
  const report = await withSubject(options, ({ db, cipher, row, redisSessions }) =>
    eraseSubject({ knex: db.knex, cipher, redisSessions, embedded: db.mode === 'embedded' }, row),
  );
  emit(options, report);
  return report;
}

export function register(program: Command): void {
  const gdpr = program
    .command('gdpr')
    .description(
      "Data-subject requests for platform users: export a user's data, or erase it (against the database).",
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ verdict gdpr export --user ann@acme.test --tenant acme > ann.json\n  $ verdict gdpr erase --user 5c1d2f0e-8a4b-4c3d-9e2f-1a2b3c4d5e6f --yes\n',
    );
  gdpr
    .command('export')
    .description('Print everything held about a platform user as JSON.')
    .requiredOption('--user <user>', "the user's id or e-mail address")
    .option('--tenant <tenant>', 'the tenant (or `platform`) when the address is used in several')
    .addHelpText('after', '\nExample:\n  $ verdict gdpr export --user ann@acme.test > ann.json\n')
    .action(async (opts: { user: string; tenant?: string }) => {
      await runGdprExport(opts);
    });
  gdpr
    .command('erase')
    .description(
      "Erase a platform user's personal data; the audit chains stay verifiable (see docs/compliance.md).",
    )
    .requiredOption('--user <user>', "the user's id or e-mail address")
    .option('--tenant <tenant>', 'the tenant (or `platform`) when the address is used in several')
    .option('--yes', 'confirm: the erasure cannot be undone')
    .addHelpText(
      'after',
      '\nExample:\n  $ verdict gdpr erase --user ann@acme.test --tenant acme --yes\n',
    )
    .action(async (opts: { user: string; tenant?: string; yes?: boolean }) => {
      await runGdprErase(opts);
    });
}
