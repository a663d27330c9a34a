/**
 * A worker process for the multi-process queue tests and the queue benchmark (one Redis or a cluster): takes
 * jobs from Redis and records every run in Redis: `starts` when it begins, `runs` when it ends (pid, repo, reasons). A run whose reasons include a key
 * starting with `hold` waits until the test sets the Redis key `gate:<that key>` (or `gate:all`), so a test
 * decides when runs end and can kill a process in the middle of one. `active:<repo>` counts runs of a repo in
 * progress across processes; a second concurrent run is recorded in `overlaps`.
 */
import { isRetryable } from '../../src/core/errors.js';
import { BullQueue } from '../../src/queue/bullmq-queue.js';
import { createRedisClient, parseRedisUrl } from '../../src/queue/redis-connection.js';

const url = process.env.REDIS_URL!;
const prefix = process.env.QUEUE_PREFIX!;
const [min = 0, max = min] = (process.env.WORK_MS ?? '0').split('-').map(Number);
const workMs = { min, max };
// One Redis or a cluster (the queue benchmark's cluster case): every command below touches one key.
const log = createRedisClient(parseRedisUrl(url));
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
  const keys = job.reasons.map((r) => r.key ?? '');
  const record = JSON.stringify({ pid: process.pid, repo: job.repoKey, keys });
  if ((await log.incr(`active:${job.repoKey}`)) > 1) await log.rpush('overlaps', record);
  await log.rpush('starts', record);
  const held = keys.filter((k) => k.startsWith('hold'));
  if (held.length > 0) {
    const gates = ['gate:all', ...held.map((k) => `gate:${k}`)];
    const open = async () => (await Promise.all(gates.map((g) => log.exists(g)))).some((n) => n > 0);
    while (!(await open())) await new Promise((r) => setTimeout(r, 10));
  } else if (workMs.max > 0) {
    // Simulated work (the queue benchmark): a run lasts between WORK_MS's two bounds.
    await new Promise((r) => setTimeout(r, workMs.min + Math.random() * (workMs.max - workMs.min)));
  }
  await log.decr(`active:${job.repoKey}`);
  await log.rpush('runs', record);
});
process.stdout.write('ready\n');
process.on('SIGTERM', async () => {
  await q.close({ deadlineMs: 2000 });
  log.disconnect();
  process.exit(0);
});
