/**
 * The periodic reconcile: every `intervalMs` (±10 % jitter, so replicas spread out) it calls `tick`, which
 * enqueues every installed repo. A failing tick is reported and the schedule goes on. Time comes from the
 * injected clock, so tests advance it instead of waiting.
 */
import type { Clock, TimerHandle } from '../time/clock.js';

export interface Scheduler {
  stop(): void;
}

export function startScheduler(opts: {
  readonly intervalMs: number;
  readonly tick: () => Promise<unknown>;
  readonly onError: (err: unknown) => void;
  readonly clock: Clock;
  readonly random?: () => number;
}): Scheduler {
  const random = opts.random ?? Math.random;
  let timer: TimerHandle | undefined;
  let stopped = false;
  const schedule = () => {
    if (stopped) return;
    const delay = opts.intervalMs * (0.9 + random() * 0.2);
    timer = opts.clock.setTimer(
      async () => {
        try {
          await opts.tick();
        } catch (err) {
          opts.onError(err);
        }
        schedule();
      },
      delay,
      { unref: true },
    );
  };
  schedule();
  return {
    stop() {
      stopped = true;
      timer?.cancel();
    },
  };
}
