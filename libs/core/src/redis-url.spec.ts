import { loadConfig } from './config';
import { redisConnectionOf } from './redis-url';

describe('redisConnectionOf (REDIS_URL)', () => {
  it('reads host, port, credentials, database, TLS and the IP family from redis:// and rediss://', () => {
    expect(redisConnectionOf('redis://127.0.0.1:6390')).toEqual({ host: '127.0.0.1', port: 6390, username: undefined, password: undefined, db: 0, tls: undefined });
    expect(redisConnectionOf('rediss://user:p%40ss+x@cache.internal/3')).toEqual({ host: 'cache.internal', port: 6379, username: 'user', password: 'p@ss+x', db: 3, tls: {} });
    expect(redisConnectionOf('redis://:secret@[::1]:7000/0?family=6')).toMatchObject({ host: '::1', port: 7000, password: 'secret', db: 0, family: 6 });
  });

  it('reads a Unix socket path, with database and credentials as query parameters (a + stays a +)', () => {
    expect(redisConnectionOf('unix:///var/run/redis/redis.sock')).toEqual({ path: '/var/run/redis/redis.sock', username: undefined, password: undefined, db: 0 });
    expect(redisConnectionOf('unix:///tmp/r%20x.sock?db=2&password=s3c+r%26t&username=gw')).toEqual({ path: '/tmp/r x.sock', username: 'gw', password: 's3c+r&t', db: 2 });
  });

  it.each([
    ['unix://relative.sock', 'unix:///absolute/path'],
    ['unix:///', 'unix:///absolute/path'],
    ['unix:///run/', 'unix:///absolute/path'],
    ['redis://host/x', 'database must be a non-negative integer'],
    ['unix:///tmp/r.sock?db=-1', 'database must be a non-negative integer'],
    ['redis://host?family=5', 'family must be 4 or 6'],
    ['redis://host?tls=true', 'unknown parameter "tls"'],
    ['unix:///tmp/r.sock?family=4', 'unknown parameter "family"'],
    ['http://host:6379', 'unsupported scheme'],
    ['127.0.0.1:6379', 'not a URL'],
    ['unix:relative.sock', 'unix:///absolute/path'],
    ['not a url', 'not a URL'],
  ])('refuses %s', (url, problem) => {
    expect(() => redisConnectionOf(url)).toThrow(problem);
  });

  it('is what the configuration accepts, a bad URL refused at load time with the reason', () => {
    expect(loadConfig({ REDIS_URL: 'unix:///run/redis.sock' }).REDIS_URL).toBe('unix:///run/redis.sock');
    expect(() => loadConfig({ REDIS_URL: 'unix:run/redis.sock' })).toThrow('REDIS_URL');
    expect(() => loadConfig({ REDIS_URL: 'redis://host/abc' })).toThrow('database must be a non-negative integer');
  });
});
