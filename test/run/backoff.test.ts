import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/time/backoff.js';

describe('backoffDelay: the one backoff rule', () => {
  it.each([
    [1, 0, 500],
    [1, 1, 1000],
    [2, 1, 2000],
    [3, 0.5, 3000],
    [10, 1, 60_000],
  ])('attempt %i, random %f → %i ms (base 1 s, cap 60 s)', (attempt, r, ms) => {
    expect(backoffDelay(attempt, { baseMs: 1000, maxMs: 60_000, random: () => r })).toBe(ms);
  });

  it('never below half the base, never above the cap, whatever the attempt', () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      const d = backoffDelay(attempt, { baseMs: 250, maxMs: 10_000 });
      expect(d).toBeGreaterThanOrEqual(125);
      expect(d).toBeLessThanOrEqual(10_000);
    }
  });
});
