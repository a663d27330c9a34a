/**
 * A worker process for the multi-process queue tests: takes jobs from Redis and records every run
 * (pid, repo, reasons, start, end) in the Redis list `runs`. A reason key starting with `slow` makes the run
 * last `SLOW_MS`, so a test can kill the process in the middle of it.
 */
import { Redis } from 'ioredis';
import { isRetryable } from '../../src/errors.js';
import { BullQueue } from '../../src/queue/bullmq-queue.js';

const url = process.env.REDIS_URL!;
const prefix = process.env.QUEUE_PREFIX!;
const slowMs = Number(process.env.SLOW_MS ?? 2000);
const log = new Redis(url);
const q = new BullQueue<string>({
  redisUrl: url,
  prefix,
  settleMs: 50,
  attempts: 5,
  backoffMs: 50,
  concurrency: 4,
  isRetryable,
  lockDurationMs: 1000,
  stalledIntervalMs: 500,
});
await q.start(async (job) => {
  const start = Date.now();
  const keys = job.reasons.map((r) => r.key ?? '');
  await log.rpush('starts', JSON.stringify({ pid: process.pid, repo: job.repoKey, keys, start }));
  await new Promise((r) =>
    setTimeout(r, keys.some((k) => k.startsWith('slow')) ? slowMs : 20 + Math.random() * 40),
  );
  await log.rpush(
    'runs',
    JSON.stringify({ pid: process.pid, repo: job.repoKey, keys, start, end: Date.now() }),
  );
});
process.stdout.write('ready\n');
process.on('SIGTERM', async () => {
  await q.close({ deadlineMs: 2000 });
  log.disconnect();
  process.exit(0);
});
