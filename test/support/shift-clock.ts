/**
 * Real time that a test can jump forward: short timers (a queue's settle window) run on real timers as usual,
 * and `advance(ms)` moves "now" and fires at once every timer that is then due (a 72 h maturity, the end of a
 * freeze). For end-to-end tests where some waits must happen for real and others must not be waited for.
 */
import type { Clock, TimerHandle } from '../../src/time/clock.js';

interface Timer {
  due: number;
  fn: () => void;
  real: NodeJS.Timeout;
}

export class ShiftClock implements Clock {
  private offset = 0;
  private readonly timers = new Set<Timer>();

  now(): number {
    return Date.now() + this.offset;
  }

  setTimer(fn: () => void, ms: number, opts?: { unref?: boolean }): TimerHandle {
    const timer: Timer = {
      due: this.now() + Math.max(0, ms),
      fn,
      real: setTimeout(() => this.fire(timer), Math.min(Math.max(0, ms), 2_147_483_647)),
    };
    if (opts?.unref) timer.real.unref();
    this.timers.add(timer);
    return {
      cancel: () => {
        clearTimeout(timer.real);
        this.timers.delete(timer);
      },
    };
  }

  /** Timers pending, by how far ahead they are due (ms). */
  delays(): number[] {
    return [...this.timers].map((t) => t.due - this.now()).sort((a, b) => a - b);
  }

  /** Moves now forward by `ms` and fires every timer due by then, earliest first. */
  advance(ms: number): void {
    this.offset += ms;
    const due = [...this.timers].filter((t) => t.due <= this.now()).sort((a, b) => a.due - b.due);
    for (const t of due) this.fire(t);
  }

  private fire(t: Timer): void {
    if (!this.timers.delete(t)) return;
    clearTimeout(t.real);
    t.fn();
  }
}
