/**
 * Runs at the time a trust gate passes by itself (a candidate matures, a freeze or schedule window opens):
 * one timer per repo, the earliest wins. Timers live in the process that ran the repo; one lost with a crash
 * is caught by the periodic reconcile. Long waits are taken in steps of at most a day (the run then schedules
 * the rest), so no timer outlives its purpose by much and none overflows the platform's limit.
 */
import type { Clock, TimerHandle } from '../time/clock.js';

export const MAX_WAKE_STEP_MS = 24 * 3_600_000;
export const MAX_WAKE_TIMERS = 10_000;

export class WakeTimers<T> {
  private readonly timers = new Map<string, { at: number; handle: TimerHandle }>();
  constructor(
    private readonly clock: Clock,
    private readonly fire: (target: T) => void,
  ) {}

  /** Run `target` at `at` (or earlier, when another wake for it is due sooner). */
  at(key: string, target: T, at: number): void {
    const known = this.timers.get(key);
    if (known && known.at <= at) return;
    if (!known && this.timers.size >= MAX_WAKE_TIMERS) return; // bounded: the periodic reconcile covers the rest
    known?.handle.cancel();
    const delay = Math.max(0, Math.min(at - this.clock.now(), MAX_WAKE_STEP_MS));
    const handle = this.clock.setTimer(
      () => {
        this.timers.delete(key);
        this.fire(target);
      },
      delay,
      { unref: true },
    );
    this.timers.set(key, { at, handle });
  }

  get size(): number {
    return this.timers.size;
  }

  stop(): void {
    for (const t of this.timers.values()) t.handle.cancel();
    this.timers.clear();
  }
}
