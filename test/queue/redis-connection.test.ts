import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import {
  createRedisClient,
  isClusterUrl,
  parseRedisUrl,
  queuePrefix,
  redactUrl,
} from '../../src/queue/redis-connection.js';

describe('parseRedisUrl', () => {
  it('redis:// and rediss:// are one server, passed to ioredis as they are', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379/2')).toEqual({
      kind: 'single',
      url: 'redis://127.0.0.1:6379/2',
    });
    expect(parseRedisUrl('rediss://u:p@h:6380')).toEqual({ kind: 'single', url: 'rediss://u:p@h:6380' });
    expect(isClusterUrl('redis://h:1')).toBe(false);
  });

  it('redis-cluster:// lists the startup nodes; credentials apply to every node', () => {
    expect(parseRedisUrl('redis-cluster://10.0.0.1:7000,10.0.0.2:7001, redis-c.svc:7002')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: 'redis-c.svc', port: 7002 },
      ],
      tls: false,
    });
    expect(parseRedisUrl('rediss-cluster://app:s%40cret@[::1]:7000,h:7001/')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '::1', port: 7000 },
        { host: 'h', port: 7001 },
      ],
      tls: true,
      username: 'app',
      password: 's@cret',
    });
    expect(parseRedisUrl('redis-cluster://:pw@h:7000')).toMatchObject({ password: 'pw' });
    expect(parseRedisUrl('redis-cluster://:pw@h:7000')).not.toHaveProperty('username');
    expect(isClusterUrl('rediss-cluster://h:1')).toBe(true);
  });

  it('rejects what it cannot read, without echoing the password', () => {
    expect(() => parseRedisUrl('http://h:1')).toThrow('expected redis://');
    expect(() => parseRedisUrl('redis-cluster://u:hunter2@h')).toThrow(/"h" is not host:port/);
    expect(() => parseRedisUrl('redis-cluster://u:hunter2@h')).not.toThrow(/hunter2/);
    expect(() => parseRedisUrl('redis-cluster://h:1,h:99999')).toThrow('not host:port');
    expect(redactUrl('redis-cluster://u:hunter2@h:1,h:2')).toBe('redis-cluster://u:***@h:1,h:2');
  });
});

describe('queuePrefix', () => {
  const single = parseRedisUrl('redis://h:1');
  const cluster = parseRedisUrl('redis-cluster://h:1');
  it('is the prefix as given on one Redis (existing keys stay where they are)', () => {
    expect(queuePrefix('tidemark', single)).toBe('tidemark');
  });
  it('is hash-tagged on a cluster, unless it already has a hash tag', () => {
    expect(queuePrefix('tidemark', cluster)).toBe('{tidemark}');
    expect(queuePrefix('{tm}', cluster)).toBe('{tm}');
    expect(queuePrefix('app-{tm}', cluster)).toBe('app-{tm}');
    // An empty tag hashes the whole key: it does not count.
    expect(queuePrefix('a{}b', cluster)).toBe('{a{}b}');
    expect(queuePrefix('a{}b{c}', cluster)).toBe('{a{}b{c}}');
  });
});

describe('createRedisClient', () => {
  it('builds a Redis or a Cluster, commands waiting for a reconnect (maxRetriesPerRequest null)', () => {
    const r = createRedisClient(parseRedisUrl('redis://127.0.0.1:1'), { lazyConnect: true });
    expect(r).toBeInstanceOf(Redis);
    expect((r as Redis).options.maxRetriesPerRequest).toBeNull();
    const c = createRedisClient(parseRedisUrl('redis-cluster://u:p@127.0.0.1:1,127.0.0.1:2'), {
      lazyConnect: true,
      retryStrategy: () => 1,
    });
    expect(c).toBeInstanceOf(Cluster);
    const opts = (c as Cluster).options.redisOptions;
    expect(opts).toMatchObject({
      maxRetriesPerRequest: null,
      username: 'u',
      password: 'p',
      lazyConnect: true,
    });
    expect(opts).not.toHaveProperty('retryStrategy');
    r.disconnect();
    c.disconnect();
  });
});
