/**
 * Installation tokens for git, cached until `refreshBeforeMs` before they expire, one request at a time per
 * installation. Tokens are minted by the caller's `mint` (the app's own octokit, so they follow the configured
 * API URL: GitHub Enterprise Server, the test double). Bounded: installations come and go.
 */
import { LRUCache } from 'lru-cache';
import type { Clock } from '../time/clock.js';

export interface MintedToken {
  readonly token: string;
  /** ISO 8601, as GitHub returns it. */
  readonly expiresAt: string;
}

export class InstallationTokens {
  private readonly cache: LRUCache<number, { token: string; expiresAt: number }>;
  private readonly pending = new Map<number, Promise<string>>();

  constructor(
    private readonly mint: (installationId: number) => Promise<MintedToken>,
    private readonly opts: {
      readonly clock: Pick<Clock, 'now'>;
      readonly refreshBeforeMs?: number;
      readonly max?: number;
      /** Called with every new token (e.g. to scrub it from logs). */
      readonly onToken?: (token: string) => void;
    },
  ) {
    this.cache = new LRUCache({ max: opts.max ?? 10_000 });
  }

  async get(installationId: number): Promise<string> {
    const hit = this.cache.get(installationId);
    if (hit && hit.expiresAt - this.opts.clock.now() > (this.opts.refreshBeforeMs ?? 5 * 60_000))
      return hit.token;
    const inFlight = this.pending.get(installationId);
    if (inFlight) return inFlight;
    const p = this.mint(installationId)
      .then(({ token, expiresAt }) => {
        this.cache.set(installationId, { token, expiresAt: Date.parse(expiresAt) });
        this.opts.onToken?.(token);
        return token;
      })
      .finally(() => this.pending.delete(installationId));
    this.pending.set(installationId, p);
    return p;
  }

  forget(installationId: number): void {
    this.cache.delete(installationId);
  }
}
