/**
 * Builds the identity service from the configuration: the data keys (configured, or
 * generated into the data folder), the session store (Redis when REDIS_URL is set, else the
 * database), and the service itself. Users from before e-mail encryption are sealed here.
 */
import type { Knex } from 'knex';
import type { Config } from '../../config';
import type { Logger } from '../../logger';
import type { SecurityEventSink } from '../security/events';
import { FieldCipher, loadDataKeys } from './data-keys';
import { sealUnindexedUsers } from './re-encrypt';
import { RedisSessionStore } from './redis-sessions';
import { DatabaseSessionStore, type SessionStore } from './sessions';
import { IdentityService, type IdentitySettings } from './service';

export { IdentityService } from './service';
export type { IdentitySettings, LoginResult, TokenPair } from './service';

/** The identity settings of the configuration. */
export type IdentityConfig = Pick<
  Config,
  | 'dataKeys'
  | 'dataKeyId'
  | 'blindIndexKey'
  | 'dataDir'
  | 'redisUrl'
  | 'redisKeyPrefix'
  | 'accessTokenTtlSeconds'
  | 'sessionTtlSeconds'
  | 'signingKeyRotationDays'
>;

export function identitySettings(config: IdentityConfig): IdentitySettings {
  return {
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    sessionTtlSeconds: config.sessionTtlSeconds,
    signingKeyRotationDays: config.signingKeyRotationDays,
  };
}

/** The field cipher of the configured (or generated) data keys. */
export function openFieldCipher(config: IdentityConfig, logger: Logger): FieldCipher {
  return new FieldCipher(loadDataKeys(config, logger));
}

export interface OpenIdentityOptions {
  readonly config: IdentityConfig;
  readonly knex: Knex;
  readonly logger: Logger;
  readonly clock?: () => number;
  /** Where failed logins, lockouts and the like are reported; by default only logged. */
  readonly events?: SecurityEventSink;
}

export async function openIdentity(options: OpenIdentityOptions): Promise<IdentityService> {
  const { config, knex, logger } = options;
  const cipher = openFieldCipher(config, logger);
  const sealed = await sealUnindexedUsers(knex, cipher);
  if (sealed > 0) logger.info({ users: sealed }, 'encrypted e-mail addresses of existing users');
  const sessions: SessionStore =
    config.redisUrl === undefined
      ? new DatabaseSessionStore(knex, options.clock)
      : await RedisSessionStore.connect({
          url: config.redisUrl,
          keyPrefix: config.redisKeyPrefix,
          logger,
        });
  return new IdentityService({
    knex,
    cipher,
    sessions,
    logger,
    settings: identitySettings(config),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.events === undefined ? {} : { events: options.events }),
  });
}
