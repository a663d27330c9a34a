/**
 * When each (image, tag) was first seen, by webhook or scan: the earliest time wins. Kept for minimum-age
 * rules ("only propose tags older than 1 h"). Memory, or Redis (HSETNX) shared by every process.
 */
import type { Cluster, Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { RegistryClient } from '../registry/types.js';

export interface FirstSeenStore {
  /** Records `at` unless an earlier time is known; returns the earliest time. */
  record(image: string, tag: string, at: number): Promise<number>;
  get(image: string, tag: string): Promise<number | undefined>;
  /** Records many tags of one image at once (a registry scan). */
  recordMany(image: string, tags: readonly string[], at: number): Promise<void>;
}

/** (image, tag) pairs kept in memory at most; past it the least recently used are forgotten. */
export const MAX_FIRST_SEEN = 200_000;

export class MemoryFirstSeen implements FirstSeenStore {
  private readonly seen: LRUCache<string, number>;
  constructor(max = MAX_FIRST_SEEN) {
    this.seen = new LRUCache({ max });
  }
  get size(): number {
    return this.seen.size;
  }
  async record(image: string, tag: string, at: number): Promise<number> {
    const key = `${image}:${tag}`;
    const prev = this.seen.get(key);
    if (prev !== undefined && prev <= at) return prev;
    this.seen.set(key, at);
    return at;
  }
  async get(image: string, tag: string): Promise<number | undefined> {
    return this.seen.get(`${image}:${tag}`);
  }
  async recordMany(image: string, tags: readonly string[], at: number): Promise<void> {
    for (const t of tags) await this.record(image, t, at);
  }
}

export class RedisFirstSeen implements FirstSeenStore {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly key = 'tidemark:first-seen',
  ) {}
  async record(image: string, tag: string, at: number): Promise<number> {
    const field = `${image}:${tag}`;
    await this.redis.hsetnx(this.key, field, String(at));
    return Number(await this.redis.hget(this.key, field));
  }
  async get(image: string, tag: string): Promise<number | undefined> {
    const v = await this.redis.hget(this.key, `${image}:${tag}`);
    return v === null ? undefined : Number(v);
  }
  async recordMany(image: string, tags: readonly string[], at: number): Promise<void> {
    const p = this.redis.pipeline();
    for (const t of tags) p.hsetnx(this.key, `${image}:${t}`, String(at));
    await p.exec();
  }
}

/** A registry client that records every tag it lists as seen now (the earliest time wins). */
export function recordingFirstSeen(
  registry: RegistryClient,
  store: FirstSeenStore,
  now: () => number,
): RegistryClient {
  return {
    async listTags(image, o) {
      const tags = await registry.listTags(image, o);
      await store.recordMany(image, tags, now());
      return tags;
    },
    resolveDigest: (image, tag, o) => registry.resolveDigest(image, tag, o),
    ...(registry.getImageMetadata && { getImageMetadata: registry.getImageMetadata.bind(registry) }),
    ...(registry.getManifest && { getManifest: registry.getManifest.bind(registry) }),
    ...(registry.getBlob && { getBlob: registry.getBlob.bind(registry) }),
    ...(registry.listReferrers && { listReferrers: registry.listReferrers.bind(registry) }),
  };
}
