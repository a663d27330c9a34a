/**
 * The Redis-restart stall, reproduced without luck: an ioredis client that is disconnected while it waits for
 * its reconnect timer (no socket) never emits `end` and never reconnects, and BullMQ's Worker.close() waits for
 * `end` on its blocking connection. `WorkerRedis` finishes that close; these tests widen the window (a long
 * reconnect delay) so the client is certainly socketless when it is closed, and wait on events throughout.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRetryable } from '../../src/core/errors.js';
import { BullQueue, WorkerRedis } from '../../src/queue/bullmq-queue.js';
import { type RedisServer, startRedis } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

/** A reconnect delay far beyond any test: the client stays socketless until someone acts. */
const NEVER_SOON = { retryStrategy: () => 600_000 };

/** Resolves once the client emits `event`; the deadline only bounds a hang. */
function once(client: Redis, event: string, what: string, timeoutMs = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
    client.once(event, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Rejects if the promise has not settled within timeoutMs (a bound on a hang, never an outcome). */
async function bounded<T>(p: Promise<T>, what: string, timeoutMs = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe('WorkerRedis: disconnect() while waiting to reconnect', () => {
  it('Redis still down: the client ends', async () => {
    const c = new WorkerRedis(redis.url, { ...NEVER_SOON, maxRetriesPerRequest: null });
    c.on('error', () => {});
    await once(c, 'ready', 'the first connection');
    await redis.restart({
      whileDown: async () => {
        if (c.status !== 'reconnecting') await once(c, 'reconnecting', 'the client to see Redis gone');
        const ended = once(c, 'end', 'the client to end');
        c.disconnect();
        await ended;
      },
    });
    expect(c.status).toBe('end');
  });

  it('Redis back: the client connects once more, then ends', async () => {
    const c = new WorkerRedis(redis.url, { ...NEVER_SOON, maxRetriesPerRequest: null });
    c.on('error', () => {});
    await once(c, 'ready', 'the first connection');
    const gone = c.status === 'reconnecting' ? Promise.resolve() : once(c, 'reconnecting', 'Redis gone');
    await redis.restart();
    await gone;
    const ended = once(c, 'end', 'the client to end');
    c.disconnect();
    await ended;
    expect(c.status).toBe('end');
  });

  it('duplicate() keeps the fix (BullMQ duplicates the worker connection for BZPOPMIN)', () => {
    const c = new WorkerRedis(redis.url, { lazyConnect: true, maxRetriesPerRequest: null });
    const d = c.duplicate({ connectionName: 'blocking' });
    expect(d).toBeInstanceOf(WorkerRedis);
    expect(d.options.maxRetriesPerRequest).toBeNull();
    expect(d.options.connectionName).toBe('blocking');
    c.disconnect();
    d.disconnect();
  });
});

describe('BullQueue: close() while the worker waits to reconnect', () => {
  async function drainedQueue(): Promise<{ q: BullQueue<string>; done: string[] }> {
    const q = new BullQueue<string>({
      redisUrl: redis.url,
      prefix: `rs-${randomUUID().slice(0, 8)}`,
      settleMs: 1,
      attempts: 3,
      backoffMs: 10,
      concurrency: 1,
      isRetryable,
      redisOptions: NEVER_SOON,
    });
    const done: string[] = [];
    await q.start(async (job) => {
      done.push(job.repoKey);
    });
    await q.enqueue({ repoKey: 'r1', target: 't', reasons: [{ kind: 'manual', key: 'e' }] });
    // Recorded as completed: BullMQ has nothing left to write for it, and the worker waits for the next job in
    // BZPOPMIN on its blocking connection. (Restarting Redis before that would leave the completion waiting
    // for the slow reconnect of the worker's other connection: a close then rightly waits for it.)
    await waitFor('the job to complete', async () => {
      const s = await q.stats();
      return done.includes('r1') && s.completed === 1 && s.active === 0;
    });
    return { q, done };
  }

  // No job is running, so a close that returns is the graceful one: a hang would show as the bound, and the
  // abort path (deadline of 600 s) cannot be what ended it.
  it('Redis restarted: close() returns', async () => {
    const { q } = await drainedQueue();
    await redis.restart({
      whileDown: () => waitFor('the queue to see Redis gone', async () => !(await q.ping())),
    });
    await bounded(q.close({ deadlineMs: 600_000 }), 'close() after the restart');
  });

  it('Redis down: close() returns', async () => {
    const { q } = await drainedQueue();
    await redis.restart({
      whileDown: async () => {
        await waitFor('the queue to see Redis gone', async () => !(await q.ping()));
        await bounded(q.close({ deadlineMs: 600_000 }), 'close() with Redis down');
      },
    });
  });
});
