/**
 * The job queue contract, run against every implementation: memory, BullMQ on one real Redis, and BullMQ on a
 * real three-node Redis Cluster (each test's queue has its own prefix, so the tests land on different nodes).
 * Nothing here
 * depends on timing: settle windows are ended with `flush()`, handlers finish when the test opens their gate,
 * and absence is proven only after the queue reports it has processed everything (idle).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, isRetryable, RegistryUnavailableError } from '../../src/core/errors.js';
import { BullQueue } from '../../src/queue/bullmq-queue.js';
import { MemoryQueue } from '../../src/queue/memory-queue.js';
import type { JobQueue, QueueOptions, RepoJob } from '../../src/queue/types.js';
import { type RedisServer, startRedis } from '../support/redis.js';
import { type RedisClusterServer, startRedisCluster } from '../support/redis-cluster.js';
import { gate, waitFor } from '../support/wait.js';

const opts = (o: Partial<QueueOptions<string>> = {}): QueueOptions<string> => ({
  settleMs: 60_000,
  attempts: 3,
  backoffMs: 10,
  concurrency: 4,
  isRetryable,
  ...o,
});
const job = (repo: string, reason: string): RepoJob<string> => ({
  repoKey: repo,
  target: repo,
  reasons: [{ kind: 'registry-push', key: reason }],
});

/** Resolves when nothing waits or runs and `completed + failed` reached `settled`. */
async function idle(q: JobQueue<string>, settled: number): Promise<void> {
  await waitFor(`the queue to settle ${settled} job(s) and go idle`, async () => {
    const s = await q.stats();
    return s.waiting === 0 && s.active === 0 && s.completed + s.failed >= settled;
  });
}

let redis: RedisServer;
let cluster: RedisClusterServer;
beforeAll(async () => {
  [redis, cluster] = await Promise.all([startRedis(), startRedisCluster()]);
});
afterAll(async () => {
  await Promise.all([redis?.stop(), cluster?.stop()]);
});

type Factory = (o: QueueOptions<string>) => JobQueue<string>;
const implementations: [string, Factory][] = [
  ['memory', (o) => new MemoryQueue<string>(o)],
  [
    'bullmq',
    (o) => new BullQueue<string>({ ...o, redisUrl: redis.url, prefix: `t-${randomUUID().slice(0, 8)}` }),
  ],
  [
    'bullmq on a redis cluster',
    (o) => new BullQueue<string>({ ...o, redisUrl: cluster.url, prefix: `t-${randomUUID().slice(0, 8)}` }),
  ],
];

describe.each(implementations)('%s queue (same contract)', (_name, make) => {
  it('events for one repo waiting in the settle window become one run, identical reasons merged', async () => {
    const q = make(opts());
    const runs: string[][] = [];
    await q.start(async (j) => {
      runs.push(j.reasons.map((r) => r.key!));
    });
    for (const r of ['a', 'b', 'a', 'c']) await q.enqueue(job('repo1', r));
    expect((await q.stats()).waiting).toBe(1);
    await q.flush();
    await idle(q, 1);
    expect(runs).toEqual([['a', 'b', 'c']]);
    await q.close();
  });

  it('runs one job per repo at a time; events arriving during a run merge into exactly one more run', async () => {
    const q = make(opts({ settleMs: 5 }));
    let active = 0;
    let maxActive = 0;
    const release = gate();
    const runs: string[][] = [];
    await q.start(async (j) => {
      active++;
      maxActive = Math.max(maxActive, active);
      const keys = j.reasons.map((r) => r.key!).sort();
      if (keys.includes('first')) await release.promise;
      runs.push(keys);
      active--;
    });
    await q.enqueue(job('repo1', 'first'));
    await waitFor('the first run to start', () => active === 1);
    for (const r of ['x', 'y', 'z']) await q.enqueue(job('repo1', r));
    release.open();
    await idle(q, 2);
    expect(runs).toEqual([['first'], ['x', 'y', 'z']]);
    expect(maxActive).toBe(1);
    await q.close();
  });

  it('different repos run in parallel, never more than the concurrency at once', async () => {
    const q = make(opts({ settleMs: 1, concurrency: 2 }));
    let active = 0;
    let maxActive = 0;
    const release = gate();
    await q.start(async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      await release.promise;
      active--;
    });
    for (const r of ['r1', 'r2', 'r3', 'r4']) await q.enqueue(job(r, 'e'));
    await waitFor('two runs at once', () => active === 2);
    release.open();
    await idle(q, 4);
    expect(maxActive).toBe(2);
    await q.close();
  });

  it('retries transient failures with backoff, then succeeds', async () => {
    const failed: boolean[] = [];
    const q = make(opts({ settleMs: 1, onFailed: (_j, _e, final) => failed.push(final) }));
    const attempts: number[] = [];
    await q.start(async (_j, ctx) => {
      attempts.push(ctx.attempt);
      if (ctx.attempt < 3) throw new RegistryUnavailableError('registry down');
    });
    await q.enqueue(job('repo1', 'e'));
    await idle(q, 1);
    expect(attempts).toEqual([1, 2, 3]);
    expect(failed).toEqual([false, false]);
    expect(await q.stats()).toMatchObject({ completed: 1, failed: 0 });
    await q.close();
  });

  it('never retries a configuration error, and reports it as final', async () => {
    const failed: boolean[] = [];
    const q = make(opts({ settleMs: 1, onFailed: (_j, _e, final) => failed.push(final) }));
    let calls = 0;
    await q.start(async () => {
      calls++;
      throw new ConfigError('bad policy');
    });
    await q.enqueue(job('repo1', 'e'));
    await idle(q, 1);
    expect(calls).toBe(1);
    expect(failed).toEqual([true]);
    expect(await q.stats()).toMatchObject({ completed: 0, failed: 1 });
    await q.close();
  });

  it('close() waits for a running job to finish', async () => {
    const q = make(opts({ settleMs: 1 }));
    const release = gate();
    let started = false;
    let finished = false;
    let aborted = false;
    await q.start(async (_j, ctx) => {
      started = true;
      ctx.signal.addEventListener('abort', () => {
        aborted = true;
      });
      await release.promise;
      finished = true;
    });
    await q.enqueue(job('repo1', 'e'));
    await waitFor('the run to start', () => started);
    const closing = q.close({ deadlineMs: 60_000 });
    release.open();
    await closing;
    expect(finished).toBe(true);
    expect(aborted).toBe(false);
    await expect(q.enqueue(job('repo1', 'f'))).rejects.toThrow('closed');
  });

  it('close() aborts a running job past the deadline', async () => {
    const q = make(opts({ settleMs: 1 }));
    let started = false;
    let aborted = false;
    await q.start(
      (_j, ctx) =>
        new Promise<void>((resolve) => {
          started = true;
          // This handler ends only when aborted.
          ctx.signal.addEventListener('abort', () => {
            aborted = true;
            resolve();
          });
        }),
    );
    await q.enqueue(job('repo1', 'e'));
    await waitFor('the run to start', () => started);
    await q.close({ deadlineMs: 50 });
    expect(aborted).toBe(true);
  });
});
