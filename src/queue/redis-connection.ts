/**
 * The ioredis clients for where Redis is (`redis-url.ts`: one Redis server, or a Redis Cluster).
 */
import { Cluster, type ClusterNode, Redis, type RedisOptions } from 'ioredis';
import type { RedisTarget } from './redis-url.js';

export * from './redis-url.js';

/** Options a caller may add to every connection (TLS details, timeouts, `retryStrategy`). */
export type ExtraRedisOptions = Omit<RedisOptions, 'replyMapping' | 'maxRetriesPerRequest'>;

/**
 * A client for commands. `maxRetriesPerRequest: null`: a command waits for the reconnect instead of failing
 * after 20 retries (BullMQ requires it for its connections). `Standalone` lets the worker pass its own
 * Redis subclass (see `WorkerRedis`).
 */
export function createRedisClient(
  target: RedisTarget,
  extra: ExtraRedisOptions = {},
  Standalone: new (url: string, options: RedisOptions & { replyMapping?: 'legacy' }) => Redis = Redis,
): Redis | Cluster {
  if (target.kind === 'single') return new Standalone(target.url, { ...extra, maxRetriesPerRequest: null });
  // Per-node options: the cluster owns host/port, reconnects and the offline queue.
  const {
    retryStrategy: _r,
    enableOfflineQueue: _o,
    readOnly: _ro,
    port: _p,
    host: _h,
    path: _pa,
    sentinels: _s,
    ...nodeOptions
  } = extra as RedisOptions;
  const nodes: ClusterNode[] = target.nodes.map((n) => ({ host: n.host, port: n.port }));
  return new Cluster(nodes, {
    redisOptions: {
      ...nodeOptions,
      ...(target.username !== undefined && { username: target.username }),
      ...(target.password !== undefined && { password: target.password }),
      ...(target.tls && { tls: nodeOptions.tls ?? {} }),
      maxRetriesPerRequest: null,
    },
  });
}

/** True when the client can run a command now (a Cluster reports `connect` before its ready check). */
export function isLive(client: Redis | Cluster): boolean {
  return client.status === 'ready' || (client instanceof Cluster && client.status === 'connect');
}
