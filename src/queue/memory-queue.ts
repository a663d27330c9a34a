/**
 * The embedded queue: one process, no Redis. Coalesces enqueues per repo within the settle window, runs at
 * most one job per repo at a time (work arriving meanwhile runs right after, merged), retries transient
 * failures with backoff, and never retries non-retryable ones.
 */
import { retryAfterOf, ShutdownError } from '../core/errors.js';
import { backoffDelay } from '../time/backoff.js';
import { type Clock, systemClock, type TimerHandle } from '../time/clock.js';
import { type JobHandler, type JobQueue, mergeReasons, type QueueOptions, type RepoJob } from './types.js';

interface Slot<T> {
  pending?: RepoJob<T>;
  timer?: TimerHandle;
  running: boolean;
  attempt: number;
}

export class MemoryQueue<T> implements JobQueue<T> {
  private readonly slots = new Map<string, Slot<T>>();
  private readonly ready: string[] = [];
  private handler?: JobHandler<T>;
  private active = 0;
  private closed = false;
  private readonly controllers = new Set<AbortController>();
  private readonly running = new Set<Promise<void>>();
  private counts = { failed: 0, completed: 0 };

  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(
    private readonly opts: QueueOptions<T>,
    deps: { clock?: Clock; random?: () => number } = {},
  ) {
    this.clock = deps.clock ?? systemClock;
    this.random = deps.random ?? Math.random;
  }

  async enqueue(job: RepoJob<T>): Promise<void> {
    if (this.closed) throw new Error('queue is closed');
    const slot: Slot<T> = this.slots.get(job.repoKey) ?? { running: false, attempt: 0 };
    this.slots.set(job.repoKey, slot);
    slot.pending = slot.pending
      ? { repoKey: job.repoKey, target: job.target, reasons: mergeReasons(slot.pending.reasons, job.reasons) }
      : job;
    // The settle window starts with the first event; later ones join it without extending it.
    if (!slot.timer && !slot.running) this.arm(job.repoKey, slot, this.opts.settleMs);
  }

  private arm(key: string, slot: Slot<T>, delay: number): void {
    slot.timer = this.clock.setTimer(() => {
      slot.timer = undefined;
      this.ready.push(key);
      this.pump();
    }, delay);
  }

  async flush(): Promise<void> {
    for (const [key, slot] of this.slots) {
      if (!slot.timer) continue;
      slot.timer.cancel();
      slot.timer = undefined;
      this.ready.push(key);
    }
    this.pump();
  }

  async start(handler: JobHandler<T>): Promise<void> {
    this.handler = handler;
    this.pump();
  }

  private pump(): void {
    while (this.handler && !this.closed && this.active < this.opts.concurrency && this.ready.length > 0) {
      const key = this.ready.shift()!;
      const slot = this.slots.get(key);
      if (!slot?.pending || slot.running) continue;
      const job = slot.pending;
      slot.pending = undefined;
      slot.running = true;
      slot.attempt++;
      this.active++;
      const p = this.runOne(key, slot, job).finally(() => this.running.delete(p));
      this.running.add(p);
    }
  }

  private async runOne(key: string, slot: Slot<T>, job: RepoJob<T>): Promise<void> {
    const ac = new AbortController();
    this.controllers.add(ac);
    const started = this.clock.now();
    try {
      await this.handler!(job, { attempt: slot.attempt, signal: ac.signal });
      this.counts.completed++;
      slot.attempt = 0;
      this.opts.onCompleted?.(job, this.clock.now() - started);
    } catch (err) {
      const final = !this.opts.isRetryable(err) || slot.attempt >= this.opts.attempts || this.closed;
      this.opts.onFailed?.(job, err, final);
      if (final) {
        this.counts.failed++;
        slot.attempt = 0;
      } else {
        // Put the job back, merged with anything that arrived meanwhile, after a backoff.
        slot.pending = slot.pending
          ? {
              repoKey: key,
              target: slot.pending.target,
              reasons: mergeReasons(job.reasons, slot.pending.reasons),
            }
          : job;
        slot.running = false;
        this.active--;
        this.controllers.delete(ac);
        slot.timer?.cancel();
        // At least as long as the failure asked (a rate limit's retry-after), else the usual backoff.
        const wait = backoffDelay(slot.attempt, { baseMs: this.opts.backoffMs, random: this.random });
        this.arm(key, slot, Math.max(wait, retryAfterOf(err) ?? 0));
        this.pump();
        return;
      }
    } finally {
      this.controllers.delete(ac);
    }
    slot.running = false;
    this.active--;
    if (slot.pending && !slot.timer) this.arm(key, slot, 0);
    else if (!slot.pending && !slot.timer) this.slots.delete(key);
    this.pump();
  }

  async close(opts: { deadlineMs?: number } = {}): Promise<void> {
    this.closed = true;
    for (const s of this.slots.values()) s.timer?.cancel();
    const all = Promise.all([...this.running]);
    let deadlineTimer: TimerHandle | undefined;
    const deadline = new Promise<'timeout'>((r) => {
      deadlineTimer = this.clock.setTimer(() => r('timeout'), opts.deadlineMs ?? 25_000, { unref: true });
    });
    if ((await Promise.race([all.then(() => 'done' as const), deadline])) === 'timeout') {
      for (const ac of this.controllers) ac.abort(new ShutdownError('shutting down'));
      await all.catch(() => undefined);
    }
    deadlineTimer?.cancel();
  }

  async ping(): Promise<boolean> {
    return !this.closed;
  }

  async stats() {
    let waiting = 0;
    for (const s of this.slots.values()) if (s.pending) waiting++;
    return { waiting, active: this.active, ...this.counts };
  }
}
