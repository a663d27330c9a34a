/**
 * The job queue on Redis (BullMQ), for several processes. The same contract as the memory queue:
 * - Reasons accumulate in a Redis hash per repo; the job carries only the repo's hashed id. A run reads the
 *   reasons and removes them only when it succeeds, so a crashed run (kill -9) leaves them for the retry
 *   that BullMQ's stalled-job check starts.
 * - `deduplication: { id, keepLastIfActive }` keeps at most one active and one waiting job per repo, across
 *   every worker process: per-repo serialization with the newest work following the running one.
 * - The settle window is the job's delay; events arriving meanwhile join the pending job.
 * - Retryable failures are retried with exponential backoff; others become UnrecoverableError.
 */
import { createHash } from 'node:crypto';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { ShutdownError } from '../core/errors.js';
import {
  type JobHandler,
  type JobQueue,
  type QueueOptions,
  type QueueReason,
  type RepoJob,
  reasonKey,
} from './types.js';

export interface BullQueueOptions<T> extends QueueOptions<T> {
  readonly redisUrl: string;
  readonly name?: string;
  readonly prefix?: string;
  /** How long a worker holds a job before others may take it over (crash detection). */
  readonly lockDurationMs?: number;
  readonly stalledIntervalMs?: number;
}

const idOf = (repoKey: string) => createHash('sha1').update(repoKey).digest('hex');

export class BullQueue<T> implements JobQueue<T> {
  private readonly redis: Redis;
  private readonly queue: Queue;
  private worker?: Worker;
  private workerConnection?: Redis;
  private readonly name: string;
  private readonly prefix: string;
  private readonly controllers = new Set<AbortController>();
  private closed = false;

  constructor(private readonly opts: BullQueueOptions<T>) {
    this.name = opts.name ?? 'tidemark-reconcile';
    this.prefix = opts.prefix ?? 'tidemark';
    this.redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: null });
    this.queue = new Queue(this.name, { connection: this.redis, prefix: this.prefix });
  }

  private key(kind: 'reasons' | 'target', id: string): string {
    return `${this.prefix}:${this.name}:${kind}:${id}`;
  }

  async enqueue(job: RepoJob<T>): Promise<void> {
    if (this.closed) throw new Error('queue is closed');
    const id = idOf(job.repoKey);
    const tx = this.redis.multi();
    for (const r of job.reasons) tx.hset(this.key('reasons', id), reasonKey(r), JSON.stringify(r));
    tx.set(this.key('target', id), JSON.stringify({ repoKey: job.repoKey, target: job.target }));
    await tx.exec();
    await this.queue.add(
      'reconcile',
      { id },
      {
        deduplication: { id, keepLastIfActive: true },
        delay: this.opts.settleMs,
        attempts: this.opts.attempts,
        backoff: { type: 'exponential', delay: this.opts.backoffMs, jitter: 0.5 },
        removeOnComplete: { count: 1000, age: 3600 },
        removeOnFail: 1000,
      },
    );
  }

  async start(handler: JobHandler<T>): Promise<void> {
    this.workerConnection = new Redis(this.opts.redisUrl, { maxRetriesPerRequest: null });
    this.worker = new Worker(
      this.name,
      async (bjob) => {
        const id = (bjob.data as { id: string }).id;
        const [[, raw], [, targetRaw]] = (await this.redis
          .multi()
          .hgetall(this.key('reasons', id))
          .get(this.key('target', id))
          .exec()) as [[Error | null, Record<string, string>], [Error | null, string | null]];
        const fields = Object.keys(raw ?? {});
        if (fields.length === 0 || !targetRaw) return; // already handled by an earlier run
        const { repoKey, target } = JSON.parse(targetRaw) as { repoKey: string; target: T };
        const reasons = fields.map((f) => JSON.parse(raw[f]!) as QueueReason);
        const job: RepoJob<T> = { repoKey, target, reasons };
        const ac = new AbortController();
        this.controllers.add(ac);
        const started = Date.now();
        try {
          await handler(job, { attempt: bjob.attemptsMade + 1, signal: ac.signal });
          // Only what this run handled is removed; reasons that arrived meanwhile stay for the next job.
          const tx = this.redis.multi();
          for (const f of fields) tx.hdel(this.key('reasons', id), f);
          await tx.exec();
          this.opts.onCompleted?.(job, Date.now() - started);
        } catch (err) {
          const final = !this.opts.isRetryable(err) || bjob.attemptsMade + 1 >= this.opts.attempts;
          this.opts.onFailed?.(job, err, final);
          if (final) {
            const tx = this.redis.multi();
            for (const f of fields) tx.hdel(this.key('reasons', id), f);
            await tx.exec();
            throw new UnrecoverableError(err instanceof Error ? err.message : String(err));
          }
          throw err;
        } finally {
          this.controllers.delete(ac);
        }
      },
      {
        connection: this.workerConnection,
        prefix: this.prefix,
        concurrency: this.opts.concurrency,
        ...(this.opts.lockDurationMs && { lockDuration: this.opts.lockDurationMs }),
        ...(this.opts.stalledIntervalMs && { stalledInterval: this.opts.stalledIntervalMs }),
        maxStalledCount: 5,
      },
    );
    this.worker.on('error', () => {
      // Connection errors are retried by ioredis; BullMQ reports them here as well.
    });
  }

  async flush(): Promise<void> {
    await this.queue.promoteJobs();
  }

  async close(opts: { deadlineMs?: number } = {}): Promise<void> {
    this.closed = true;
    if (this.worker) {
      const graceful = this.worker.close();
      const timedOut = await Promise.race([
        graceful.then(() => false),
        new Promise<boolean>((r) => setTimeout(() => r(true), opts.deadlineMs ?? 25_000).unref()),
      ]);
      if (timedOut) {
        for (const ac of this.controllers) ac.abort(new ShutdownError('shutting down'));
        await this.worker.close(true);
      }
    }
    await this.queue.close();
    this.workerConnection?.disconnect();
    this.redis.disconnect();
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async stats() {
    const c = await this.queue.getJobCounts('waiting', 'delayed', 'active', 'failed', 'completed');
    return {
      waiting: (c.waiting ?? 0) + (c.delayed ?? 0),
      active: c.active ?? 0,
      failed: c.failed ?? 0,
      completed: c.completed ?? 0,
    };
  }
}
