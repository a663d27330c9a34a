import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, isRetryable, RegistryUnavailableError } from '../../src/errors.js';
import { BullQueue } from '../../src/queue/bullmq-queue.js';
import { MemoryQueue } from '../../src/queue/memory-queue.js';
import type { JobQueue, QueueOptions, RepoJob } from '../../src/queue/types.js';
import { type RedisServer, startRedis } from '../support/redis.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const opts = (o: Partial<QueueOptions<string>> = {}): QueueOptions<string> => ({
  settleMs: 40,
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

async function until(pred: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(5);
  }
}

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

type Factory = (o: QueueOptions<string>) => JobQueue<string>;
const implementations: [string, Factory][] = [
  ['memory', (o) => new MemoryQueue<string>(o)],
  [
    'bullmq',
    (o) => new BullQueue<string>({ ...o, redisUrl: redis.url, prefix: `t-${randomUUID().slice(0, 8)}` }),
  ],
];

describe.each(implementations)('%s queue (same contract)', (_name, make) => {
  it('coalesces events for one repo within the settle window, merging identical reasons', async () => {
    const q = make(opts());
    const runs: string[][] = [];
    await q.start(async (j) => {
      runs.push(j.reasons.map((r) => r.key!));
    });
    for (const r of ['a', 'b', 'a', 'c']) await q.enqueue(job('repo1', r));
    await until(() => runs.length === 1);
    await sleep(80);
    expect(runs).toEqual([['a', 'b', 'c']]);
    await q.close();
  });

  it('runs one job per repo at a time; work arriving meanwhile runs once, after', async () => {
    const q = make(opts({ settleMs: 5 }));
    let active = 0;
    let maxActive = 0;
    let started = false;
    const runs: string[][] = [];
    await q.start(async (j) => {
      started = true;
      active++;
      maxActive = Math.max(maxActive, active);
      await sleep(150);
      runs.push(j.reasons.map((r) => r.key!).sort());
      active--;
    });
    await q.enqueue(job('repo1', 'first'));
    await until(() => started);
    for (const r of ['x', 'y', 'z']) await q.enqueue(job('repo1', r));
    await until(() => runs.length === 2);
    await sleep(100);
    expect(runs).toEqual([['first'], ['x', 'y', 'z']]);
    expect(maxActive).toBe(1);
    await q.close();
  });

  it('different repos run in parallel up to the concurrency', async () => {
    const q = make(opts({ settleMs: 1, concurrency: 2 }));
    let active = 0;
    let maxActive = 0;
    let done = 0;
    await q.start(async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      await sleep(40);
      active--;
      done++;
    });
    for (const r of ['r1', 'r2', 'r3', 'r4']) await q.enqueue(job(r, 'e'));
    await until(() => done === 4);
    expect(maxActive).toBe(2);
    await q.close();
  });

  it('retries transient failures with backoff, then succeeds', async () => {
    const failed: boolean[] = [];
    const q = make(opts({ onFailed: (_j, _e, final) => failed.push(final) }));
    const attempts: number[] = [];
    await q.start(async (_j, ctx) => {
      attempts.push(ctx.attempt);
      if (ctx.attempt < 3) throw new RegistryUnavailableError('registry down');
    });
    await q.enqueue(job('repo1', 'e'));
    await until(() => attempts.length === 3);
    await sleep(30);
    expect(attempts).toEqual([1, 2, 3]);
    expect(failed).toEqual([false, false]);
    expect((await q.stats()).completed).toBe(1);
    await q.close();
  });

  it('never retries a configuration error, and reports it as final', async () => {
    const failed: boolean[] = [];
    const q = make(opts({ onFailed: (_j, _e, final) => failed.push(final) }));
    let calls = 0;
    await q.start(async () => {
      calls++;
      throw new ConfigError('bad policy');
    });
    await q.enqueue(job('repo1', 'e'));
    await until(() => failed.length === 1);
    await sleep(60);
    expect(calls).toBe(1);
    expect(failed).toEqual([true]);
    await q.close();
  });

  it('close() waits for a running job, and aborts it past the deadline', async () => {
    const q = make(opts({ settleMs: 1 }));
    let finished = false;
    let aborted = false;
    await q.start(async (_j, ctx) => {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          finished = true;
          resolve();
        }, 50);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(t);
          aborted = true;
          resolve();
        });
      });
    });
    await q.enqueue(job('repo1', 'e'));
    await sleep(15);
    await q.close({ deadlineMs: 1000 });
    expect(finished).toBe(true);
    const q2 = make(opts({ settleMs: 1 }));
    finished = false;
    await q2.start(async (_j, ctx) => {
      await new Promise<void>((resolve) => {
        ctx.signal.addEventListener('abort', () => {
          aborted = true;
          resolve();
        });
      });
    });
    await q2.enqueue(job('repo1', 'e'));
    await sleep(15);
    await q2.close({ deadlineMs: 30 });
    expect(aborted).toBe(true);
    await expect(q2.enqueue(job('repo1', 'f'))).rejects.toThrow('closed');
  });
});
