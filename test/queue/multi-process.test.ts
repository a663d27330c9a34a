/**
 * Several worker processes on one Redis: per-repo serialization across processes, every event handled,
 * a worker killed with SIGKILL in the middle of a run (its job is taken over), and a Redis restart.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isRetryable } from '../../src/core/errors.js';
import { BullQueue } from '../../src/queue/bullmq-queue.js';
import type { Spawned } from '../support/process.js';
import { type RedisServer, startRedis } from '../support/redis.js';
import { waitFor } from '../support/wait.js';
import { queueProducer, startQueueWorker } from './workers.js';

const KILL_ROUNDS = Number(process.env.TIDEMARK_KILL_ROUNDS ?? 10);

interface Run {
  pid: number;
  repo: string;
  keys: string[];
}

describe('BullMQ queue across processes', () => {
  let redis: RedisServer;
  let client: Redis;
  let workers: Spawned[] = [];
  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
  });
  afterEach(async () => {
    for (const w of workers) await w.stop(1000);
    workers = [];
    await client.flushall();
  });
  afterAll(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  async function startWorkers(n: number, prefix: string): Promise<void> {
    for (let i = 0; i < n; i++) workers.push(await startQueueWorker(redis.url, prefix, `worker-${i}`));
  }
  const records = async (list: 'starts' | 'runs' | 'overlaps'): Promise<Run[]> =>
    (await client.lrange(list, 0, -1)).map((r) => JSON.parse(r) as Run);

  it('two workers, 50 events over 10 repos: one run per repo, every event once, never two runs of a repo at once', async () => {
    const prefix = `mp-${randomUUID().slice(0, 8)}`;
    await startWorkers(2, prefix);
    // A long settle window: all 50 events wait, then flush() releases them at once.
    const q = queueProducer(redis.url, prefix, 600_000);
    for (let i = 0; i < 50; i++) {
      await q.enqueue({
        repoKey: `repo-${i % 10}`,
        target: `t${i % 10}`,
        reasons: [{ kind: 'registry-push', key: `hold-e${i}` }],
      });
    }
    await q.flush();
    // Every run holds until the gate opens, and a worker runs at most 4 at once: 8 started means both did.
    await waitFor('8 runs holding', async () => (await client.llen('starts')) >= 8);
    expect(new Set((await records('starts')).map((r) => r.pid)).size).toBe(2);
    await client.set('gate:all', '1');
    await waitFor('10 runs finished', async () => (await client.llen('runs')) >= 10);
    await waitFor('the queue to go idle', async () => {
      const s = await q.stats();
      return s.waiting === 0 && s.active === 0;
    });
    const all = await records('runs');
    const handled = all.flatMap((r) => r.keys);
    expect(new Set(handled).size).toBe(50);
    expect(handled).toHaveLength(50); // no event handled twice
    expect(all).toHaveLength(10); // coalesced: one run per repo
    expect(new Set(all.map((r) => r.repo)).size).toBe(10);
    expect(await records('overlaps')).toEqual([]);
    await q.close();
  });

  it('events for a repo arriving during its run on one worker become exactly one more run', async () => {
    const prefix = `mp2-${randomUUID().slice(0, 8)}`;
    await startWorkers(2, prefix);
    const q = queueProducer(redis.url, prefix, 1);
    await q.enqueue({
      repoKey: 'repo-a',
      target: 't',
      reasons: [{ kind: 'registry-push', key: 'hold-first' }],
    });
    await waitFor('the first run to start', async () => (await client.llen('starts')) >= 1);
    for (const key of ['e1', 'e2', 'e3'])
      await q.enqueue({ repoKey: 'repo-a', target: 't', reasons: [{ kind: 'registry-push', key }] });
    await client.set('gate:hold-first', '1');
    await waitFor('two runs', async () => (await client.llen('runs')) >= 2);
    await waitFor('the queue to go idle', async () => {
      const s = await q.stats();
      return s.waiting === 0 && s.active === 0;
    });
    expect((await records('runs')).map((r) => [...r.keys].sort())).toEqual([
      ['hold-first'],
      ['e1', 'e2', 'e3'],
    ]);
    expect(await records('overlaps')).toEqual([]);
    await q.close();
  });

  it(`a worker killed with SIGKILL mid-run: the job is taken over and completes once (${KILL_ROUNDS} rounds)`, async () => {
    const prefix = `kill-${randomUUID().slice(0, 8)}`;
    await startWorkers(2, prefix);
    const q = queueProducer(redis.url, prefix);
    for (let round = 0; round < KILL_ROUNDS; round++) {
      const key = `hold-${round}`;
      await q.enqueue({ repoKey: `repo-k${round}`, target: 't', reasons: [{ kind: 'registry-push', key }] });
      // The run holds until its gate opens, so the victim is killed in the middle of it.
      const victim = await waitFor(
        `run ${key} started`,
        async () => (await records('starts')).find((s) => s.keys.includes(key))?.pid,
      );
      const w = workers.find((x) => x.pid === victim)!;
      process.kill(victim, 'SIGKILL');
      await w.exited;
      workers = workers.filter((x) => x !== w);
      await client.set(`gate:${key}`, '1');
      await waitFor(`${key} completed elsewhere`, async () =>
        (await records('runs')).some((r) => r.keys.includes(key)),
      );
      const done = (await records('runs')).filter((r) => r.keys.includes(key));
      expect(done).toHaveLength(1);
      expect(done[0]!.pid).not.toBe(victim);
      await startWorkers(1, prefix);
    }
    await q.close();
  }, 300_000);

  // This case was skipped for a while: about one run in six of this file it hung. The cause was not the worker's
  // fetching but its close: closing a worker whose blocking connection was still waiting for its reconnect timer
  // parked that ioredis client for good, and BullMQ's close waited for it forever (see `WorkerRedis`).
  // test/queue/redis-restart.test.ts reproduces that deterministically.
  it('Redis restarted during a run: the process reconnects and work completes', async () => {
    const prefix = `rr-${randomUUID().slice(0, 8)}`;
    const q = new BullQueue<string>({
      redisUrl: redis.url,
      prefix,
      settleMs: 20,
      attempts: 5,
      backoffMs: 50,
      concurrency: 1,
      // A job whose lock or completion was lost across the restart is recovered by BullMQ's stalled-job check,
      // as in production; short timings let this test see that recovery within its deadline on a loaded machine.
      lockDurationMs: 2_000,
      stalledIntervalMs: 1_000,
      isRetryable,
    });
    const done: string[] = [];
    let release: () => void = () => {};
    let running = false;
    await q.start(async (job) => {
      // Only the first run holds: a run BullMQ repeats after the restart (a lost lock) must not hold forever.
      if (job.reasons.some((r) => r.key === 'during') && !running) {
        await new Promise<void>((r) => {
          release = r;
          running = true;
        });
      }
      done.push(...job.reasons.map((r) => r.key!));
    });
    await q.enqueue({ repoKey: 'r1', target: 't', reasons: [{ kind: 'manual', key: 'during' }] });
    await waitFor('the run to start', () => running);
    await redis.restart();
    release();
    await waitFor('the interrupted run to finish', () => done.includes('during'));
    await waitFor('reconnection', () => q.ping());
    await q.enqueue({ repoKey: 'r2', target: 't', reasons: [{ kind: 'manual', key: 'after' }] });
    await waitFor('work after the restart', () => done.includes('after'));
    await q.close({ deadlineMs: 2000 });
  });
});
