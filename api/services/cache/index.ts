/** Picks the cache adapter from the configuration: Redis when REDIS_URL is set. */
import type { Config } from '../../config';
import type { Logger } from '../../logger';
import { MemoryCache } from './memory';
import { RedisCache } from './redis';
import type { CacheStore } from './types';

export type { CacheStore, MessageListener, Unsubscribe } from './types';

export async function openCache(config: Config, logger: Logger): Promise<CacheStore> {
  if (config.redisUrl === undefined) return new MemoryCache({ logger });
  return RedisCache.connect({
    url: config.redisUrl,
    keyPrefix: config.redisKeyPrefix,
    logger,
    commandTimeoutMs: config.redisTimeoutMs,
    breaker: { failureThreshold: config.breakerFailures, openMs: config.breakerOpenMs },
  });
}
