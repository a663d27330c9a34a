import { describe, expect, it } from 'vitest';
import { InstallationTokens } from '../../src/github/installation-tokens.js';
import { gate } from '../support/wait.js';

describe('installation tokens', () => {
  it('reuses a token until five minutes before it expires, then mints a new one', async () => {
    let now = Date.parse('2026-12-03T10:00:00Z');
    const minted: number[] = [];
    const tokens = new InstallationTokens(
      async (id) => {
        minted.push(id);
        return { token: `t${minted.length}`, expiresAt: '2026-12-03T11:00:00Z' };
      },
      { clock: { now: () => now } },
    );
    expect(await tokens.get(7)).toBe('t1');
    now = Date.parse('2026-12-03T10:54:59Z');
    expect(await tokens.get(7)).toBe('t1');
    now = Date.parse('2026-12-03T10:55:00Z');
    expect(await tokens.get(7)).toBe('t2');
    expect(minted).toEqual([7, 7]);
  });

  it('concurrent requests for one installation share one mint; forget() drops the token', async () => {
    const release = gate();
    let mints = 0;
    const seen: string[] = [];
    const tokens = new InstallationTokens(
      async () => {
        mints++;
        await release.promise;
        return { token: `t${mints}`, expiresAt: '2099-01-01T00:00:00Z' };
      },
      { clock: { now: () => 0 }, onToken: (t) => seen.push(t) },
    );
    const both = Promise.all([tokens.get(1), tokens.get(1)]);
    release.open();
    expect(await both).toEqual(['t1', 't1']);
    expect(mints).toBe(1);
    tokens.forget(1);
    expect(await tokens.get(1)).toBe('t2');
    expect(seen).toEqual(['t1', 't2']);
  });

  it('is bounded', async () => {
    let mints = 0;
    const tokens = new InstallationTokens(
      async () => ({ token: `t${++mints}`, expiresAt: '2099-01-01T00:00:00Z' }),
      { clock: { now: () => 0 }, max: 2 },
    );
    for (const id of [1, 2, 3]) await tokens.get(id);
    await tokens.get(1); // evicted, minted again
    expect(mints).toBe(4);
  });
});
