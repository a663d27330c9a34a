import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PullSummary } from '../../src/core/plan/publish-plan.js';
import { PullCache } from '../../src/run/run-repo.js';
import { RedisPullGenerations } from '../../src/state/pull-generations.js';
import { type RedisServer, startRedis } from '../support/redis.js';

describe('PullCache', () => {
  it('serves within the TTL, reloads after it or when asked for fresh data', async () => {
    let now = 0;
    let loads = 0;
    const cache = new PullCache(1000, () => now);
    const load = async (): Promise<PullSummary[]> => {
      loads++;
      return [];
    };
    await cache.get('r', false, load);
    await cache.get('r', false, load);
    expect(loads).toBe(1);
    await cache.get('r', true, load);
    expect(loads).toBe(2);
    now = 1000;
    await cache.get('r', false, load);
    expect(loads).toBe(3);
  });

  it('is bounded: the least recently used repos are dropped', async () => {
    const cache = new PullCache(60_000, () => 0, 3);
    for (const r of ['a', 'b', 'c', 'd', 'e']) await cache.get(r, false, async () => []);
    expect(cache.size).toBe(3);
    let reloaded = false;
    await cache.get('a', false, async () => {
      reloaded = true;
      return [];
    });
    expect(reloaded).toBe(true);
  });
});

describe('PullCache across processes (real Redis)', () => {
  let server: RedisServer;
  let client: Redis;
  beforeAll(async () => {
    server = await startRedis();
    client = new Redis(server.url);
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.stop();
  });

  it("a change one process makes is a miss in the other's cache; nothing else is", async () => {
    const generations = new RedisPullGenerations(client, 'test:pulls');
    const worker1 = new PullCache(60_000, () => 0, 100, generations);
    const worker2 = new PullCache(60_000, () => 0, 100, generations);
    const loads = { 1: 0, 2: 0 };
    const load = (w: 1 | 2) => async (): Promise<PullSummary[]> => {
      loads[w]++;
      return [];
    };
    await worker1.get('1/acme/app', false, load(1));
    await worker2.get('1/acme/app', false, load(2));
    await worker2.get('1/acme/other', false, load(2));
    await worker2.get('1/acme/app', false, load(2));
    expect(loads).toEqual({ 1: 1, 2: 2 });
    // Worker 1 opens a PR on acme/app: worker 2's view of acme/app (only) is stale.
    await worker1.invalidate('1/acme/app');
    await worker2.get('1/acme/app', false, load(2));
    await worker2.get('1/acme/other', false, load(2));
    expect(loads).toEqual({ 1: 1, 2: 3 });
    await worker2.get('1/acme/app', false, load(2));
    expect(loads[2]).toBe(3);
  });

  it('Redis unreachable: reads fresh rather than trusting a view that may be stale', async () => {
    const broken = {
      current: async () => {
        throw new Error('connection refused');
      },
      bump: async () => {
        throw new Error('connection refused');
      },
    };
    const cache = new PullCache(60_000, () => 0, 100, broken);
    let loads = 0;
    const load = async (): Promise<PullSummary[]> => {
      loads++;
      return [];
    };
    await cache.get('r', false, load);
    await cache.get('r', false, load);
    await cache.invalidate('r');
    expect(loads).toBe(2);
  });
});
