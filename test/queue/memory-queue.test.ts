/**
 * The memory queue's timing, on a fake clock: the settle window, retry backoff and the shutdown deadline are
 * driven by `clock.advance`, so these tests never sleep and never depend on the machine's speed.
 */
import { describe, expect, it } from 'vitest';
import { GitHubApiError, isRetryable, RegistryUnavailableError } from '../../src/core/errors.js';
import { MemoryQueue } from '../../src/queue/memory-queue.js';
import type { QueueOptions, RepoJob } from '../../src/queue/types.js';
import { FakeClock } from '../support/fake-clock.js';
import { gate } from '../support/wait.js';

const opts = (o: Partial<QueueOptions<string>> = {}): QueueOptions<string> => ({
  settleMs: 1000,
  attempts: 3,
  backoffMs: 2000,
  concurrency: 4,
  isRetryable,
  ...o,
});
const job = (repo: string, key: string): RepoJob<string> => ({
  repoKey: repo,
  target: repo,
  reasons: [{ kind: 'registry-push', key }],
});

function setup(o: Partial<QueueOptions<string>> = {}, random = () => 1) {
  const clock = new FakeClock();
  const q = new MemoryQueue<string>(opts(o), { clock, random });
  const runs: { at: number; keys: string[] }[] = [];
  return { clock, q, runs };
}

describe('memory queue timing (fake clock)', () => {
  it('the settle window starts with the first event and is not extended by later ones', async () => {
    const { clock, q, runs } = setup();
    await q.start(async (j) => {
      runs.push({ at: clock.now(), keys: j.reasons.map((r) => r.key!) });
    });
    const t0 = clock.now();
    await q.enqueue(job('r', 'a'));
    await clock.advance(600);
    await q.enqueue(job('r', 'b'));
    await clock.advance(399);
    expect(runs).toEqual([]);
    await clock.advance(1);
    expect(runs).toEqual([{ at: t0 + 1000, keys: ['a', 'b'] }]);
    // An event after the window opens a new one.
    await q.enqueue(job('r', 'c'));
    await clock.advance(999);
    expect(runs).toHaveLength(1);
    await clock.advance(1);
    expect(runs[1]).toEqual({ at: t0 + 2000, keys: ['c'] });
    expect(clock.pending).toBe(0);
  });

  it('events arriving during a run start one more run as soon as it ends, without a new window', async () => {
    const { clock, q, runs } = setup();
    const release = gate();
    await q.start(async (j) => {
      const keys = j.reasons.map((r) => r.key!);
      if (keys.includes('a')) await release.promise;
      runs.push({ at: clock.now(), keys });
    });
    await q.enqueue(job('r', 'a'));
    await clock.advance(1000);
    await q.enqueue(job('r', 'b'));
    await q.enqueue(job('r', 'c'));
    await clock.advance(5000);
    expect(runs).toEqual([]);
    release.open();
    await clock.advance(0);
    expect(runs.map((r) => r.keys)).toEqual([['a'], ['b', 'c']]);
  });

  it('retries back off exponentially (2 s, 4 s) and merge what arrived meanwhile', async () => {
    const failures: boolean[] = [];
    const { clock, q: q2, runs } = setup({ onFailed: (_j, _e, final) => failures.push(final) });
    await q2.start(async (j, ctx) => {
      runs.push({ at: clock.now(), keys: j.reasons.map((r) => r.key!) });
      if (ctx.attempt < 3) throw new RegistryUnavailableError('down');
    });
    const t0 = clock.now();
    await q2.enqueue(job('r', 'a'));
    await clock.advance(1000);
    expect(clock.delays()).toEqual([2000]);
    await q2.enqueue(job('r', 'b'));
    await clock.advance(2000);
    expect(clock.delays()).toEqual([4000]);
    await clock.advance(4000);
    expect(runs).toEqual([
      { at: t0 + 1000, keys: ['a'] },
      { at: t0 + 3000, keys: ['a', 'b'] },
      { at: t0 + 7000, keys: ['a', 'b'] },
    ]);
    expect(failures).toEqual([false, false]);
    expect(await q2.stats()).toMatchObject({ completed: 1, failed: 0, waiting: 0 });
  });

  it("a rate limit's retry-after is honoured: the retry waits at least that long (not the 2 s backoff)", async () => {
    const { clock, q, runs } = setup();
    await q.start(async (j, ctx) => {
      runs.push({ at: clock.now(), keys: j.reasons.map((r) => r.key!) });
      if (ctx.attempt === 1)
        throw new GitHubApiError('create pull request: 403 secondary rate limit', 403, true, {
          retryAfterMs: 60_000,
        });
    });
    const t0 = clock.now();
    await q.enqueue(job('r', 'a'));
    await clock.advance(1000);
    expect(clock.delays()).toEqual([60_000]);
    await clock.advance(59_999);
    expect(runs).toHaveLength(1);
    await clock.advance(1);
    expect(runs.map((r) => r.at - t0)).toEqual([1000, 61_000]);
  });

  it('gives up after the last attempt and reports it as final', async () => {
    const failures: boolean[] = [];
    const { clock, q } = setup({ attempts: 2, onFailed: (_j, _e, final) => failures.push(final) });
    let calls = 0;
    await q.start(async () => {
      calls++;
      throw new RegistryUnavailableError('down');
    });
    await q.enqueue(job('r', 'a'));
    await clock.advance(1000 + 2000);
    expect(calls).toBe(2);
    expect(failures).toEqual([false, true]);
    expect(clock.pending).toBe(0);
  });

  it('flush() ends the settle window now', async () => {
    const { q, runs, clock } = setup();
    await q.start(async (j) => {
      runs.push({ at: clock.now(), keys: j.reasons.map((r) => r.key!) });
    });
    const t0 = clock.now();
    await q.enqueue(job('r', 'a'));
    await q.flush();
    await clock.advance(0);
    expect(runs).toEqual([{ at: t0, keys: ['a'] }]);
  });

  it('close() aborts a run when the deadline passes on the clock', async () => {
    const { clock, q } = setup({ settleMs: 0 });
    let aborted = false;
    await q.start(
      (_j, ctx) =>
        new Promise<void>((resolve) =>
          ctx.signal.addEventListener('abort', () => {
            aborted = true;
            resolve();
          }),
        ),
    );
    await q.enqueue(job('r', 'a'));
    await clock.advance(0);
    const closing = q.close({ deadlineMs: 10_000 });
    await clock.advance(9_999);
    expect(aborted).toBe(false);
    await clock.advance(1);
    await closing;
    expect(aborted).toBe(true);
  });
});

describe('reasons', () => {
  it('merge by kind and key; the trace context and arrival time do not split them', async () => {
    const { mergeReasons } = await import('../../src/queue/types.js');
    const merged = mergeReasons(
      [{ kind: 'periodic', receivedAt: 1, trace: { traceparent: '00-a-01' } }],
      [
        { kind: 'periodic', receivedAt: 2, trace: { traceparent: '00-b-01' } },
        { kind: 'registry-push', key: 'img:1' },
        { kind: 'registry-push', key: 'img:1', trace: { traceparent: '00-c-01' } },
      ],
    );
    expect(merged.map((r) => `${r.kind}/${r.key ?? ''}`)).toEqual(['periodic/', 'registry-push/img:1']);
  });
});
