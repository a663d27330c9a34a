/** Helpers shared by the multi-process queue tests and the queue benchmark. */
import { join } from 'node:path';
import { isRetryable } from '../../src/core/errors.js';
import { BullQueue } from '../../src/queue/bullmq-queue.js';
import { type Spawned, spawnProcess, waitForLog } from '../support/process.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** Starts `test/queue/worker-process.ts` on the given Redis and queue prefix; resolves once it is ready. */
export async function startQueueWorker(
  redisUrl: string,
  prefix: string,
  name: string,
  extraEnv: Record<string, string> = {},
): Promise<Spawned> {
  const w = spawnProcess(process.execPath, ['--import', 'tsx', join(ROOT, 'test/queue/worker-process.ts')], {
    cwd: ROOT,
    env: { ...process.env, REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, ...extraEnv },
    name,
  });
  await waitForLog(w, 'ready', 30_000);
  return w;
}

/** A queue client that only enqueues (the workers run the jobs). */
export function queueProducer(redisUrl: string, prefix: string, settleMs = 50): BullQueue<string> {
  return new BullQueue<string>({
    redisUrl,
    prefix,
    settleMs,
    attempts: 5,
    backoffMs: 50,
    concurrency: 1,
    isRetryable,
  });
}
