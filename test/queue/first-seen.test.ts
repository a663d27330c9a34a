import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FirstSeenStore, MemoryFirstSeen, RedisFirstSeen } from '../../src/state/first-seen.js';
import { type RedisServer, startRedis } from '../support/redis.js';

let redis: RedisServer;
let client: Redis;
beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
});
afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

describe.each([
  ['memory', () => new MemoryFirstSeen()],
  ['redis', () => new RedisFirstSeen(client, `fs-${Math.random()}`)],
] as [string, () => FirstSeenStore][])('%s first-seen store', (_n, make) => {
  it('keeps the first time an (image, tag) was seen', async () => {
    const s = make();
    expect(await s.get('ghcr.io/acme/web', '1.0.0')).toBeUndefined();
    expect(await s.record('ghcr.io/acme/web', '1.0.0', 1000)).toBe(1000);
    expect(await s.record('ghcr.io/acme/web', '1.0.0', 5000)).toBe(1000);
    expect(await s.record('ghcr.io/acme/web', '1.1.0', 7000)).toBe(7000);
    expect(await s.get('ghcr.io/acme/web', '1.0.0')).toBe(1000);
    await s.recordMany('ghcr.io/acme/web', ['1.0.0', '2.0.0'], 9000);
    expect(await s.get('ghcr.io/acme/web', '1.0.0')).toBe(1000);
    expect(await s.get('ghcr.io/acme/web', '2.0.0')).toBe(9000);
  });
});
