/**
 * `verdict keys rotate-signing-key|rotate-data-key`: the keys behind user logins, run against
 * the database like `verdict migrate` (DATABASE_URL, or the embedded one in VERDICT_DATA_DIR,
 * with the same VERDICT_DATA_KEYS the server uses).
 *
 * - rotate-signing-key: a new Ed25519 key signs access tokens from now on; the old one
 *   verifies until the tokens it signed have expired. Servers pick the new key up within a
 *   minute.
 * - rotate-data-key: after VERDICT_DATA_KEY_ID names a new key (the old one still in
 *   VERDICT_DATA_KEYS), re-encrypts every encrypted value under it and recomputes e-mail blind
 *   indexes; the old key may be removed afterwards.
 */
import type { Command } from 'commander';
import { identitySettings, openFieldCipher } from '../api/services/identity';
import { reEncryptAll } from '../api/services/identity/re-encrypt';
import { SigningKeys } from '../api/services/identity/signing-keys';
import { SecurityEvents } from '../api/services/security/events';
import { commandGroup } from './command-group';
import { runAgainstDatabase, type DatabaseCommandOptions } from './database-command';

export type KeyRotation = 'signing' | 'data';

/** Rotates the signing key or re-encrypts under the active data key; the lines printed. */
export function runKeyRotation(
  kind: KeyRotation,
  options: DatabaseCommandOptions = {},
): Promise<string[]> {
  return runAgainstDatabase(options, async ({ config, logger, db, print }) => {
    const cipher = openFieldCipher(config, logger);
    // Logged as security events on stderr; counted only by servers, which this is not.
    const events = new SecurityEvents({ logger });
    if (kind === 'signing') {
      const settings = identitySettings(config);
      const keys = new SigningKeys({
        knex: db.knex,
        cipher,
        tokenTtlMs: settings.accessTokenTtlSeconds * 1000,
        rotationIntervalMs: settings.signingKeyRotationDays * 24 * 3600_000,
        onRotated: (kid, trigger) => {
          events.record({ type: 'signing_key_rotated', actor: 'cli', details: { kid, trigger } });
        },
      });
      const kid = await keys.rotate();
      print(
        `new signing key ${kid}; earlier keys verify the tokens they signed for ${settings.accessTokenTtlSeconds} s more`,
      );
      return;
    }
    let rewritten = 0;
    for (const report of await reEncryptAll(db.knex, cipher)) {
      rewritten += report.rewritten;
      print(
        `${report.column}: ${report.rewritten} of ${report.scanned} re-encrypted under ${cipher.activeKeyId}`,
      );
    }
    events.record({
      type: 'data_key_rotated',
      actor: 'cli',
      details: { keyId: cipher.activeKeyId, rewritten },
    });
  });
}

export function register(program: Command): void {
  const keys = commandGroup(program, 'keys');
  keys
    .command('rotate-signing-key')
    .description('Start signing access tokens with a new key (against the database).')
    .addHelpText(
      'after',
      "\nExample:\n  $ verdict keys rotate-signing-key     # with the server's DATABASE_URL and VERDICT_DATA_KEYS\n",
    )
    .action(async () => {
      await runKeyRotation('signing');
    });
  keys
    .command('rotate-data-key')
    .description(
      'Re-encrypt personal data and secrets under VERDICT_DATA_KEY_ID (against the database).',
    )
    .addHelpText(
      'after',
      '\nExample:\n  $ verdict keys rotate-data-key     # VERDICT_DATA_KEYS holds old and new key, VERDICT_DATA_KEY_ID names the new\n',
    )
    .action(async () => {
      await runKeyRotation('data');
    });
}
