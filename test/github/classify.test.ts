/** GitHub errors are classified once, by status and headers (never by message text). */
import { describe, expect, it } from 'vitest';
import { GitHubApiError } from '../../src/core/errors.js';
import { classifyGitHubError } from '../../src/github/port.js';

const octokitError = (status: number | undefined, headers: Record<string, string> = {}, message = 'x') =>
  Object.assign(new Error(message), { status, response: { headers } });

describe('classifyGitHubError', () => {
  it.each([
    ['a network error', undefined, {}, true],
    ['a 502', 502, {}, true],
    ['a 429', 429, {}, true],
    ['403 at the primary rate limit', 403, { 'x-ratelimit-remaining': '0' }, true],
    ['403 at a secondary rate limit', 403, { 'retry-after': '60' }, true],
    ['403 without rate-limit headers (permissions), whatever the message says', 403, {}, false],
    ['404', 404, {}, false],
    ['422 (validation)', 422, {}, false],
  ] as const)('%s → retryable %s', (_name, status, headers, retryable) => {
    const err = classifyGitHubError(
      octokitError(status, headers, 'API rate limit exceeded?'),
      'create pull request',
    );
    expect(err).toBeInstanceOf(GitHubApiError);
    expect((err as GitHubApiError).retryable).toBe(retryable);
    expect(err.message).toMatch(/^create pull request: /);
  });

  it("keeps GitHub's wait: retry-after (seconds), or x-ratelimit-reset at the primary limit", () => {
    const secondary = classifyGitHubError(octokitError(403, { 'retry-after': '30' }), 'x') as GitHubApiError;
    expect(secondary.retryAfterMs).toBe(30_000);
    const reset = String(Math.floor(Date.now() / 1000) + 120);
    const primary = classifyGitHubError(
      octokitError(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset }),
      'x',
    ) as GitHubApiError;
    expect(primary.retryAfterMs).toBeGreaterThan(100_000);
    expect((classifyGitHubError(octokitError(404), 'x') as GitHubApiError).retryAfterMs).toBeUndefined();
  });
});
