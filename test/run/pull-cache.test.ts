import { describe, expect, it } from 'vitest';
import type { PullSummary } from '../../src/core/plan/publish-plan.js';
import { PullCache } from '../../src/run/run-repo.js';

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
