/**
 * Where Redis is, and the ioredis clients for it: one Redis server, or a Redis Cluster.
 *
 * - `redis://[user:password@]host:port[/db]` (`rediss://` for TLS): one Redis server.
 * - `redis-cluster://[user:password@]host1:port1,host2:port2,…` (`rediss-cluster://` for TLS): a Redis Cluster.
 *   The nodes listed are only where discovery starts; ioredis learns the others from the cluster. The user
 *   and password apply to every node.
 *
 * On a cluster every key of a queue must hash to one slot: BullMQ's Lua scripts and our MULTIs touch several
 * keys at once. `queuePrefix` therefore wraps the prefix in a hash tag (`{tidemark}`), so the whole queue
 * (BullMQ's keys and ours) lives on one node. A prefix that already has a hash tag is kept as it is.
 */
import { Cluster, type ClusterNode, Redis, type RedisOptions } from 'ioredis';

export type RedisTarget =
  | { readonly kind: 'single'; readonly url: string }
  | {
      readonly kind: 'cluster';
      readonly nodes: readonly { readonly host: string; readonly port: number }[];
      readonly tls: boolean;
      readonly username?: string;
      readonly password?: string;
    };

/** Options a caller may add to every connection (TLS details, timeouts, `retryStrategy`). */
export type ExtraRedisOptions = Omit<RedisOptions, 'replyMapping' | 'maxRetriesPerRequest'>;

const CLUSTER_SCHEME = /^(rediss?)-cluster:\/\//;

export function isClusterUrl(url: string): boolean {
  return CLUSTER_SCHEME.test(url);
}

/** Parses a Redis URL (see the module comment). Throws a readable error on a malformed cluster URL. */
export function parseRedisUrl(url: string): RedisTarget {
  const m = CLUSTER_SCHEME.exec(url);
  if (!m) {
    if (!/^rediss?:\/\//.test(url))
      throw new Error(`Redis URL: expected redis://, rediss:// or redis-cluster://`);
    return { kind: 'single', url };
  }
  let rest = url.slice(m[0].length).replace(/\/+$/, '');
  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const auth = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = auth.indexOf(':');
    const user = decodeURIComponent(colon >= 0 ? auth.slice(0, colon) : '');
    const pass = decodeURIComponent(colon >= 0 ? auth.slice(colon + 1) : auth);
    if (user) username = user;
    if (pass) password = pass;
  }
  const nodes = rest.split(',').map((hostPort) => {
    // host:port, or [IPv6]:port
    const n = /^(?:\[([^\]]+)\]|([^:[\]/]+)):(\d{1,5})$/.exec(hostPort.trim());
    const port = Number(n?.[3]);
    if (!n || port < 1 || port > 65535)
      throw new Error(`Redis cluster URL: "${hostPort}" is not host:port (in ${redactUrl(url)})`);
    return { host: (n[1] ?? n[2])!, port };
  });
  return {
    kind: 'cluster',
    nodes,
    tls: m[1] === 'rediss',
    ...(username !== undefined && { username }),
    ...(password !== undefined && { password }),
  };
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^@/]*?:)[^@/]*@/, '$1***@');
}

/**
 * The key prefix of a queue: as given on one Redis; hash-tagged on a cluster, so every key of the queue
 * (and our own keys used in the same MULTI) lands in one slot.
 */
export function queuePrefix(prefix: string, target: RedisTarget): string {
  if (target.kind === 'single' || hasHashTag(prefix)) return prefix;
  return `{${prefix}}`;
}

/** Redis's rule: the text between the first `{` and the first `}` after it, if not empty, is what is hashed. */
function hasHashTag(key: string): boolean {
  const open = key.indexOf('{');
  if (open < 0) return false;
  const close = key.indexOf('}', open + 1);
  return close > open + 1;
}

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
