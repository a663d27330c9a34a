/**
 * Where Redis is: one Redis server, or a Redis Cluster (the URL forms), without loading ioredis — the
 * settings are read by every command, the clients only by those that connect (redis-connection.ts).
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
export type RedisTarget =
  | { readonly kind: 'single'; readonly url: string }
  | {
      readonly kind: 'cluster';
      readonly nodes: readonly { readonly host: string; readonly port: number }[];
      readonly tls: boolean;
      readonly username?: string;
      readonly password?: string;
    };

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
