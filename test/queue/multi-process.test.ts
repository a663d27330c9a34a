/**
 * Several worker processes on one Redis: per-repo serialization across processes, every event handled,
 * a worker killed with SIGKILL in the middle of a run (its job is taken over), and a Redis restart.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isRetryable } from '../../src/errors.js';
import { BullQueue } from '../../src/queue/bullmq-queue.js';
import type { Spawned } from '../support/process.js';
import { type RedisServer, startRedis } from '../support/redis.js';
import { queueProducer, startQueueWorker } from './workers.js';

const KILL_ROUNDS = Number(process.env.TIDEMARK_KILL_ROUNDS ?? 10);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Run {
  pid: number;
  repo: string;
  keys: string[];
  start: number;
  end: number;
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
    for (let i = 0; i < n; i++)
      workers.push(await startQueueWorker(redis.url, prefix, `worker-${i}`, { SLOW_MS: '1500' }));
  }
  const producer = (prefix: string) => queueProducer(redis.url, prefix);
  const runs = async (): Promise<Run[]> =>
    (await client.lrange('runs', 0, -1)).map((r) => JSON.parse(r) as Run);
  async function until(pred: () => Promise<boolean>, ms: number, what: string) {
    const end = Date.now() + ms;
    while (!(await pred())) {
      if (Date.now() > end) throw new Error(`timed out: ${what}`);
      await sleep(50);
    }
  }

  it('two workers, 50 events over 10 repos: every event handled once per run set, never two runs of a repo at once', async () => {
    const prefix = `mp-${randomUUID().slice(0, 8)}`;
    await startWorkers(2, prefix);
    const q = producer(prefix);
    for (let i = 0; i < 50; i++) {
      await q.enqueue({
        repoKey: `repo-${i % 10}`,
        target: `t${i % 10}`,
        reasons: [{ kind: 'registry-push', key: `e${i}` }],
      });
      await sleep(5);
    }
    await until(
      async () => new Set((await runs()).flatMap((r) => r.keys)).size === 50,
      30_000,
      'all 50 events handled',
    );
    await sleep(500);
    const all = await runs();
    const handled = all.flatMap((r) => r.keys);
    expect(new Set(handled).size).toBe(50);
    expect(handled.length).toBe(50); // no event handled twice
    expect(new Set(all.map((r) => r.pid)).size).toBe(2); // both processes worked
    for (let repo = 0; repo < 10; repo++) {
      const mine = all.filter((r) => r.repo === `repo-${repo}`).sort((a, b) => a.start - b.start);
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.start).toBeGreaterThanOrEqual(mine[i - 1]!.end);
    }
    expect(all.length).toBeLessThan(50); // coalesced
    await q.close();
  });

  it(`a worker killed with SIGKILL mid-run: the job is taken over and completes (${KILL_ROUNDS} rounds)`, async () => {
    const prefix = `kill-${randomUUID().slice(0, 8)}`;
    await startWorkers(2, prefix);
    const q = producer(prefix);
    for (let round = 0; round < KILL_ROUNDS; round++) {
      const key = `slow-${round}`;
      await q.enqueue({ repoKey: `repo-k${round}`, target: 't', reasons: [{ kind: 'registry-push', key }] });
      let victim: number | undefined;
      await until(
        async () => {
          const started = (await client.lrange('starts', 0, -1)).map(
            (s) => JSON.parse(s) as { pid: number; keys: string[] },
          );
          victim = started.find((s) => s.keys.includes(key))?.pid;
          return victim !== undefined;
        },
        15_000,
        `run ${key} started`,
      );
      const w = workers.find((x) => x.pid === victim)!;
      process.kill(victim!, 'SIGKILL');
      await w.exited;
      workers = workers.filter((x) => x !== w);
      await until(
        async () => (await runs()).some((r) => r.keys.includes(key)),
        20_000,
        `${key} completed elsewhere`,
      );
      expect((await runs()).filter((r) => r.keys.includes(key))).toHaveLength(1);
      await startWorkers(1, prefix);
    }
    await q.close();
  }, 180_000);

  it('Redis restarted during a run: the process reconnects and work completes', async () => {
    const prefix = `rr-${randomUUID().slice(0, 8)}`;
    const q = new BullQueue<string>({
      redisUrl: redis.url,
      prefix,
      settleMs: 20,
      attempts: 5,
      backoffMs: 50,
      concurrency: 1,
      isRetryable,
    });
    const done: string[] = [];
    let release: () => void = () => {};
    let running = false;
    await q.start(async (job) => {
      if (job.reasons.some((r) => r.key === 'during')) {
        await new Promise<void>((r) => {
          release = r;
          running = true;
        });
      }
      done.push(...job.reasons.map((r) => r.key!));
    });
    await q.enqueue({ repoKey: 'r1', target: 't', reasons: [{ kind: 'manual', key: 'during' }] });
    await until(async () => running, 10_000, 'the run to start');
    await redis.restart();
    release();
    await until(async () => done.includes('during'), 10_000, 'the interrupted run to finish');
    await until(async () => q.ping(), 10_000, 'reconnection');
    await q.enqueue({ repoKey: 'r2', target: 't', reasons: [{ kind: 'manual', key: 'after' }] });
    await until(async () => done.includes('after'), 15_000, 'work after the restart');
    await q.close({ deadlineMs: 2000 });
  });
});
