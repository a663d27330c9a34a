/**
 * The job queue on Redis (BullMQ), for several processes. The same contract as the memory queue:
 * - Reasons accumulate in a Redis hash per repo; the job carries only the repo's hashed id. A run reads the
 *   reasons and removes them only when it succeeds, so a crashed run (kill -9) leaves them for the retry
 *   that BullMQ's stalled-job check starts.
 * - `deduplication: { id, keepLastIfActive }` keeps at most one active and one waiting job per repo, across
 *   every worker process: per-repo serialization with the newest work following the running one.
 * - The settle window is the job's delay; events arriving meanwhile join the pending job.
 * - Retryable failures are retried with exponential backoff; others become UnrecoverableError.
 * - A Redis restart (or any dropped connection) is survived: see `WorkerRedis` for the one ioredis behaviour
 *   that used to hang the worker across a restart.
 * - One Redis server or a Redis Cluster (`redis-cluster://host:port,…`, see redis-connection.ts); on a cluster
 *   the prefix is hash-tagged (`{tidemark}`) so every key of the queue lives in one slot. docs/redis.md.
 */
import { createHash } from 'node:crypto';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { type Cluster, Redis, type RedisOptions } from 'ioredis';
import { retryAfterOf, ShutdownError } from '../core/errors.js';
import { backoffDelay } from '../time/backoff.js';
import {
  createRedisClient,
  type ExtraRedisOptions,
  isLive,
  parseRedisUrl,
  queuePrefix,
  type RedisTarget,
} from './redis-connection.js';
import {
  type JobHandler,
  type JobQueue,
  type QueueOptions,
  type QueueReason,
  type RepoJob,
  reasonKey,
} from './types.js';

export interface BullQueueOptions<T> extends QueueOptions<T> {
  /**
   * `redis://host:port` (`rediss://` for TLS) for one Redis server; `redis-cluster://host1:port1,host2:port2`
   * (`rediss-cluster://`) for a Redis Cluster, the nodes being where discovery starts.
   */
  readonly redisUrl: string;
  readonly name?: string;
  /** Key prefix (default `tidemark`); on a cluster it is wrapped in a hash tag (`{tidemark}`) if it has none. */
  readonly prefix?: string;
  /** How long a worker holds a job before others may take it over (crash detection). */
  readonly lockDurationMs?: number;
  readonly stalledIntervalMs?: number;
  /**
   * Extra ioredis options for every connection (TLS, timeouts, `retryStrategy`). `maxRetriesPerRequest` is
   * always null: BullMQ's commands wait for a reconnect instead of failing.
   */
  readonly redisOptions?: ExtraRedisOptions;
  /** Connection and worker errors (ioredis retries by itself; these are for logs and metrics). */
  readonly onError?: (err: unknown) => void;
}

/**
 * The worker's Redis connection. BullMQ duplicates it (`duplicate()`) for the Worker's dedicated blocking
 * connection, the one that waits on the queue's marker with BZPOPMIN, so the fix below covers that one too.
 *
 * The Redis-restart stall. When Redis goes away, ioredis closes the socket, sets the client to `reconnecting`
 * and arms a retry timer (50 ms doubling, plus jitter). If `disconnect()` is called in that window, ioredis
 * clears the timer and asks its connector to end a socket that no longer exists: no `close` event follows,
 * so the client never reaches `end` and never reconnects; it stays `reconnecting` for good, with BullMQ's
 * BZPOPMIN parked in its offline queue. BullMQ's `Worker.close()` (and `pause()`) disconnect the blocking
 * connection and wait for its `end` event, so closing a worker whose blocking connection had not yet
 * reconnected hung forever; `close(true)` did not help, since BullMQ returns the pending close. BullMQ's
 * own recovery (`resetBlockedConnection`) avoids disconnecting a socketless client for this reason (#4585),
 * but its close path does not. The blocking connection reconnects a little later than the others (it was
 * blocked in BZPOPMIN when Redis went away, and the retry is jittered), so right after a restart the rest of
 * the queue already works and only the close is caught: about one run in six of the multi-process test file.
 *
 * `disconnect()` on a socketless client therefore finishes the close ioredis skips: it connects once more,
 * with the close already marked as intended, so the attempt ends the client either way: refused (Redis
 * down) ends it at once, and once connected (Redis back) it is disconnected for real. Both emit `end`.
 */
