import { describe, expect, it } from 'vitest';
import { startScheduler } from '../../src/run/scheduler.js';
import { FakeClock } from '../support/fake-clock.js';

describe('periodic reconcile scheduler (fake clock)', () => {
  it('ticks every interval with ±10 % jitter, goes on after a failing tick, and stops', async () => {
    const clock = new FakeClock();
    const t0 = clock.now();
    const ticks: number[] = [];
    const errors: unknown[] = [];
    const jitter = [0, 1, 0.5];
    const s = startScheduler({
      intervalMs: 600_000,
      clock,
      random: () => jitter.shift() ?? 0.5,
      tick: async () => {
        ticks.push(clock.now() - t0);
        if (ticks.length === 2) throw new Error('listing failed');
      },
      onError: (e) => errors.push(e),
    });
    await clock.advance(539_999);
    expect(ticks).toEqual([]);
    await clock.advance(1);
    expect(ticks).toEqual([540_000]);
    await clock.advance(660_000);
    expect(ticks).toEqual([540_000, 1_200_000]);
    expect(errors).toHaveLength(1);
    await clock.advance(600_000);
    expect(ticks).toEqual([540_000, 1_200_000, 1_800_000]);
    s.stop();
    expect(clock.pending).toBe(0);
    await clock.advance(10 * 600_000);
    expect(ticks).toHaveLength(3);
  });
});
