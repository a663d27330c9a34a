/**
 * The routing table: which repos watch which image. Rebuilt by every reconcile run (which reads the repo's
 * policies anyway), so it is a cache: losing it loses nothing, the periodic reconcile fills it again.
 */
import type { Cluster, Redis } from 'ioredis';

import { type RepoTarget, repoKeyOf } from '../core/domain/types.js';

export { type RepoTarget, repoKeyOf };

export interface PolicyIndex {
  /** Record the repo and the canonical images its policies watch (replacing what was there). */
  setRepo(target: RepoTarget, images: readonly string[]): Promise<void>;
  removeRepo(key: string): Promise<void>;
  removeInstallation(installationId: number): Promise<void>;
  reposForImage(image: string): Promise<RepoTarget[]>;
  allRepos(): Promise<RepoTarget[]>;
}

export class MemoryPolicyIndex implements PolicyIndex {
  private readonly repos = new Map<string, { target: RepoTarget; images: readonly string[] }>();

  async setRepo(target: RepoTarget, images: readonly string[]): Promise<void> {
    this.repos.set(repoKeyOf(target), { target, images: [...new Set(images)] });
  }
  async removeRepo(key: string): Promise<void> {
    this.repos.delete(key);
  }
  async removeInstallation(installationId: number): Promise<void> {
    for (const [k, v] of this.repos) if (v.target.installationId === installationId) this.repos.delete(k);
  }
  async reposForImage(image: string): Promise<RepoTarget[]> {
    return [...this.repos.values()].filter((r) => r.images.includes(image)).map((r) => r.target);
  }
  async allRepos(): Promise<RepoTarget[]> {
    return [...this.repos.values()].map((r) => r.target);
  }
}

/** Shared by every replica: `<prefix>:repo:<key>` (JSON), `<prefix>:image:<image>` (set of keys), `<prefix>:repos`. */
export class RedisPolicyIndex implements PolicyIndex {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly prefix = 'tidemark:index',
  ) {}

  private k(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }

  async setRepo(target: RepoTarget, images: readonly string[]): Promise<void> {
    const key = repoKeyOf(target);
    const prev = await this.redis.get(this.k('repo', key));
    const oldImages: string[] = prev ? ((JSON.parse(prev) as { images: string[] }).images ?? []) : [];
    const tx = this.redis.multi();
    for (const img of oldImages) if (!images.includes(img)) tx.srem(this.k('image', img), key);
    for (const img of images) tx.sadd(this.k('image', img), key);
    tx.set(this.k('repo', key), JSON.stringify({ target, images: [...new Set(images)] }));
    tx.sadd(this.k('repos'), key);
    await tx.exec();
  }

  async removeRepo(key: string): Promise<void> {
    const prev = await this.redis.get(this.k('repo', key));
    const tx = this.redis.multi();
    if (prev)
      for (const img of (JSON.parse(prev) as { images: string[] }).images) tx.srem(this.k('image', img), key);
    tx.del(this.k('repo', key));
    tx.srem(this.k('repos'), key);
    await tx.exec();
  }

  async removeInstallation(installationId: number): Promise<void> {
    for (const t of await this.allRepos())
      if (t.installationId === installationId) await this.removeRepo(repoKeyOf(t));
  }

  private async targets(keys: string[]): Promise<RepoTarget[]> {
    if (keys.length === 0) return [];
    const values = await this.redis.mget(...keys.map((k) => this.k('repo', k)));
    return values.flatMap((v) => (v ? [(JSON.parse(v) as { target: RepoTarget }).target] : []));
  }

  async reposForImage(image: string): Promise<RepoTarget[]> {
    return this.targets(await this.redis.smembers(this.k('image', image)));
  }

  async allRepos(): Promise<RepoTarget[]> {
    return this.targets(await this.redis.smembers(this.k('repos')));
  }
}
