import { RedisCache } from '../../api/services/cache/redis';
import { silentLogger } from './helpers/services';
it('x', async () => {
  await expect(
    RedisCache.connect({ url: 'redis://127.0.0.1:1', keyPrefix: 'x', logger: silentLogger }),
  ).rejects.toThrow();
});
