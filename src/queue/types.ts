/**
 * The job queue contract: one reconcile job per repo, with the reasons that led to it. Two implementations
 * share it: the in-memory queue (default, one process) and BullMQ on Redis (REDIS_URL, several processes).
 */
/**
 * A reason as the queue sees it: merged by kind and key (or detail), otherwise opaque. What tidemark enqueues
 * is the typed `QueueReason` union (core/domain/reasons.ts), read back with `parseReason` before a run.
 */
export interface QueueReason {
  readonly kind: string;
  /** Identical reasons (same kind and key) are merged. */
  readonly key?: string;
  readonly detail?: Readonly<Record<string, unknown>>;
  readonly receivedAt?: number;
  /** Trace context of the delivery (W3C carrier); not part of the reason's identity. */
  readonly trace?: Readonly<Record<string, string>>;
}

export interface RepoJob<T = unknown> {
  /** Serialization unit: at most one run per key at a time. */
  readonly repoKey: string;
  /** Routing data for the worker (installation, repo, clone URL). The latest enqueue's target wins. */
  readonly target: T;
  readonly reasons: readonly QueueReason[];
}

export interface JobContext {
  readonly attempt: number;
  readonly signal: AbortSignal;
}

export type JobHandler<T> = (job: RepoJob<T>, ctx: JobContext) => Promise<void>;

export interface JobQueue<T = unknown> {
  enqueue(job: RepoJob<T>): Promise<void>;
  start(handler: JobHandler<T>): Promise<void>;
  /**
   * Ends every settle window and retry backoff now: what is waiting runs without further delay (still one
   * run per repo at a time). For "run now" requests and for tests that must not wait on the clock.
   */
  flush(): Promise<void>;
  /** Stop taking jobs; wait for running ones up to the deadline, then abort them. */
  close(opts?: { deadlineMs?: number }): Promise<void>;
  ping(): Promise<boolean>;
  stats(): Promise<{ waiting: number; active: number; failed: number; completed: number }>;
}

export interface QueueOptions<T> {
  /** Events for one repo within this window become one run. */
  readonly settleMs: number;
  readonly attempts: number;
  readonly backoffMs: number;
  readonly concurrency: number;
  readonly isRetryable: (err: unknown) => boolean;
  readonly onFailed?: (job: RepoJob<T>, err: unknown, final: boolean) => void;
  readonly onCompleted?: (job: RepoJob<T>, ms: number) => void;
}

/** A reason's identity: kind and key (or detail). When it arrived and the trace it carries do not count. */
export function reasonKey(r: QueueReason): string {
  return `${r.kind}|${r.key ?? JSON.stringify(r.detail ?? {})}`;
}

export function mergeReasons(a: readonly QueueReason[], b: readonly QueueReason[]): QueueReason[] {
  const out = new Map<string, QueueReason>();
  for (const r of [...a, ...b]) if (!out.has(reasonKey(r))) out.set(reasonKey(r), r);
  return [...out.values()];
}
