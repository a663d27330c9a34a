/** The routing table's contract, for the memory index and the Redis one (a real redis-server). */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RepoTarget } from '../../src/core/domain/types.js';
import { MemoryPolicyIndex, type PolicyIndex, RedisPolicyIndex } from '../../src/state/policy-index.js';
import { type RedisServer, startRedis } from '../support/redis.js';

const repo = (installationId: number, name: string): RepoTarget => ({
  installationId,
  owner: 'acme',
  repo: name,
  cloneUrl: `https://github.com/acme/${name}.git`,
  defaultBranch: 'main',
});
const names = (ts: RepoTarget[]) => ts.map((t) => `${t.installationId}/${t.repo}`).sort();

let server: RedisServer;
let client: Redis;
let n = 0;
beforeAll(async () => {
  server = await startRedis();
  client = new Redis(server.url);
});
afterAll(async () => {
  client?.disconnect();
  await server?.stop();
});

describe.each([
  ['memory', () => new MemoryPolicyIndex() as PolicyIndex],
  ['redis', () => new RedisPolicyIndex(client, `test:index:${++n}`) as PolicyIndex],
])('PolicyIndex (%s)', (_name, make) => {
  it('routes an image to the repos whose policies watch it, and forgets what a repo no longer watches', async () => {
    const index = make();
    await index.setRepo(repo(1, 'a'), ['ghcr.io/acme/web', 'ghcr.io/acme/api']);
    await index.setRepo(repo(1, 'b'), ['ghcr.io/acme/web']);
    expect(names(await index.reposForImage('ghcr.io/acme/web'))).toEqual(['1/a', '1/b']);
    await index.setRepo(repo(1, 'a'), ['ghcr.io/acme/api']);
    expect(names(await index.reposForImage('ghcr.io/acme/web'))).toEqual(['1/b']);
    expect(names(await index.reposForImage('ghcr.io/acme/api'))).toEqual(['1/a']);
    expect(names(await index.reposForImage('ghcr.io/acme/nope'))).toEqual([]);
  });

  it('removes a repo, and every repo of an installation', async () => {
    const index = make();
    await index.setRepo(repo(1, 'a'), ['x']);
    await index.setRepo(repo(1, 'b'), ['x']);
    await index.setRepo(repo(2, 'c'), ['x']);
    await index.removeRepo('1/acme/a');
    expect(names(await index.allRepos())).toEqual(['1/b', '2/c']);
    await index.removeInstallation(1);
    expect(names(await index.allRepos())).toEqual(['2/c']);
    expect(names(await index.reposForImage('x'))).toEqual(['2/c']);
  });
});

describe('first-seen times in memory', () => {
  it('are bounded: a flood of (image, tag) pairs keeps at most the limit', async () => {
    const { MemoryFirstSeen } = await import('../../src/state/first-seen.js');
    const store = new MemoryFirstSeen(100);
    await store.recordMany(
      'ghcr.io/acme/flood',
      Array.from({ length: 1000 }, (_, i) => `t${i}`),
      1,
    );
    expect(store.size).toBe(100);
    expect(await store.record('ghcr.io/acme/flood', 't999', 5)).toBe(1); // the earliest time still wins
  });
});