export class WorkerRedis extends Redis {
  override disconnect(reconnect = false): void {
    if (reconnect || this.status !== 'reconnecting') {
      super.disconnect(reconnect);
      return;
    }
    super.disconnect(); // clears the retry timer and marks the close as intended (no reconnect after it)
    const closeOnceUp = (): void => super.disconnect();
    this.once('ready', closeOnceUp);
    this.once('end', () => this.off('ready', closeOnceUp));
    this.connect().catch(() => {
      // Refused or closed: the client ends, which is what was asked.
    });
  }

  // BullMQ only passes `{ connectionName }`, so the copy keeps this client's reply mapping.
  override duplicate<O extends Partial<RedisOptions> | undefined = undefined>(
    override?: O,
  ): ReturnType<Redis['duplicate']> {
    return new WorkerRedis({ ...this.options, ...override } as RedisOptions & { replyMapping?: 'legacy' });
  }
}

const PING_TIMEOUT_MS = 2_000;

/** How long close() waits for BullMQ to record aborted runs before it lets go (Redis may be down). */
const ABORT_GRACE_MS = 5_000;

/** True if the promise settled within ms, false if the time ran out first. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = p.then(
    () => true,
    () => true,
  );
  const timeout = new Promise<boolean>((r) => {
    timer = setTimeout(() => r(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const idOf = (repoKey: string) => createHash('sha1').update(repoKey).digest('hex');

export class BullQueue<T> implements JobQueue<T> {
  private readonly target: RedisTarget;
  private readonly redis: Redis | Cluster;
  private readonly queue: Queue;
  private worker?: Worker;
  private workerConnection?: Redis | Cluster;
  private readonly name: string;
  private readonly prefix: string;
  private readonly controllers = new Set<AbortController>();
  private closed = false;

  constructor(private readonly opts: BullQueueOptions<T>) {
    this.name = opts.name ?? 'tidemark-reconcile';
    this.target = parseRedisUrl(opts.redisUrl);
    this.prefix = queuePrefix(opts.prefix ?? 'tidemark', this.target);
    // The queue's own client closes the same way as the worker's (see WorkerRedis): closing while Redis is
    // away must end it too, or BullMQ's Queue.close() waits for a client that never ends.
    this.redis = createRedisClient(this.target, opts.redisOptions, WorkerRedis);
    this.redis.on('error', (err) => this.opts.onError?.(err));
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
        backoff: { type: 'tidemark', delay: this.opts.backoffMs },
        removeOnComplete: { count: 1000, age: 3600 },
        removeOnFail: 1000,
      },
    );
  }

  async start(handler: JobHandler<T>): Promise<void> {
    // Its own connection: BullMQ needs `maxRetriesPerRequest: null` on a worker's connections (commands wait
    // for the reconnect instead of failing after 20 retries), and blocks one of them in BZPOPMIN.
    this.workerConnection = createRedisClient(this.target, this.opts.redisOptions, WorkerRedis);
    this.workerConnection.on('error', (err) => this.opts.onError?.(err));
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
        // The memory queue's rule: exponential with jitter, and at least what a rate limit asked for.
        settings: {
          backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) =>
            Math.max(backoffDelay(attemptsMade, { baseMs: this.opts.backoffMs }), retryAfterOf(err) ?? 0),
        },
      },
    );
    this.worker.on('error', (err) => {
      // Connection errors are retried by ioredis; BullMQ reports them here as well.
      this.opts.onError?.(err);
    });
  }

  async flush(): Promise<void> {
    await this.queue.promoteJobs();
  }

  async close(opts: { deadlineMs?: number } = {}): Promise<void> {
    this.closed = true;
    if (this.worker) {
      // Stops fetching and waits for the running jobs. BullMQ memoizes its close: a later close(true) would only
      // return this same promise, so the deadline is enforced here, by aborting the runs.
      const closing = this.worker.close();
      if (!(await settlesWithin(closing, opts.deadlineMs ?? 25_000))) {
        for (const ac of this.controllers) ac.abort(new ShutdownError('shutting down'));
        // The aborted runs end at once; BullMQ then records them. With Redis down it would wait for Redis (its
        // connections retry forever), so after a grace period let go: the jobs' locks expire and BullMQ's
        // stalled-job check hands them to another worker.
        if (!(await settlesWithin(closing, ABORT_GRACE_MS)))
          void this.worker.disconnect().catch(() => undefined);
      }
    }
    await this.queue.close();
    this.workerConnection?.disconnect();
    this.redis.disconnect();
  }

  /** False while disconnected: with `maxRetriesPerRequest: null` a PING would wait for the reconnect. */
  async ping(): Promise<boolean> {
    if (!isLive(this.redis)) return false;
    try {
      const pong = this.redis.ping();
      return (await settlesWithin(pong, PING_TIMEOUT_MS)) && (await pong) === 'PONG';
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
