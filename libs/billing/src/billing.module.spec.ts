import { loadConfig } from '@gw/core';
import { bullConnection } from './billing.module';

describe('bullConnection (BullMQ reaches the Redis REDIS_URL names)', () => {
  it('over TCP, with credentials, database and TLS, and no per-request retry cap (BullMQ requires it)', () => {
    expect(bullConnection(loadConfig({ REDIS_URL: 'rediss://gw:p%40ss@cache.internal:6380/2' }))).toEqual({
      host: 'cache.internal', port: 6380, username: 'gw', password: 'p@ss', db: 2, tls: {}, maxRetriesPerRequest: null,
    });
  });

  it('over a Unix socket', () => {
    expect(bullConnection(loadConfig({ REDIS_URL: 'unix:///run/redis/redis.sock?db=1' }))).toEqual({
      path: '/run/redis/redis.sock', username: undefined, password: undefined, db: 1, maxRetriesPerRequest: null,
    });
  });
});
