/**
 * Processes tell each other that a repo's pull requests changed. Every process keeps its own short-lived cache of
 * a repo's open PRs (`PullCache`); with several workers, one that opened a PR would leave the others' caches
 * saying there is none, and their next run would try to open it again (GitHub answers 422 "already exists",
 * adopted, but a wasted attempt). A per-repo generation number in Redis, bumped by whoever writes, makes every
 * cache entry read at an older generation a miss. One process needs none of this.
 */
import type { Cluster, Redis } from 'ioredis';

export interface PullGenerations {
  /** The repo's current generation; a cache entry read at another one is stale. */
  current(repoKey: string): Promise<string>;
  /** The repo's PRs changed: every process's cached view of them is stale. */
  bump(repoKey: string): Promise<void>;
}

/** Generations kept a day after the last change: a cache entry lives minutes. */
const TTL_SECONDS = 24 * 3600;

export class RedisPullGenerations implements PullGenerations {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly prefix: string,
  ) {}
  async current(repoKey: string): Promise<string> {
    return (await this.redis.get(`${this.prefix}:${repoKey}`)) ?? '0';
  }
  async bump(repoKey: string): Promise<void> {
    const key = `${this.prefix}:${repoKey}`;
    await this.redis.incr(key);
    await this.redis.expire(key, TTL_SECONDS);
  }
}
