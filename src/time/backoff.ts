/**
 * The one backoff rule for every retry tidemark does itself (registry requests, the memory queue): exponential
 * from `baseMs`, capped at `maxMs`, with jitter (a random factor in [0.5, 1)) so retries of many callers do not
 * arrive together. BullMQ applies the same shape (`exponential`, jitter 0.5) to jobs on Redis; octokit's retry
 * plugin handles GitHub's.
 */
export function backoffDelay(
  attempt: number,
  opts: { readonly baseMs: number; readonly maxMs?: number; readonly random?: () => number },
): number {
  const random = opts.random ?? Math.random;
  const max = opts.maxMs ?? 5 * 60_000;
  return Math.round(Math.min(opts.baseMs * 2 ** (Math.max(1, attempt) - 1), max) * (0.5 + random() / 2));
}
